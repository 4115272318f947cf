"""Emitter: collects ONNX nodes, initializers and constants (built with `onnx.helper`) for export.

Exporters call it to name values and add nodes. Parameters become initializers (the weights a
runtime or an importer may train); other constants become `Constant` nodes, so that an importer
can tell weights from fixed numbers.
"""
from __future__ import annotations

import numpy as np

from .errors import ONNXError
from .trace import Op, Value


class Emitter:
    """Build the node list of one ONNX graph; `onnx` is the imported package, `opset` the target."""

    def __init__(self, onnx, opset: int):
        self.onnx, self.helper, self.opset = onnx, onnx.helper, opset
        self.nodes: list = []
        self.initializers: list = []
        self.current: Op | None = None  # the op being exported, for error messages
        self._names: dict[int, str] = {}  # id(Value) -> ONNX name
        self._arrays: dict[int, str] = {}  # id(array) -> initializer name (a weight used twice is stored once)
        self._taken: set[str] = set()

    def unique(self, hint: str) -> str:
        """A name not used yet in this graph, made from `hint`."""
        name, i = hint or "value", 1
        while name in self._taken:
            name, i = f"{hint}_{i}", i + 1
        self._taken.add(name)
        return name

    def bind(self, value: Value, name: str) -> str:
        """Give `value` the ONNX name `name` (graph inputs and outputs)."""
        self._names[id(value)] = name
        self._taken.add(name)
        return name

    def is_named(self, value: Value) -> bool:
        """True once `value` has an ONNX name."""
        return id(value) in self._names

    def name(self, value: Value) -> str:
        """The ONNX name of `value`, writing its initializer or Constant node on first use."""
        name = self._names.get(id(value))
        if name is not None:
            return name
        if value.role == "param":
            name = self.initializer(value.array, value.name or "param")
        elif value.role == "const":
            if value.varies:
                where = self.current.where() if self.current else "an op"
                raise ONNXError(
                    f"export: {where} uses a constant of shape {value.shape} computed from the input's "
                    f"values or batch size (it changed when the input did), which a file cannot recompute; "
                    f"compute it with graphgrad ops on the input, or add a module exporter to "
                    f"graphgrad.onnx.MODULE_EXPORTERS"
                )
            name = self.constant(value.array)
        else:
            kind = self.current.kind if self.current else "value"
            name = self.unique(kind)
        self._names[id(value)] = name
        return name

    def inputs(self, op: Op) -> list[str]:
        """The ONNX names of `op`'s inputs."""
        return [self.name(v) for v in op.inputs]

    def cast(self, value: Value, dtype) -> str:
        """The name of `value`, through a Cast node when its dtype is not `dtype`."""
        name = self.name(value)
        if np.dtype(value.dtype) == np.dtype(dtype):
            return name
        return self.node("Cast", [name], to=self.tensor_type(dtype))

    def out(self, op: Op) -> str:
        """The ONNX name of `op`'s output."""
        return self.name(op.output)

    def initializer(self, array: np.ndarray, hint: str) -> str:
        """A weight stored in the file under (a unique form of) `hint`; the same array is stored once."""
        name = self._arrays.get(id(array))
        if name is None:
            name = self._arrays[id(array)] = self.unique(hint)
            self.initializers.append(self.onnx.numpy_helper.from_array(np.array(array, order="C"), name))
        return name

    def constant(self, array, dtype=None, hint: str = "const") -> str:
        """A Constant node holding `array` (cast to `dtype` when given)."""
        arr = np.array(array, dtype=dtype, order="C")  # (np.ascontiguousarray would make a 0-d array 1-d)
        name = self.unique(hint)
        tensor = self.onnx.numpy_helper.from_array(arr, name + "_value")
        self.nodes.append(self.helper.make_node("Constant", [], [name], value=tensor))
        return name

    def ints(self, values, hint: str = "shape") -> str:
        """A 1-D int64 Constant (shapes, axes, indices)."""
        return self.constant(np.asarray(list(values), dtype=np.int64), hint=hint)

    def node(self, op_type: str, inputs: list[str], output: str | None = None, **attrs) -> str:
        """Add one node; returns its output's name (a fresh one unless `output` is given)."""
        output = output or self.unique(op_type)
        self.nodes.append(self.helper.make_node(op_type, inputs, [output], name=self.unique(f"{op_type}_node"), **attrs))
        return output

    def reduce(self, op_type: str, x: str, axes: list[int], keepdims: bool, output: str | None = None) -> str:
        """A Reduce* node: axes as an input from opset 18 (ReduceSum: 13), as an attribute before."""
        if not axes:
            return self.node("Identity", [x], output)
        if self.opset >= (13 if op_type == "ReduceSum" else 18):
            return self.node(op_type, [x, self.ints(axes, "axes")], output, keepdims=int(keepdims))
        return self.node(op_type, [x], output, axes=list(axes), keepdims=int(keepdims))

    def axes_input(self, op_type: str, x: str, axes: list[int], output: str | None = None) -> str:
        """Unsqueeze/Squeeze: axes as an input from opset 13."""
        return self.node(op_type, [x, self.ints(axes, "axes")], output)

    def tensor_type(self, dtype) -> int:
        """ONNX's element-type code for a NumPy dtype."""
        return self.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
