"""The export tables: one entry per graphgrad op (by Function class name) and per module class.

An op exporter `(emitter, op)` writes ONNX nodes computing `op.output` from `op.inputs`, reading
the op's settings from its Function (`op.fn.axis`, ...). A module exporter `(module, opset)`
returns a writer `(emitter, x, y, prefix)` (x, y: the module's input and output Values; prefix: its
path and a dot, for naming its weights) that replaces every op the module recorded by one ONNX node,
or None where it does not apply (then its ops export one by one). New ops add one entry here.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .cnn_export import CNN_EXPORTERS
from .emitter import Emitter
from .errors import ONNXError
from .trace import Op, Value

INT64_MAX = np.iinfo(np.int64).max


def _same(op_type: str) -> Callable:
    """An op whose ONNX operator takes the same inputs with NumPy broadcasting (Add, Relu, ...).

    ONNX wants one element type where NumPy promotes (float32 + float64 is float64): inputs of
    another type than the output are cast to it first.
    """
    def emit(e: Emitter, op: Op) -> None:
        e.node(op_type, [e.cast(v, op.output.dtype) for v in op.inputs], e.out(op))
    return emit


def _along_axis(op_type: str) -> Callable:
    """Softmax and LogSoftmax along `fn.axis` (opset 13 semantics: one axis, not a flattened block)."""
    def emit(e: Emitter, op: Op) -> None:
        e.node(op_type, e.inputs(op), e.out(op), axis=int(op.fn.axis))
    return emit


def _axes(axis, ndim: int) -> list[int]:
    if axis is None:
        return list(range(ndim))
    return sorted(a % ndim for a in ((axis,) if isinstance(axis, (int, np.integer)) else axis))


def _reduce(op_type: str) -> Callable:
    """Sum/Mean/Max/Min/LogSumExp over `fn.axis` with `fn.keepdims`."""
    def emit(e: Emitter, op: Op) -> None:
        ndim = len(op.inputs[0].shape)
        e.reduce(op_type, e.name(op.inputs[0]), _axes(op.fn.axis, ndim), op.fn.keepdims, e.out(op))
    return emit


def _linear(e: Emitter, op: Op) -> None:
    """y = x @ Wᵀ + b: Gemm for a batch of vectors, MatMul with the transposed weight otherwise."""
    x, w, *b = e.inputs(op)
    if len(op.inputs[0].shape) == 2:
        e.node("Gemm", [x, w, *b], e.out(op), transB=1)
        return
    wt = e.node("Transpose", [w], perm=[1, 0])
    if not b:
        e.node("MatMul", [x, wt], e.out(op))
        return
    e.node("Add", [e.node("MatMul", [x, wt]), b[0]], e.out(op))


def _pow(e: Emitter, op: Op) -> None:
    """x ** y: the base in the output's type; ONNX lets the exponent keep its own."""
    e.node("Pow", [e.cast(op.inputs[0], op.output.dtype), e.name(op.inputs[1])], e.out(op))


def _pow_scalar(e: Emitter, op: Op) -> None:
    e.node("Pow", [e.name(op.inputs[0]), e.constant(op.fn.c, op.inputs[0].dtype, "exponent")], e.out(op))


def _clip(e: Emitter, op: Op) -> None:
    dtype = op.inputs[0].dtype
    bounds = ["" if v is None else e.constant(v, dtype, "bound") for v in (op.fn.min, op.fn.max)]
    e.node("Clip", [e.name(op.inputs[0]), *bounds], e.out(op))


def _where(e: Emitter, op: Op) -> None:
    cond, x, y = op.inputs
    e.node("Where", [e.cast(cond, np.bool_), e.cast(x, op.output.dtype), e.cast(y, op.output.dtype)], e.out(op))


def _astype(e: Emitter, op: Op) -> None:
    e.node("Cast", e.inputs(op), e.out(op), to=e.tensor_type(op.fn.dtype))


