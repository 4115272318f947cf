"""Export: a graphgrad model (or static graph) as an ONNX file, checked by `onnx.checker`.

The model is traced (see trace.py), each op is written by its entry in `EXPORTERS` (or, for the
ops of a module with an entry in `MODULE_EXPORTERS`, by that one node), weights become
initializers, and the input's first axis is dynamic ("batch") unless `dynamic_axes` says otherwise.
"""
from __future__ import annotations

import os

import numpy as np

from .emitter import Emitter
from .errors import ONNXError, UnsupportedOperatorError, require
from .exporters import EXPORTERS, MODULE_EXPORTERS
from .trace import Trace, trace_graph, trace_model
from ..autograd.tensor import unwrap

DEFAULT_OPSET, MIN_OPSET = 17, 13


def export(model, example_input, path, input_names=None, output_names=None, dynamic_axes=None,
           opset_version: int | None = None):
    """Trace `model(example_input)` in eval mode and write it to `path` as ONNX (PyTorch's signature).

    `example_input` is an array or Tensor, or a tuple of them for several inputs. `dynamic_axes`
    ({name: {axis: "dim_name"}} or {name: [axes]}) lists the sizes that may change; by default
    every input's first axis. A static-graph node as `model` exports that graph (see export_graph).
    Returns the ONNX ModelProto.
    """
    from ..graph.node import Node

    if isinstance(model, Node):
        return export_graph(model, example_input, path, input_names, output_names, dynamic_axes, opset_version)
    onnx = require()
    opset = _opset(onnx, opset_version)
    examples = list(example_input) if isinstance(example_input, (tuple, list)) else [example_input]
    examples = [np.asarray(unwrap(x)) for x in examples]
    for i, x in enumerate(examples):
        if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
            raise ONNXError(f"export: example input {i} has dtype {x.dtype}; tracing needs floating-point or "
                            f"integer (index) inputs")
    input_names = _names(input_names, len(examples), "input")
    dynamic = [_input_axes(dynamic_axes, name, x.ndim, 0 if x.ndim else None) for name, x in zip(input_names, examples)]
    trace = trace_model(model, examples, dynamic)
    return _write(onnx, trace, path, input_names, output_names, dynamic_axes, opset)


def export_graph(output, inputs, path, input_names=None, output_names=None, dynamic_axes=None,
                 opset_version: int | None = None):
    """Write a static graph (`graphgrad.graph`) from its input Variables to `output` as ONNX.

    The inputs must hold example values (`set_value`); their None sizes are the dynamic axes.
    """
    onnx = require()
    opset = _opset(onnx, opset_version)
    inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    trace = trace_graph(output, inputs)
    input_names = _names(input_names or [v.name for v in trace.inputs], len(inputs), "input")
    for value, name in zip(trace.inputs, input_names):
        if dynamic_axes is not None:
            value.dynamic = _input_axes(dynamic_axes, name, len(value.shape), None)
    return _write(onnx, trace, path, input_names, output_names, dynamic_axes, opset)


def _names(names, n: int, stem: str) -> list[str]:
    if names is None:
        return [stem] if n == 1 else [f"{stem}_{i}" for i in range(n)]
    names = list(names)
    if len(names) != n or len(set(names)) != n:
        raise ONNXError(f"export: {stem}_names {names} must be {n} distinct names, one per {stem}")
    return names


def _input_axes(dynamic_axes, name: str, ndim: int, default_axis) -> dict:
    """{axis: dim_name} for input `name`: from dynamic_axes when given, else the default axis as 'batch'."""
    if dynamic_axes is None:
        return {} if default_axis is None else {default_axis: "batch"}
    spec = dynamic_axes.get(name, {})
    axes = dict(spec) if isinstance(spec, dict) else {a: f"{name}_dim{a}" for a in spec}
    for a in axes:
        if not -ndim <= a < ndim:
            raise ONNXError(f"export: dynamic_axes[{name!r}] names axis {a}, but the input has {ndim} dimensions")
    return {a % ndim: str(dim) for a, dim in axes.items()}


def _opset(onnx, opset_version) -> int:
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= newest:
        raise ONNXError(f"export: opset_version {opset} is not supported; use {MIN_OPSET} to {newest}")
    return opset


