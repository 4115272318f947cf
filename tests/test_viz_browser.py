"""The HTML explorer in a real headless Chromium, driven by Playwright (tests/browser/drive.mjs).

Needs `chromium` (apt-get install chromium), Node and `playwright-core`
(cd tests/browser && npm install); .ci/run installs all three. Screenshots are written to
test-artifacts/viz/.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import viz
from graphgrad.viz.examples import EXAMPLES
from graphgrad.viz.summary import shape_text

HERE = Path(__file__).parent / "browser"
ARTIFACTS = Path(__file__).parent.parent / "test-artifacts" / "viz"


@pytest.fixture(scope="module")
def drive():
    """A function that opens a page in Chromium and returns the driver's report."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    node = shutil.which("node")
    if chromium is None:
        pytest.skip("Chromium is not installed: apt-get install chromium")
    if node is None or not (HERE / "node_modules" / "playwright-core").is_dir():
        pytest.skip("Node's playwright-core is not installed: cd tests/browser && npm install")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def run(page: Path, *flags: str, shot: str | None = None) -> dict:
        report = page.with_suffix(".json")
        cmd = [node, str(HERE / "drive.mjs"), str(page), str(report)]
        if shot:
            cmd.append(str(ARTIFACTS / shot))
        done = subprocess.run(cmd + list(flags), capture_output=True, text=True, timeout=120,
                              env={**os.environ, "CHROMIUM": chromium})
        assert done.returncode == 0, done.stderr
        return json.loads(report.read_text())

    return run


def edge_text(s: dict) -> str:
    """What the page writes on an edge, its lines joined by spaces: the numbers of an array of up
    to six (a matrix one row a line, a long row three numbers a line), else its shape and the
    range of its picture's colour scale."""
    if "pic" in s:
        pic = s["pic"]
        scale = f"±{pic['hi']}" if pic["scale"] == "diverging" else f"{pic['lo']}…{pic['hi']}"
        return f"{shape_text(s['shape'])} {scale}"
    lines = []
    for line in s.get("lines", [s["label"]]):
        if len(line) <= 30:
            lines.append(line)
            continue
        parts = line.split(", ")
        lines += [", ".join(parts[i:i + 3]) + ("," if i + 3 < len(parts) else "") for i in range(0, len(parts), 3)]
    return " ".join(lines)


def _page(tmp_path: Path, name: str, output, **kw) -> Path:
    return viz.to_html(output, tmp_path / f"{name}.html", **kw)


def test_apple_steps_forward_then_backward(drive, tmp_path):
    r = drive(_page(tmp_path, "apple", EXAMPLES["apple"]()), "--hover", "op0", shot="apple.png")
    assert r["console_errors"] == [] and r["requests"] == []
    steps = r["steps"]
    assert [s["phase"] for s in steps] == ["forward"] * 3 + ["backward"] * 3
    assert [s["current"] for s in steps] == [["in0", "in1", "in2"], ["op0"], ["op1"], ["out0"], ["op1"], ["op0"]]
    # e0 apple, e1 apple_num -> op0; e2 apple_price op0 -> op1; e3 tax -> op1; e4 price -> output
    assert steps[0]["values"] == {"e0": "100", "e1": "2", "e3": "1.1"} and steps[0]["grads"] == {}
    assert steps[1]["values"]["e2"] == "200" and "e4" not in steps[1]["values"]
    assert steps[2]["values"]["e4"] == "220"
    assert steps[3]["grads"] == {"e4": "1"}
    assert steps[4]["grads"] == {"e4": "1", "e2": "1.1", "e3": "200"}
    assert "local 200 × upstream 1 = 200" in steps[4]["info"]
    assert steps[5]["grads"] == {"e4": "1", "e2": "1.1", "e3": "200", "e0": "2.2", "e1": "110"}
    assert "local 2 × upstream 1.1 = 2.2" in steps[5]["info"]
    assert r["after_back"] == 4
    assert "Mul" in r["hover"] and "output: 200" in r["hover"] and "gradient: 1.1" in r["hover"]
    assert (ARTIFACTS / "apple.png").stat().st_size > 10_000


@pytest.mark.parametrize("name", ["apple-orange", "cs231n-gates", "sigmoid", "two-layer-net", "nn-mlp"])
def test_every_example_steps_in_topological_order(drive, tmp_path, name):
    out = EXAMPLES[name]()
    graph = viz.build(out)
    r = drive(_page(tmp_path, name, out), shot=f"{name}.png")
    assert r["console_errors"] == [] and r["requests"] == []
    assert len(r["steps"]) == len(graph.steps)
    folded = {n.id: f"group:{n.group}" if n.group else n.id for n in graph.nodes}
    for seen, step in zip(r["steps"], graph.steps):
        assert seen["node"] == step.node and seen["phase"] == step.phase
        if step.node.startswith("op"):
            assert seen["current"] == [folded[step.node]]
    # at the end every edge that is drawn shows its value and its gradient, as the model says
    last = r["steps"][-1]
    for e in graph.edges:
        inside = folded[e.src] == folded[e.dst]  # an edge inside a folded group is not drawn
        if not inside:
            assert last["values"][e.id] == edge_text(e.value)
            if e.grad is not None:
                assert e.id in last["grads"]


