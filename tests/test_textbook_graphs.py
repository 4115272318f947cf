"""The textbook's computational graphs, reproduced by the runnable examples (book layers and tensors)."""
from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, capsys) -> tuple[dict, str]:
    results = runpy.run_path(str(EXAMPLES / f"{name}.py"))["main"]()
    return results, capsys.readouterr().out


def test_shopping_graph(capsys):
    results, out = run_example("shopping_graph", capsys)
    for way in ("by hand", "tensors"):
        apples = results[f"apples, {way}"]
        assert apples["price"] == pytest.approx(220)
        assert (apples["dapple"], apples["dapple_num"], apples["dtax"]) == pytest.approx((2.2, 110, 200))
        both = results[f"apples and oranges, {way}"]
        assert both["price"] == pytest.approx(715)
        assert [both[k] for k in ("dapple_num", "dapple", "dorange", "dorange_num", "dtax")] == pytest.approx(
            [110, 2.2, 3.3, 165, 650])
    assert "price=220  dapple=2.2  dapple_num=110  dtax=200" in out
    assert "dorange=3.3  dorange_num=165  dtax=650" in out


def test_cs231n_gates(capsys):
    results, out = run_example("cs231n_gates", capsys)
    for way in ("by hand", "tensors"):
        assert results[f"(x+y)z, {way}"] == pytest.approx(dict(f=-12, dx=-4, dy=-4, dz=3))
    gates = results["2(xy+max(z,w)), tensors"]
    assert gates == pytest.approx(dict(f=-20, dx=-8, dy=6, dz=2, dw=0))  # swap, swap, route, nothing
    assert "f=-12  dx=-4  dy=-4  dz=3" in out


def test_sigmoid_decomposed_equals_fused(capsys):
    results, out = run_example("sigmoid_graph", capsys)
    formula = results["y(1-y), formula"]
    for way in ("decomposed, by hand", "fused sigmoid, by hand", "decomposed, tensors"):
        assert results[way] == pytest.approx(formula, rel=1e-12)
    assert "dx=0.2350037122" in out