def _varying(op: Op, now, then) -> list[int]:
    """Positions where a shape setting differs between the two traced runs (it follows the batch)."""
    if op.twin is None:
        return []
    if len(now) != len(then):
        raise ONNXError(f"export: {op.where()} has a target shape whose length follows the input")
    return [i for i, (a, b) in enumerate(zip(now, then)) if a != b]


def _flatten(e: Emitter, op: Op) -> None:
    """Axes start_dim..end_dim merged: the output's shape, with the batch axis left to ONNX (0 = copy)."""
    n = len(op.fn.in_shape)
    start, end = op.fn.start_dim % n, op.fn.end_dim % n
    target = [0] * start + [-1] + [int(d) for d in op.fn.in_shape[end + 1:]]  # 0: copy the (batch) axis
    e.node("Reshape", [e.name(op.inputs[0]), e.ints(target)], e.out(op))


def _reshape(e: Emitter, op: Op) -> None:
    """The recorded target shape, with -1 for the one size that followed the batch."""
    target = list(op.fn.shape)
    varying = _varying(op, target, list(op.twin.shape) if op.twin else target)
    if len(varying) + (-1 in target) > 1:
        raise ONNXError(f"export: {op.where()} to {tuple(target)}: more than one size follows the input's")
    for i in varying:
        target[i] = -1
    if 0 in target:  # an empty axis: ONNX would read 0 as "copy the input's size" without allowzero
        if e.opset < 14 or -1 in target:
            raise ONNXError(f"export: {op.where()} to {tuple(target)}: an empty axis needs opset_version 14 or "
                            f"later, and no size that follows the batch beside it")
        e.node("Reshape", [e.name(op.inputs[0]), e.ints(target)], e.out(op), allowzero=1)
        return
    e.node("Reshape", [e.name(op.inputs[0]), e.ints(target)], e.out(op))


def _broadcast_to(e: Emitter, op: Op) -> None:
    """Expand; a size that follows the batch is written as 1 (Expand keeps the input's own size there)."""
    target, x = list(op.fn.shape), op.inputs[0]
    lead = len(target) - len(x.shape)
    for i in _varying(op, target, list(op.twin.shape) if op.twin else target):
        if i < lead or x.twin_shape is None or x.shape[i - lead] == x.twin_shape[i - lead]:
            raise ONNXError(f"export: {op.where()} to {tuple(target)}: a size follows the batch but the input's does not")
        target[i] = 1
    e.node("Expand", [e.name(x), e.ints(target)], e.out(op))


def _transpose(e: Emitter, op: Op) -> None:
    ndim = len(op.inputs[0].shape)
    e.node("Transpose", e.inputs(op), e.out(op), perm=[a % ndim for a in op.fn.perm])


def _expand_dims(e: Emitter, op: Op) -> None:
    e.axes_input("Unsqueeze", e.name(op.inputs[0]), [op.fn.axis % len(op.output.shape)], e.out(op))


def _squeeze(e: Emitter, op: Op) -> None:
    """Squeeze the axes named, or (axis=None) those of size 1 at every traced size."""
    x = op.inputs[0]
    if op.fn.axis is not None:
        axes = _axes(op.fn.axis, len(x.shape))
    else:
        axes = [a for a, n in enumerate(x.shape) if n == 1]
        if x.twin_shape is not None and axes != [a for a, n in enumerate(x.twin_shape) if n == 1]:
            raise ONNXError(f"export: {op.where()}: squeeze() without an axis removed an axis whose size follows "
                            f"the batch (size 1 in the example); pass the axis to squeeze")
    e.axes_input("Squeeze", e.name(x), axes, e.out(op))


def _concatenate(e: Emitter, op: Op) -> None:
    e.node("Concat", e.inputs(op), e.out(op), axis=int(op.fn.ax))