def test_a_folded_layer_expands_to_matmul_and_add(drive, tmp_path):
    r = drive(_page(tmp_path, "net", EXAMPLES["two-layer-net"]()), "--no-steps", "--expand", "Affine1",
              shot="two-layer-net-affine1.png")
    assert r["console_errors"] == []
    assert "group:Affine1" in r["nodes_before"] and "op0" not in r["nodes_before"]
    assert {"op0", "op1"} <= set(r["nodes_after"]) and "group:Affine1" not in r["nodes_after"]
    assert "group:Affine2" in r["nodes_after"]  # the other layers stay folded


def test_a_500_op_graph_opens_in_under_two_seconds(drive, tmp_path):
    rng = np.random.default_rng(0)
    vals = [gg.tensor(rng.normal(size=3), dtype="float64", requires_grad=True) for _ in range(8)]
    for i in range(499):
        a, b = vals[rng.integers(len(vals))], vals[-1]
        vals.append((a * b, a + b, gg.tanh(b), a - b)[i % 4])
    out = vals[-1].sum()
    page = _page(tmp_path, "ops500", out, fold_groups=False)
    r = drive(page, "--no-steps", shot="ops500.png")
    assert r["console_errors"] == [] and r["requests"] == []
    assert r["nodes_drawn"] >= 500
    assert r["load_ms"] < 2000, r["load_ms"]


def test_an_nn_linear_box_expands_and_steps_matmul_then_add(drive, tmp_path):
    loss = EXAMPLES["nn-mlp"]()
    graph = viz.build(loss)
    r = drive(_page(tmp_path, "mlp", loss), "--expand", "0 (Linear)", "--hover", "op0_matmul",
              shot="nn-mlp-linear-expanded.png")
    assert r["console_errors"] == [] and r["requests"] == []
    assert "group:0 (Linear)" in r["nodes_before"] and "op0_matmul" not in r["nodes_before"]
    assert {"op0_matmul", "op0_add"} <= set(r["nodes_after"]) and "group:2 (Linear)" in r["nodes_after"]
    steps = r["steps"]
    order = [(s["phase"], s["node"]) for s in steps]
    fwd = ["op0_matmul", "op0_add", "op1", "op2_matmul", "op2_add", "op3", "op4", "op5"]
    assert order == [("forward", "inputs")] + [("forward", n) for n in fwd] + [("backward", "outputs")] + [
        ("backward", n) for n in reversed(fwd)]
    # the open box shows each step at its own node; the folded one highlights its box for both
    current = {(s["phase"], s["node"]): s["current"] for s in steps}
    assert current["forward", "op0_matmul"] == ["op0_matmul"] and current["forward", "op0_add"] == ["op0_add"]
    assert current["backward", "op2_add"] == current["backward", "op2_matmul"] == ["group:2 (Linear)"]

    z = next(e for e in graph.edges if e.src == "op0_matmul" and e.dst == "op0_add")
    b = next(e for e in graph.edges if e.dst == "op0_add" and e.index == 1)
    w = next(e for e in graph.edges if e.dst == "op0_matmul" and e.index == 1)
    at = {key: i for i, key in enumerate(order)}
    # forward: z = x @ Wᵀ appears when @ runs, not before; the bias was there from the start
    assert z.id not in steps[at["forward", "inputs"]]["values"] and b.id in steps[0]["values"]
    # four numbers, written out one row a line
    assert steps[at["forward", "op0_matmul"]]["values"][z.id] == "[0.7406, -0.9684] [0.2861, 0.1713]"
    assert "output: [0.7406, -0.9684, 0.2861, 0.1713]" in steps[at["forward", "op0_matmul"]]["info"]
    assert "output: [0.8637, -0.7034, 0.4092, 0.4363]" in steps[at["forward", "op0_add"]]["info"]
    # backward: + hands g to z and Σg to the bias, then @ hands gᵀ @ x to the weight
    before, add, mm = (steps[at["backward", n]] for n in ("op1", "op0_add", "op0_matmul"))
    assert z.id not in before["grads"] and b.id not in before["grads"]
    assert add["grads"][z.id] == edge_text(z.grad) and add["grads"][b.id] == b.grad["label"] == "[0.07652, 1.071]"
    assert w.id not in add["grads"] and w.id in mm["grads"]
    assert "∂/∂z = g: [-0.03085, 0, 0.1074, 1.071]" in add["info"] and "∂/∂0.bias = Σₙ g: [0.07652, 1.071]" in add["info"]
    assert "∂/∂0.weight = gᵀ @ x: [-0.1351, -0.006899, -0.05169, -1.334, -0.7841, -0.5828]" in mm["info"]
    assert "z = x @ Wᵀ" in r["hover"] and "in 0 (Linear)" in r["hover"]