def _write(onnx, trace: Trace, path, input_names, output_names, dynamic_axes, opset: int):
    """Emit every op, assemble and check the model, write it; returns the ModelProto."""
    e = Emitter(onnx, opset)
    output_names = _names(output_names, len(trace.outputs), "output")
    _emit(e, trace, input_names, output_names)
    helper = onnx.helper
    graph = helper.make_graph(e.nodes, "graphgrad", *_signature(e, trace, input_names, output_names, dynamic_axes),
                              initializer=e.initializers)
    opsets = [helper.make_opsetid("", opset)]
    from .. import __version__

    model = helper.make_model(graph, opset_imports=opsets, producer_name="graphgrad", producer_version=__version__)
    model.ir_version = helper.find_min_ir_version_for(opsets)
    try:
        if any(v.twin_shape is None for v in trace.outputs):  # a static graph: outputs' shapes by inference
            inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
            for out, found in zip(model.graph.output, inferred.graph.output):
                out.CopyFrom(found)
        onnx.checker.check_model(model, full_check=True)
    except Exception as err:  # checker and shape-inference errors alike: a bug in an exporter
        raise ONNXError(f"export: the ONNX model built is invalid ({err}); please report this as a graphgrad bug") from None
    _save(model, path)
    return model


def _emit(e: Emitter, trace: Trace, input_names: list, output_names: list) -> None:
    """Write every op through its exporter (or its module's), the graph's inputs and outputs named."""
    plan, covered = _module_plan(trace, e.opset)
    missing = sorted({op.where() for op in trace.ops if id(op) not in covered and op.kind not in EXPORTERS})
    if missing:
        raise UnsupportedOperatorError(
            f"export: no ONNX mapping for {', '.join(missing)}; add an entry to graphgrad.onnx.EXPORTERS "
            f"(or MODULE_EXPORTERS for a whole module)"
        )
    for value, name in zip(trace.inputs, input_names):
        e.bind(value, name)
    copies = []  # outputs that are not an op's own output (an input, a weight, or the same value twice)
    for value, name in zip(trace.outputs, output_names):
        if value.role == "op" and not e.is_named(value):
            e.bind(value, name)
        else:
            copies.append((value, name))
    for op in trace.ops:
        e.current = op
        if id(op) in plan:
            writer, x, prefix = plan[id(op)]
            writer(e, x, op.output, prefix)
        elif id(op) not in covered:
            EXPORTERS[op.kind](e, op)
    e.current = None
    for value, name in copies:
        e.node("Identity", [e.name(value)], name)


def _signature(e: Emitter, trace: Trace, input_names: list, output_names: list, dynamic_axes) -> tuple:
    """The graph's input and output types; an output's size that followed the batch gets a name."""
    make = e.helper.make_tensor_value_info
    dims = {}  # (traced size, size in the second run) -> the input's dim name: outputs reuse it
    inputs = []
    for value, name in zip(trace.inputs, input_names):
        for a, dim in value.dynamic.items():
            if value.twin_shape is not None:
                dims.setdefault((value.shape[a], value.twin_shape[a]), dim)
        inputs.append(make(name, e.tensor_type(value.dtype), [value.dynamic.get(a, n) for a, n in enumerate(value.shape)]))
    outputs = []
    for value, name in zip(trace.outputs, output_names):
        named = (dynamic_axes or {}).get(name, {})
        named = dict(named) if isinstance(named, dict) else {a: f"{name}_dim{a}" for a in named}
        shape = None if value.twin_shape is None else [
            n if n == m else named.get(a, dims.get((n, m), f"{name}_dim{a}"))
            for a, (n, m) in enumerate(zip(value.shape, value.twin_shape))]
        outputs.append(make(name, e.tensor_type(value.dtype), shape))
    return inputs, outputs


def _module_plan(trace: Trace, opset: int):
    """Modules whose recorded ops one module exporter replaces: {id(output op): (writer, input, prefix)}."""
    groups: dict[str, list] = {}
    for op in trace.ops:
        if op.module in trace.modules:
            groups.setdefault(op.module, []).append(op)
    consumers: dict[int, set] = {}
    for op in trace.ops:
        for v in op.inputs:
            consumers.setdefault(id(v), set()).add(id(op))
    final = {id(v) for v in trace.outputs}
    plan, covered = {}, set()
    for label, ops in groups.items():
        path, module = trace.modules[label]
        make = MODULE_EXPORTERS.get(type(module).__name__)
        writer = make(module, opset) if make else None
        if writer is None:
            continue
        members, made = {id(op) for op in ops}, {id(op.output) for op in ops}
        data = list({id(v): v for op in ops for v in op.inputs if v.role in ("input", "op") and id(v) not in made}.values())
        ends = [op for op in ops if id(op.output) in final or consumers.get(id(op.output), set()) - members]
        if len(data) == 1 and len(ends) == 1:  # one tensor in, one out: the module is a function of it
            plan[id(ends[0])] = (writer, data[0], f"{path}." if path else "")
            covered |= members
    return plan, covered


def _save(model, path) -> None:
    """Write atomically to a path, or to a writable binary file object."""
    data = model.SerializeToString()
    if hasattr(path, "write"):
        path.write(data)
        return
    from ..io import atomic_write

    atomic_write(path, data)
