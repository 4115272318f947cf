"""Tracing: one forward pass of a model (or a static graph) as a flat list of ops over named values.

Eager models are traced by running them on inputs that require grad, so every op that depends on
an input is recorded, and walking the recorded graph back from the outputs (the engine's own
`topological_order`). Values that do not depend on an input were computed once, as constants.

Export then needs to know which recorded numbers hold for every input. So the model runs twice,
the second time on inputs whose dynamic axes are one longer and whose values differ: an op
setting that changes between the runs (a reshape's target) follows the batch size, and a
constant that changes was computed from the input's data (or drawn at random), which no static
file can reproduce, so export refuses to write it (a module exporter may replace the ops that use
it, as LeakyReLU's does for its slope mask).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..autograd.engine import topological_order
from ..autograd.function import Function
from ..autograd.mode import enable_grad
from ..autograd.tensor import Tensor
from ..nn.module import Module
from ..viz.groups import group_of, label_of, record_modules
from .errors import ONNXError


@dataclass(eq=False)
class Value:
    """A tensor of the traced graph: an input, a parameter, a constant, or an op's output."""

    role: str  # "input", "param", "const" or "op"
    shape: tuple
    dtype: np.dtype
    name: str = ""
    array: np.ndarray | None = None  # the data of a parameter or constant
    twin_shape: tuple | None = None  # the shape in the second run (None when there was none)
    dynamic: dict = field(default_factory=dict)  # input/output axis -> symbolic name
    varies: bool = False  # a constant that changed with the input: export refuses to write it


@dataclass(eq=False)
class Op:
    """One recorded operation: its Function (class name and settings), its inputs and its output."""

    kind: str
    fn: Function
    inputs: list
    output: Value
    module: str | None = None  # "fc1 (Linear)": the innermost module that recorded it
    twin: Function | None = None  # the same op in the second run
    node: str | None = None  # the static-graph node it came from

    def where(self) -> str:
        """`Linear (in module fc1 (Linear))` or `Add (node 'Add:3')`, for error messages."""
        if self.module:
            return f"{self.kind} (in module {self.module})"
        return self.kind + (f" (node {self.node!r})" if self.node else "")


@dataclass
class Trace:
    """The ops in order (each after the producers of its inputs), the graph's inputs and outputs."""

    ops: list
    inputs: list
    outputs: list
    modules: dict = field(default_factory=dict)  # module label -> (path, Module), for module exporters


def module_label(path: str, module, root) -> str:
    """The group name `viz.record_modules` gives the ops of a sub-module."""
    return f"{path} ({type(module).__name__})" if path else type(root).__name__


def trace_model(model, examples: list, dynamic: list[dict]) -> Trace:
    """Trace `model(*examples)` in eval mode; `dynamic[i]` maps input i's dynamic axes to names."""
    was_training = getattr(model, "training", False)
    if isinstance(model, Module):
        model.eval()
    try:
        first = _run(model, examples)
        second = _run(model, _other_batch(examples, dynamic))
    finally:
        if isinstance(model, Module):
            model.train(was_training)
    trace = _pair(first, second)
    for value, axes in zip(trace.inputs, dynamic):
        value.dynamic = dict(axes)
    if isinstance(model, Module):
        trace.modules = {module_label(p, m, model): (p, m) for p, m in model.named_modules()}
    return trace


