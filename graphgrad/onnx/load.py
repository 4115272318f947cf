"""Import: an ONNX file as a graphgrad Module whose forward interprets the graph with graphgrad ops.

Floating-point initializers become Parameters (so the model can be fine-tuned), except those
read only as settings (a BatchNormalization's running statistics, a Reshape's shape, ...), which
become buffers. Each ONNX operator is computed by its entry in `IMPORTERS` (importers.py).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..autograd.tensor import Tensor
from ..nn.module import Module
from ..nn.parameter import Parameter
from .errors import ONNXError, UnsupportedOperatorError, require
from .importers import IMPORTERS, SETTING_INPUTS

DEFAULT_DOMAINS = ("", "ai.onnx")


@dataclass
class ONNXNode:
    """One node of the graph: operator, input and output names, attributes as Python values."""

    op_type: str
    inputs: list
    outputs: list
    attrs: dict
    opset: int
    name: str = ""

    def where(self) -> str:
        return f"{self.op_type} node {self.name!r}" if self.name else f"{self.op_type} node"


class ONNXModule(Module):
    """A Module running an ONNX graph: `module(x)` gives the graph's output(s) as Tensors."""

    def __init__(self, model) -> None:
        super().__init__()
        onnx = require()
        graph = model.graph
        opset = next((o.version for o in model.opset_import if o.domain in DEFAULT_DOMAINS), None)
        if opset is None:
            raise ONNXError("ONNX import: the model imports no version of the default ONNX operator set")
        unsupported: dict[str, int] = {}
        for n in graph.node:
            key = n.op_type if n.domain in DEFAULT_DOMAINS else f"{n.domain}.{n.op_type}"
            if n.domain not in DEFAULT_DOMAINS or n.op_type not in IMPORTERS:
                unsupported[key] = unsupported.get(key, 0) + 1
        if unsupported:
            listed = ", ".join(f"{k} (x{c})" if c > 1 else k for k, c in sorted(unsupported.items()))
            raise UnsupportedOperatorError(
                f"ONNX import: unsupported operator{'s' if len(unsupported) > 1 else ''}: {listed}; "
                f"graphgrad.onnx.IMPORTERS lists the {len(IMPORTERS)} supported ones"
            )
        attr = onnx.helper.get_attribute_value
        self.nodes = [ONNXNode(n.op_type, list(n.input), list(n.output),
                               {a.name: _attribute(onnx, attr(a)) for a in n.attribute}, opset, n.name)
                      for n in graph.node]
        settings_only = _settings_only(self.nodes)
        for init in graph.initializer:
            array = onnx.numpy_helper.to_array(init).copy()
            if np.issubdtype(array.dtype, np.floating) and init.name not in settings_only:
                self._parameters[init.name] = Parameter(array)
            else:
                self._buffers[init.name] = array
        known = set(self._parameters) | set(self._buffers)
        self.input_specs = [(i.name, _elem_dtype(onnx, i), _dims(i)) for i in graph.input if i.name not in known]
        self.output_names = [o.name for o in graph.output]
        self.opset = opset

    def forward(self, *inputs):
        if len(inputs) != len(self.input_specs):
            names = ", ".join(name for name, _, _ in self.input_specs)
            raise ONNXError(f"ONNXModule: the graph takes {len(self.input_specs)} input(s) ({names}), got {len(inputs)}")
        env: dict[str, Tensor | None] = {"": None}
        env.update(self._parameters)
        env.update({k: Tensor(v) for k, v in self._buffers.items()})
        for (name, dtype, dims), x in zip(self.input_specs, inputs):
            env[name] = _checked_input(name, dtype, dims, x)
        for node in self.nodes:
            try:
                args = [env[name] for name in node.inputs]
            except KeyError as err:
                raise ONNXError(f"ONNXModule: {node.where()} reads {err.args[0]!r}, which nothing computes") from None
            out = IMPORTERS[node.op_type](node, *args)
            outs = out if isinstance(out, tuple) else (out,)
            for name, value in zip(node.outputs, outs):
                env[name] = value
        results = tuple(env[name] for name in self.output_names)
        return results[0] if len(results) == 1 else results

    def extra_repr(self) -> str:
        inputs = ", ".join(f"{n}: {_dims_text(d)} {t}" for n, t, d in self.input_specs)
        return f"{len(self.nodes)} nodes, opset {self.opset}, inputs {inputs}"


def load(source) -> ONNXModule:
    """Build an ONNXModule from an ONNX file path, its bytes, or an `onnx.ModelProto`."""
    onnx = require()
    what = "ONNX model"
    if isinstance(source, onnx.ModelProto):
        model = source
    else:
        try:
            if isinstance(source, (bytes, bytearray)):
                model = onnx.load_model_from_string(bytes(source))
            else:
                what = os.fspath(source)
                model = onnx.load(what)
        except FileNotFoundError:
            raise ONNXError(f"ONNX import: no such file {what!r}") from None
        except Exception as err:  # protobuf decode errors: truncated or not ONNX at all
            raise ONNXError(f"ONNX import: {what} is not a readable ONNX model ({type(err).__name__}: {err})") from None
    if not model.HasField("graph") or not model.graph.output or not model.opset_import:
        raise ONNXError(f"ONNX import: {what} is not an ONNX model (it has no graph outputs or operator set)")
    try:
        onnx.checker.check_model(model)
    except Exception as err:
        raise ONNXError(f"ONNX import: {what} is not a valid ONNX model ({err})") from None
    return ONNXModule(model)


def _settings_only(nodes: list[ONNXNode]) -> set[str]:
    """Names used only as settings (positions in SETTING_INPUTS): their initializers are buffers."""
    as_setting, as_data = set(), set()
    for node in nodes:
        positions = SETTING_INPUTS.get(node.op_type, ())
        for i, name in enumerate(node.inputs):
            (as_setting if i in positions else as_data).add(name)
    return as_setting - as_data


def _attribute(onnx, value):
    """Attribute values as Python/NumPy values (tensors as arrays, strings decoded)."""
    if isinstance(value, onnx.TensorProto):
        return onnx.numpy_helper.to_array(value)
    if isinstance(value, bytes):
        return value.decode()
    return value


def _elem_dtype(onnx, value_info) -> np.dtype:
    return np.dtype(onnx.helper.tensor_dtype_to_np_dtype(value_info.type.tensor_type.elem_type))


def _dims(value_info) -> tuple | None:
    """Declared sizes: an int for a fixed one, a name (or None) for a free one; None when no shape is given."""
    t = value_info.type.tensor_type
    if not t.HasField("shape"):
        return None
    return tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in t.shape.dim)


def _dims_text(dims) -> str:
    if dims is None:
        return "(any shape)"
    return "(" + ", ".join(str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"


def _checked_input(name: str, dtype: np.dtype, dims, x) -> Tensor:
    """`x` as a Tensor of the declared dtype and shape, or a clear error."""
    if not isinstance(x, Tensor):
        x = Tensor(np.asarray(x, dtype=dtype) if not isinstance(x, np.ndarray) else x)
    if x.dtype != dtype:
        raise ONNXError(f"ONNXModule: input {name!r} must have dtype {dtype}, got {x.dtype}; convert it with .astype('{dtype}')")
    if dims is not None:
        fixed = [(d, n) for d, n in zip(dims, x.shape) if isinstance(d, int) and d > 0]
        if len(dims) != x.ndim or any(d != n for d, n in fixed):
            raise ONNXError(f"ONNXModule: input {name!r} must have shape {_dims_text(dims)}, got {x.shape}")
    return x