def _stack(e: Emitter, op: Op) -> None:
    parts = [e.axes_input("Unsqueeze", x, [op.fn.ax]) for x in e.inputs(op)]
    e.node("Concat", parts, e.out(op), axis=int(op.fn.ax))


def _getitem(e: Emitter, op: Op) -> None:
    """Basic indexing (ints, slices, None, ...) as Slice/Gather/Unsqueeze; one integer array as Gather."""
    index = op.fn.index
    items = list(index) if isinstance(index, tuple) else [index]
    if op.twin is not None and not _same_index(index, op.twin.index):
        raise ONNXError(f"export: {op.where()}: the index changes with the input, so it cannot be stored")
    shape = op.inputs[0].shape
    ellipses = [k for k, i in enumerate(items) if i is Ellipsis]
    if len(ellipses) > 1 or any(isinstance(i, np.ndarray) and i.dtype == bool for i in items):
        raise ONNXError(f"export: {op.where()}: boolean masks and repeated '...' have no ONNX mapping")
    if sum(1 for i in items if isinstance(i, (list, np.ndarray))) > 1:
        raise ONNXError(f"export: {op.where()}: indexing with more than one integer array has no ONNX mapping")
    used = sum(1 for i in items if i is not None and i is not Ellipsis)
    if ellipses:
        at = ellipses[0]
        items[at:at + 1] = [slice(None)] * (len(shape) - used)
    # Probes: arrays of the traced shapes (the second run's too) numbering their elements, indexed
    # step by step alongside the ONNX nodes, to know each axis's size and to check the result.
    x, axis = e.name(op.inputs[0]), 0
    twin = op.inputs[0].twin_shape
    probes = [np.arange(math.prod(s)).reshape(s) for s in ([shape] if twin is None else [shape, twin])]
    expected = [p[index] for p in probes]
    for item in items:
        if item is None:
            x, axis = e.axes_input("Unsqueeze", x, [axis]), axis + 1
            probes = [np.expand_dims(p, axis - 1) for p in probes]
        elif isinstance(item, slice):
            if item != slice(None):
                bounds = _slice_bounds(op, item, [p.shape[axis] for p in probes])
                x = e.node("Slice", [x, *(e.ints([b]) for b in bounds[:2]), e.ints([axis]), e.ints([bounds[2]])])
                probes = [p[(slice(None),) * axis + (item,)] for p in probes]
            axis += 1
        else:  # an int removes the axis; an integer array puts its own axes in its place
            indices = np.asarray(item, dtype=np.int64)
            x = e.node("Gather", [x, e.constant(indices, hint="indices")], axis=axis)
            probes = [np.take(p, indices, axis=axis) for p in probes]
            axis += indices.ndim
    if not all(np.array_equal(p, q) for p, q in zip(probes, expected)):  # NumPy moves mixed advanced indices' axes
        raise ONNXError(f"export: {op.where()}: index {index!r} mixes integer arrays and ints in a way ONNX cannot follow")
    e.node("Identity", [x], e.out(op))


def _slice_bounds(op: Op, s: slice, sizes: list[int]) -> tuple[int, int, int]:
    """ONNX Slice's start, end and step for `s` on an axis of the traced size(s).

    Where the slice picks the same elements at both traced sizes it is written resolved (NumPy's
    own `slice.indices`); on an axis whose size changes, as given: ONNX clamps like NumPy there,
    except a negative step's start below -size, which is refused.
    """
    resolved = {s.indices(n) for n in sizes}
    if len(sizes) == 2 and len(resolved) == 1:
        start, stop, step = resolved.pop()
        if not range(start, stop, step):
            return 0, 0, 1
        return start, (stop if stop >= 0 else -INT64_MAX), step  # -1 there means before the first element
    step = 1 if s.step is None else int(s.step)
    if step < 0 and s.start is not None and s.start < 0:
        raise ONNXError(f"export: {op.where()}: {s} on an axis whose size changes: ONNX and NumPy differ "
                        f"when the start is below -size; use a non-negative start")
    start = (0 if step > 0 else INT64_MAX) if s.start is None else int(s.start)
    stop = (INT64_MAX if step > 0 else -INT64_MAX) if s.stop is None else int(s.stop)
    return start, stop, step


