"""DOT text for a computational graph, and SVG/PNG through Graphviz's `dot` program.

Operations are circles, leaf tensors and outputs are boxes, edges run in data-flow direction
with the forward value above (green) and the gradient below (red), as in the textbook figures.
"""
from __future__ import annotations

import shutil
import subprocess
from html import escape
from pathlib import Path

from ..io import atomic_write
from .model import MAX_NODES, Edge, Node, VizGraph, build
from .summary import long_label, shape_text

VALUE_COLOR, GRAD_COLOR = "#1a7f37", "#cf222e"
FORMATS = ("svg", "png", "pdf")


def to_dot(output, show_values: bool = True, show_grads: bool = True, show_shapes: bool = True,
           max_nodes: int = MAX_NODES) -> str:
    """DOT text of the graph that computed `output` (a Tensor or a list of Tensors)."""
    graph = output if isinstance(output, VizGraph) else build(output, show_grads, max_nodes, "to_dot")
    lines = [
        "digraph graphgrad {",
        '  rankdir=LR; nodesep=0.5; ranksep=0.9;',
        '  node [fontname="Helvetica", fontsize=12]; edge [fontname="Helvetica", fontsize=10];',
    ]
    clusters: dict[str, list[str]] = {}
    for node in graph.nodes:
        lines.append(f"  {node.id} [{_node_attrs(node, show_shapes)}];")
        if node.group is not None:
            clusters.setdefault(node.group, []).append(node.id)
    for i, (name, members) in enumerate(clusters.items()):
        lines.append(f'  subgraph cluster_{i} {{ label=<{escape(name)}>; style="rounded,dashed"; '
                     f'color="#8c959f"; {"; ".join(members)}; }}')
    for edge in graph.edges:
        label = _edge_label(edge, graph, show_values, show_grads, show_shapes)
        attrs = f" [label=<{label}>]" if label else ""
        lines.append(f"  {edge.src} -> {edge.dst}{attrs};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node_attrs(node: Node, show_shapes: bool) -> str:
    text = escape(node.label)
    if node.kind == "op":
        shaped = show_shapes and node.value is not None and node.value["shape"]
        if not shaped and len(node.label) <= 4:
            return f'shape=circle, width=0.55, fixedsize=true, label=<{text}>, tooltip="{node.title}"'
        if shaped:
            text += f'<br/><font point-size="9">{escape(shape_text(node.value["shape"]))}</font>'
        return f'shape=box, style="rounded", label=<{text}>, tooltip="{node.title}"'
    if show_shapes and node.value is not None:
        text += f'<br/><font point-size="9">{escape(shape_text(node.value["shape"]))} {node.value["dtype"]}</font>'
    style = "filled" if node.kind != "const" else "dashed"
    fill = {"input": "#ddf4ff", "output": "#fff8c5", "const": "#ffffff"}[node.kind]
    return f'shape=box, style="{style}", fillcolor="{fill}", label=<{text}>'


def _edge_label(edge: Edge, graph: VizGraph, show_values: bool, show_grads: bool, show_shapes: bool) -> str:
    rows = []
    if show_values:
        value = long_label(edge.value) if show_shapes or not edge.value["shape"] else "…"
        if edge.name and edge.src.startswith("op"):
            value = f"{edge.name} = {value}"
        rows.append(f'<font color="{VALUE_COLOR}">{escape(value)}</font>')
    if show_grads and edge.grad is not None:
        rows.append(f'<font color="{GRAD_COLOR}">{escape(long_label(edge.grad))}</font>')
    return "<br/>".join(rows)


def render(output, path, show_values: bool = True, show_grads: bool = True, show_shapes: bool = True,
           max_nodes: int = MAX_NODES) -> Path:
    """Write the graph as SVG, PNG or PDF (by `path`'s suffix) with Graphviz's `dot`; returns the path."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ValueError(f"render: cannot tell the format from {path.name!r}; end the path in "
                         f"{', '.join('.' + f for f in FORMATS)} (or call to_dot() for DOT text)")
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            "render: Graphviz's `dot` program is not installed (or not on PATH); install it with "
            "`apt-get install graphviz` (or `brew install graphviz`, `conda install graphviz`), or "
            "write DOT text with graphgrad.viz.to_dot(), which needs nothing"
        )
    text = to_dot(output, show_values, show_grads, show_shapes, max_nodes)
    done = subprocess.run([dot, f"-T{fmt}"], input=text.encode(), capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"render: dot failed ({done.returncode}): {done.stderr.decode(errors='replace').strip()}")
    return atomic_write(path, done.stdout)  # never leave a half-written picture behind
