"""Every ```python block in README.md and docs/**/*.md runs as shown.

The blocks of one page run in order in one namespace (a later block may use an earlier one's
names), in a scratch directory so that files they write land there. A block preceded by an HTML
comment `<!-- skip: REASON -->` is not run; the reason is reported. New pages are picked up
automatically. A block preceded by `<!-- needs: MNIST -->` runs when MNIST is already on this
machine (the cache or $GRAPHGRAD_DATA) and is reported as not run otherwise: the test never
downloads it.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^(?:<!--\s*(?P<kind>skip|needs):\s*(?P<reason>.*?)\s*-->\s*\n)?```python[^\n]*\n(?P<code>.*?)^```\s*$",
                   re.M | re.S)


def pages() -> list[Path]:
    """README.md and every Markdown page under docs/."""
    return [ROOT / "README.md"] + sorted((ROOT / "docs").rglob("*.md"))


def blocks(page: Path) -> list[tuple[int, str, str | None]]:
    """(line number, code, why it is not run or None) of each ```python block of `page`."""
    text = page.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start("code")) + 1, m["code"], _not_run(m["kind"], m["reason"]))
            for m in FENCE.finditer(text)]


def _not_run(kind: str | None, what: str | None) -> str | None:
    if kind == "skip":
        return what
    if kind == "needs":
        if what != "MNIST":
            raise ValueError(f"<!-- needs: {what} -->: the only resource a block may need is MNIST")
        return None if _mnist_here() else "MNIST is not on this machine (no cache, no $GRAPHGRAD_DATA, or only a stand-in)"
    return None


def _mnist_here() -> bool:
    from graphgrad.datasets import DatasetUnavailable, load_arrays

    try:
        mnist = load_arrays("mnist", download=False, quiet=True)
    except DatasetUnavailable:
        return False
    # the real set, not a small stand-in some run left in the cache (a block's accuracy would fail on it)
    return mnist["x_train"].shape == (60000, 28, 28) and mnist["x_test"].shape == (10000, 28, 28)


def test_the_pages_have_blocks_to_run():
    assert sum(len(blocks(p)) for p in pages()) >= 14


@pytest.mark.parametrize("page", [p for p in pages() if blocks(p)], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_python_block_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": "__docs__"}
    skipped = []
    for line, code, reason in blocks(page):
        if reason is not None:
            skipped.append(f"line {line}: {reason}")
            continue
        try:
            exec(compile(code, f"{page.relative_to(ROOT)}:{line}", "exec"), namespace)
        except Exception as err:
            raise AssertionError(f"{page.relative_to(ROOT)}, the block at line {line} fails: "
                                 f"{type(err).__name__}: {err}") from err
    if skipped:
        print(f"{page.name}: not run: " + "; ".join(skipped))