def _same_index(a, b) -> bool:
    a, b = (a if isinstance(a, tuple) else (a,)), (b if isinstance(b, tuple) else (b,))
    return len(a) == len(b) and all(
        np.array_equal(x, y) if isinstance(x, (list, np.ndarray)) or isinstance(y, (list, np.ndarray)) else x == y
        for x, y in zip(a, b)
    )


def _gelu(e: Emitter, op: Op) -> None:
    """Gelu (opset 20), else its formula: 0.5x(1 + erf(x/√2)), or with tanh 0.5x(1 + tanh(√(2/π)(x + 0.044715x³)))."""
    x, dtype = e.name(op.inputs[0]), op.inputs[0].dtype
    if e.opset >= 20:
        e.node("Gelu", [x], e.out(op), approximate=op.fn.approximate)
        return
    if op.fn.approximate == "tanh":
        cube = e.node("Mul", [e.node("Mul", [x, x]), x])
        inner = e.node("Add", [x, e.node("Mul", [cube, e.constant(0.044715, dtype)])])
        shape = e.node("Tanh", [e.node("Mul", [inner, e.constant(np.sqrt(2 / np.pi), dtype)])])
    else:
        shape = e.node("Erf", [e.node("Div", [x, e.constant(np.sqrt(2.0), dtype)])])
    half_x = e.node("Mul", [x, e.constant(0.5, dtype)])
    e.node("Mul", [half_x, e.node("Add", [shape, e.constant(1.0, dtype)])], e.out(op))


def _silu(e: Emitter, op: Op) -> None:
    x = e.name(op.inputs[0])
    e.node("Mul", [x, e.node("Sigmoid", [x])], e.out(op))


def _softplus_of(e: Emitter, x: str, dtype, beta: float, threshold: float) -> str:
    """PyTorch's softplus: log(1 + e^(βx))/β, and x itself where βx > threshold."""
    scaled = e.node("Mul", [x, e.constant(beta, dtype)]) if beta != 1 else x
    soft = e.node("Softplus", [scaled])
    soft = e.node("Div", [soft, e.constant(beta, dtype)]) if beta != 1 else soft
    linear = e.node("Greater", [scaled, e.constant(threshold, dtype)])
    return e.node("Where", [linear, x, soft])


def _softplus(e: Emitter, op: Op) -> None:
    out = _softplus_of(e, e.name(op.inputs[0]), op.inputs[0].dtype, float(op.fn.beta), float(op.fn.threshold))
    e.node("Identity", [out], e.out(op))


def _mish(e: Emitter, op: Op) -> None:
    x = e.name(op.inputs[0])
    e.node("Mul", [x, e.node("Tanh", [_softplus_of(e, x, op.inputs[0].dtype, 1.0, 20.0)])], e.out(op))


def _hardtanh(e: Emitter, op: Op) -> None:
    dtype = op.inputs[0].dtype
    bounds = [e.constant(v, dtype, "bound") for v in (op.fn.min_val, op.fn.max_val)]
    e.node("Clip", [e.name(op.inputs[0]), *bounds], e.out(op))


def _elu(e: Emitter, op: Op) -> None:
    e.node("Elu", e.inputs(op), e.out(op), alpha=float(op.fn.alpha))


def _selu(e: Emitter, op: Op) -> None:
    e.node("Selu", e.inputs(op), e.out(op), alpha=float(op.fn.alpha), gamma=float(op.fn.scale))


def _embedding(e: Emitter, op: Op) -> None:
    """The rows of the weight at the indices: Gather along axis 0 (padding_idx matters only to training)."""
    indices, weight = op.inputs
    e.node("Gather", [e.name(weight), e.cast(indices, np.int64)], e.out(op), axis=0)


