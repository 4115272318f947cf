"""ONNX export and import: run graphgrad models anywhere ONNX runs, and bring ONNX models back.

    import graphgrad.onnx
    graphgrad.onnx.export(model, x, "model.onnx")          # one traced forward, in eval mode
    graphgrad.onnx.export_graph(loss_node, [x], "g.onnx")  # a static graph, inputs to a node
    net = graphgrad.onnx.load("model.onnx")                # a graphgrad Module: run, fine-tune, draw

Needs the optional `onnx` package (`pip install -e '.[onnx]'`, which also brings ONNX
Runtime for checking); importing graphgrad, or this package, does not import it.
"""
from .errors import ONNXError, UnsupportedOperatorError
from .export import EXPORTERS, MODULE_EXPORTERS, export, export_graph
from .load import IMPORTERS, ONNXModule, load

__all__ = [
    "EXPORTERS", "IMPORTERS", "MODULE_EXPORTERS", "ONNXError", "ONNXModule", "UnsupportedOperatorError",
    "export", "export_graph", "load",
]