def _run(model, examples) -> Trace:
    """One traced forward pass (each op tagged with the module that recorded it)."""
    arrays = [np.array(x, copy=True) for x in examples]  # integer inputs (embedding indices) carry no gradient
    inputs = [Tensor(a, requires_grad=bool(np.issubdtype(a.dtype, np.floating))) for a in arrays]
    with enable_grad():
        if isinstance(model, Module):
            with record_modules(model):
                out = model(*inputs)
        else:
            out = model(*inputs)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    if not outs or not all(isinstance(t, Tensor) for t in outs):
        raise ONNXError(f"export: the model must return a Tensor (or a tuple of them), got {type(out).__name__}")
    params = {id(p) for p in model.parameters()} if isinstance(model, Module) else set()
    values: dict[int, Value] = {}
    for t in inputs:
        values[id(t)] = Value("input", t.shape, t.dtype)

    def value_of(t: Tensor) -> Value:
        v = values.get(id(t))
        if v is None:  # a leaf that is not an input: a parameter, or a constant the model computed
            is_param = id(t) in params or t.requires_grad
            v = values[id(t)] = Value("param" if is_param else "const", t.shape, t.dtype,
                                      name=(label_of(t) or "") if is_param else "", array=t.data)
        return v

    ops = []
    for fn in topological_order(outs):
        if len(fn.outputs) != 1:
            raise ONNXError(f"export: {type(fn).__name__} has {len(fn.outputs)} outputs; only one-output ops export")
        y = fn.outputs[0]()
        if y is None:
            raise ONNXError(f"export: the output of {type(fn).__name__} was freed during tracing")
        args = [value_of(t) for t in fn.inputs]
        values[id(y)] = Value("op", y.shape, y.dtype)
        ops.append(Op(type(fn).__name__, fn, args, values[id(y)], group_of(fn)))
    for t in outs:
        if t.creator is None and id(t) not in values:
            value_of(t)
    return Trace(ops, [values[id(t)] for t in inputs], [values[id(t)] for t in outs])


def _other_batch(examples: list, dynamic: list[dict]) -> list:
    """Inputs one longer along each dynamic axis (the first slice repeated), with other values."""
    out = []
    for x, axes in zip(examples, dynamic):
        x = np.asarray(x)
        for axis in axes:
            x = np.concatenate([x, np.take(x, [0], axis=axis)], axis=axis)
        out.append(x * 1.25 + 0.125 if np.issubdtype(x.dtype, np.floating) else x)
    return out


def _pair(first: Trace, second: Trace) -> Trace:
    """Attach the second run to the first, marking the constants that depend on the input."""
    if [op.kind for op in first.ops] != [op.kind for op in second.ops]:
        raise ONNXError(
            "export: the model records different ops for inputs of another batch size or other values "
            "(data-dependent control flow); only models whose graph is the same for every input export"
        )
    for a, b in zip(first.ops, second.ops):
        a.twin = b.fn
        a.output.twin_shape = b.output.shape
        for va, vb in zip(a.inputs, b.inputs):
            va.twin_shape = vb.shape
            if va.role == "const" and (va.shape != vb.shape or not np.array_equal(va.array, vb.array)):
                va.varies = True
    for va, vb in zip(first.inputs, second.inputs):
        va.twin_shape = vb.shape
    for va, vb in zip(first.outputs, second.outputs):
        va.twin_shape = vb.shape
    return first


def trace_graph(output, inputs: list) -> Trace:
    """Trace a static graph from its input Variables to `output` (an Operation node)."""
    from ..graph.node import Operation, Variable

    output.forward()
    values: dict[int, Value] = {}
    for node in inputs:
        if not isinstance(node, Variable):
            raise ONNXError(f"export_graph: inputs must be Variables, got {node!r}")
        shape = tuple(node.shape)
        values[id(node)] = Value("input", shape, node.value.dtype, name=node.name,
                                 dynamic={a: "batch" if a == 0 else f"dim{a}"
                                          for a, n in enumerate(node.declared_shape) if n is None})
    ops = []
    for node in output.graph.order(output):
        if id(node) in values:
            continue
        if isinstance(node, Operation):
            args = [values[id(p)] for p in node.parents]
            values[id(node)] = Value("op", node.value.shape, node.value.dtype)
            ops.append(Op(node.op_name, node.function, args, values[id(node)], node=node.name))
            continue
        if node.value is None or None in getattr(node, "declared_shape", ()):
            raise ONNXError(
                f"export_graph: variable {node.name!r} feeds {output.name!r} but is not among the inputs; "
                f"list it in inputs=[...]"
            )
        role = "param" if node.trainable else "const"
        values[id(node)] = Value(role, node.value.shape, node.value.dtype, name=node.name, array=node.value)
    return Trace(ops, [values[id(n)] for n in inputs], [values[id(output)]])