EXPORTERS: dict[str, Callable[[Emitter, Op], None]] = {
    "Add": _same("Add"), "Sub": _same("Sub"), "Mul": _same("Mul"), "Div": _same("Div"), "Neg": _same("Neg"),
    "Pow": _pow, "PowScalar": _pow_scalar, "MatMul": _same("MatMul"), "Linear": _linear,
    "Exp": _same("Exp"), "Log": _same("Log"), "Sqrt": _same("Sqrt"), "Abs": _same("Abs"),
    "Maximum": _same("Max"), "Minimum": _same("Min"), "Clip": _clip, "Where": _where, "AsType": _astype,
    "ReLU": _same("Relu"), "Sigmoid": _same("Sigmoid"), "Tanh": _same("Tanh"),
    "GELU": _gelu, "SiLU": _silu, "ELU": _elu, "SELU": _selu, "Softplus": _softplus, "Mish": _mish,
    "Hardtanh": _hardtanh, "ReLU6": _hardtanh, "Embedding": _embedding,
    "Softmax": _along_axis("Softmax"), "LogSoftmax": _along_axis("LogSoftmax"),
    "Sum": _reduce("ReduceSum"), "Mean": _reduce("ReduceMean"), "Max": _reduce("ReduceMax"),
    "Min": _reduce("ReduceMin"), "LogSumExp": _reduce("ReduceLogSumExp"),
    "Reshape": _reshape, "Flatten": _flatten, "Transpose": _transpose, "BroadcastTo": _broadcast_to, "ExpandDims": _expand_dims,
    "Squeeze": _squeeze, "Concatenate": _concatenate, "Stack": _stack, "GetItem": _getitem,
    **CNN_EXPORTERS,
}


# ---- module exporters: one ONNX node for everything a module recorded -----------------------
def _leaky_relu(module, opset: int):
    """LeakyReLU multiplies by a slope mask made from the input's values: a constant no file could hold."""
    def emit(e: Emitter, x: Value, y: Value, prefix: str) -> None:
        e.node("LeakyRelu", [e.name(x)], e.name(y), alpha=float(module.negative_slope))
    return emit


def _batch_norm(module, opset: int):
    """BatchNormalization in inference form, with the running statistics as initializers."""
    if not module.track_running_stats:
        return None  # eval mode uses the batch's statistics: the recorded ops say so

    def emit(e: Emitter, x: Value, y: Value, prefix: str) -> None:
        n, dtype = module.num_features, x.dtype
        scale = e.initializer(module.weight.data, f"{prefix}weight") if module.affine else e.constant(np.ones(n, dtype))
        bias = e.initializer(module.bias.data, f"{prefix}bias") if module.affine else e.constant(np.zeros(n, dtype))
        mean = e.initializer(module.running_mean, f"{prefix}running_mean")
        var = e.initializer(module.running_var, f"{prefix}running_var")
        e.node("BatchNormalization", [e.name(x), scale, bias, mean, var], e.name(y), epsilon=float(module.eps))
    return emit


def _layer_norm(module, opset: int):
    """LayerNormalization (opset 17) over the last len(normalized_shape) axes."""
    if opset < 17:
        return None

    def emit(e: Emitter, x: Value, y: Value, prefix: str) -> None:
        shape = module.normalized_shape
        if module.elementwise_affine:
            weights = [e.initializer(module.weight.data, f"{prefix}weight"), e.initializer(module.bias.data, f"{prefix}bias")]
        else:
            weights = [e.constant(np.ones(shape, x.dtype))]
        e.node("LayerNormalization", [e.name(x), *weights], e.name(y), axis=-len(shape), epsilon=float(module.eps))
    return emit


MODULE_EXPORTERS: dict[str, Callable] = {
    "LeakyReLU": _leaky_relu, "BatchNorm1d": _batch_norm, "BatchNorm2d": _batch_norm, "LayerNorm": _layer_norm,
}
