"""Pictures of computational graphs: DOT/SVG through Graphviz and a self-contained HTML explorer.

    import graphgrad.viz as viz
    viz.to_dot(loss)                  # DOT text: values above edges, gradients below
    viz.render(loss, "graph.svg")     # needs Graphviz's `dot` (apt-get install graphviz)
    viz.to_html(loss, "graph.html")   # step forward and backward in any browser, offline
"""
from .dot import render, to_dot
from .groups import group, group_of, record_modules
from .html import to_html
from .model import MAX_NODES, GraphTooLargeError, VizGraph, build

__all__ = [
    "to_dot", "render", "to_html", "build", "group", "group_of", "record_modules",
    "VizGraph", "GraphTooLargeError", "MAX_NODES",
]
