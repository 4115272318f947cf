"""The interactive explorer: one self-contained HTML file, no network, graphgrad's own layout and script.

The page embeds the graph as JSON (values and gradients already summarised, so a 784-50-10
training step stays small) plus `explorer.js` and `explorer.css`, which ship beside this module.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from html import escape
from importlib import resources
from pathlib import Path

from ..io import atomic_write
from .model import MAX_NODES, VizGraph, build


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>{title} · graphgrad</title>
<style>
{css}
</style>
</head>
<body>
<header>
  <h1>{title}</h1>
  <button id="first" title="first step (Home)">|◀ start</button>
  <button id="prev" title="previous step (←)">◀ back</button>
  <span id="counter"></span>
  <button id="next" title="next step (→)">next ▶</button>
  <button id="last" title="last step (End)">end ▶|</button>
  <button id="fit" title="fit the graph to the window">fit</button>
  <button id="fold" title="fold every group into one box">fold groups</button>
  <button id="unfold" title="expand every group">expand groups</button>
  <span class="legend"><span class="v">value</span> above each edge · <span class="g">gradient</span> below</span>
</header>
<main>
  <div id="canvas"></div>
  <aside>
    <div id="note" hidden></div>
    <h2>Step</h2>
    <div id="step-info"></div>
    <h2>Node</h2>
    <div id="details"><span class="hint">Hover or click a node for its op, shapes, value and gradient.</span></div>
    <p class="hint">← → step through forward, then backward · Home/End · wheel zooms, drag pans ·
    click a folded group to expand it · hover a picture for its numbers.</p>
  </aside>
</main>
<script type="application/json" id="graph-data">{data}</script>
<script>
{js}
</script>
</body>
</html>
"""


def to_html(output, path, title: str | None = None, show_grads: bool = True,
            max_nodes: int = MAX_NODES, fold_groups: bool = True) -> Path:
    """Write the explorer for the graph of `output` (a Tensor, a list of them, or a VizGraph) to `path`."""
    graph = output if isinstance(output, VizGraph) else build(output, show_grads, max_nodes, "to_html")
    path = Path(path)
    text = html_text(graph, title or path.stem, fold_groups)
    return atomic_write(path, text)  # a reader never sees half a page


def html_text(graph: VizGraph, title: str, fold_groups: bool = True) -> str:
    """The explorer page for `graph` as a string."""
    payload = {
        "title": title,
        "note": graph.note,
        # groups (modules, layers) open folded by default: one box each, expanded by a click
        "fold_groups": fold_groups,
        "nodes": [asdict(n) for n in graph.nodes],
        "edges": [_edge(e) for e in graph.edges],
        "steps": [asdict(s) for s in graph.steps],
    }
    # "</" inside the JSON would end the script element early
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    files = resources.files(__package__)
    return PAGE.format(
        title=escape(title), data=data,
        css=files.joinpath("explorer.css").read_text(encoding="utf-8"),
        js=files.joinpath("explorer.js").read_text(encoding="utf-8"),
    )


def _edge(e) -> dict:
    d = asdict(e)
    d["fwd"], d["bwd"] = d.pop("fwd_step"), d.pop("bwd_step")
    return d
