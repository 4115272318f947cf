"""The import table: one entry per ONNX operator, computing it with graphgrad ops.

An importer `(node, *inputs)` gets the node (its `attrs` and the model's `opset`) and the input
Tensors (None for an omitted optional input) and returns the output Tensor, or a tuple of them.
Inputs read as settings (shapes, axes, bounds) are listed in SETTING_INPUTS, so that the
initializers behind them become buffers instead of trainable Parameters.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .. import ops
from ..autograd.tensor import Tensor
from ..nn import functional as F
from ..ops.reductions import Max, Min
from .cnn_import import CNN_IMPORTERS, CNN_SETTING_INPUTS
from .errors import ONNXError


def _numbers(t, dtype=np.int64) -> np.ndarray:
    """A settings input (shape, axes, ...) as a NumPy array."""
    return np.asarray(t.data if isinstance(t, Tensor) else t, dtype=dtype)


def _same(fn: Callable) -> Callable:
    """An operator graphgrad has under another name, with the same inputs."""
    return lambda node, *xs: fn(*xs)


def _variadic(fn: Callable) -> Callable:
    """Max/Min over any number of inputs (broadcast), pairwise."""
    def run(node, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = fn(out, x)
        return out
    return run


def _gemm(node, a, b, c=None):
    """alpha·A'B' + beta·C; the common x·Wᵀ + b is graphgrad's fused Linear op (what nn.Linear records)."""
    alpha, beta = node.attrs.get("alpha", 1.0), node.attrs.get("beta", 1.0)
    trans_a, trans_b = node.attrs.get("transA", 0), node.attrs.get("transB", 0)
    if alpha == 1 and beta == 1 and trans_b and not trans_a and (c is None or c.shape == (b.shape[0],)):
        return F.linear(a, b, c)
    y = (a.T if trans_a else a) @ (b.T if trans_b else b)
    if alpha != 1:
        y = y * alpha
    if c is not None:
        y = y + (c * beta if beta != 1 else c)
    return y


def _pow(node, x, y):
    if isinstance(y, Tensor) and not y.requires_grad and y.numel() == 1:
        return ops.pow(x, float(y.data.reshape(())))  # x**c: the cheaper rule, as eager graphgrad records it
    return ops.pow(x, y)


def _softmax_like(fn: Callable) -> Callable:
    """Softmax/LogSoftmax: along one axis from opset 13; before, over the block of axes from `axis` on."""
    def run(node, x):
        if node.opset >= 13:
            return fn(x, node.attrs.get("axis", -1))
        axis = node.attrs.get("axis", 1) % x.ndim
        flat = ops.reshape(x, (math.prod(x.shape[:axis]), -1))
        return ops.reshape(fn(flat, -1), x.shape)
    return run


def _leaky_relu(node, x):
    alpha = node.attrs.get("alpha", 0.01)
    return ops.where(Tensor(x.data > 0), x, x * alpha)


def _clip(node, x, lo=None, hi=None):
    if node.opset < 11:
        lo, hi = node.attrs.get("min"), node.attrs.get("max")
    else:
        lo = None if lo is None else float(_numbers(lo, float))
        hi = None if hi is None else float(_numbers(hi, float))
    return ops.clip(x, lo, hi)


def _cast(node, x):
    from onnx.helper import tensor_dtype_to_np_dtype

    return ops.astype(x, tensor_dtype_to_np_dtype(node.attrs["to"]))


def _flatten(node, x):
    """(d0·…·d[axis-1], d[axis]·…): axis may be -ndim..ndim."""
    axis = node.attrs.get("axis", 1)
    axis = axis + x.ndim if axis < 0 else axis
    return ops.reshape(x, (math.prod(x.shape[:axis]), math.prod(x.shape[axis:])))


def _reshape(node, x, shape):
    target = [int(n) for n in _numbers(shape)]
    if not node.attrs.get("allowzero", 0):
        target = [x.shape[i] if n == 0 else n for i, n in enumerate(target)]  # 0 copies the input's size
    return ops.reshape(x, tuple(target))


def _axes_of(node, axes, ndim: int, attr_before: int):
    """Axes from the attribute (opset < attr_before) or the input, as non-negative ints (None: absent)."""
    raw = node.attrs.get("axes") if node.opset < attr_before else (None if axes is None else _numbers(axes))
    return None if raw is None else sorted(int(a) % ndim for a in np.atleast_1d(raw))


def _unsqueeze(node, x, axes=None):
    out_ndim = x.ndim + len(np.atleast_1d(node.attrs["axes"] if node.opset < 13 else _numbers(axes)))
    for a in _axes_of(node, axes, out_ndim, 13):
        x = ops.expand_dims(x, a)
    return x


def _squeeze(node, x, axes=None):
    found = _axes_of(node, axes, x.ndim, 13)
    return ops.squeeze(x, None if found is None else tuple(found))


def _extreme(cls: type) -> Callable:
    """ReduceMax/ReduceMin through the op class (graphgrad.max(x, dim) becomes PyTorch's (values, indices))."""
    return lambda x, axis, keepdims: cls(axis, keepdims)(x)


def _reduce(fn: Callable, attr_before: int = 18) -> Callable:
    """Reduce*: keepdims (default 1); no axes means every axis unless noop_with_empty_axes."""
    def run(node, x, axes=None):
        found = _axes_of(node, axes, max(x.ndim, 1), attr_before)
        if not found:
            if node.attrs.get("noop_with_empty_axes", 0):
                return x
            found = None
        return fn(x, None if found is None else tuple(found), bool(node.attrs.get("keepdims", 1)))
    return run


def _gather(node, x, indices):
    axis = node.attrs.get("axis", 0) % x.ndim
    idx = _numbers(indices)
    return ops.getitem(x, (slice(None),) * axis + (int(idx) if idx.ndim == 0 else idx,))


def _slice(node, x, starts, ends, axes=None, steps=None):
    starts, ends = _numbers(starts), _numbers(ends)
    axes = range(len(starts)) if axes is None else [int(a) % x.ndim for a in _numbers(axes)]
    steps = [1] * len(starts) if steps is None else _numbers(steps)
    index = [slice(None)] * x.ndim
    for a, b, e, s in zip(axes, starts, ends, steps):
        index[a] = slice(int(b), int(e), int(s))
    return ops.getitem(x, tuple(index))


def _expand(node, x, shape):
    return ops.broadcast_to(x, np.broadcast_shapes(x.shape, tuple(int(n) for n in _numbers(shape))))


def _shape(node, x):
    start, end = node.attrs.get("start", 0), node.attrs.get("end", None)
    return Tensor(np.asarray(x.shape[start:end], dtype=np.int64))


def _constant_of_shape(node, shape):
    """A tensor of the given shape filled with `value` (one element; 0.0 float32 by default)."""
    value = node.attrs.get("value", np.zeros(1, np.float32))
    return Tensor(np.full(tuple(int(n) for n in _numbers(shape)), value.reshape(-1)[0], dtype=value.dtype))


def _constant(node):
    for key in ("value", "value_float", "value_int", "value_floats", "value_ints"):
        if key in node.attrs:
            value = node.attrs[key]
            return Tensor(np.asarray(value, dtype=np.float32 if "float" in key else None)
                          if not isinstance(value, np.ndarray) else value)
    raise ONNXError(f"ONNX import: {node.where()} holds a kind of constant graphgrad does not read ({sorted(node.attrs)})")


def _dropout(node, x, ratio=None, training_mode=None):
    if training_mode is not None and bool(_numbers(training_mode, bool)):
        raise ONNXError(f"ONNX import: {node.where()} runs in training mode; only inference graphs import")
    return (x, Tensor(np.ones(x.shape, dtype=bool))) if len(node.outputs) > 1 else x


def _channels(x: Tensor, t) -> Tensor:
    """A per-channel vector shaped (1, C, 1, ...) to broadcast over x (N, C, ...)."""
    return ops.reshape(t, (1, x.shape[1]) + (1,) * (x.ndim - 2))


def _batch_norm(node, x, scale, bias, mean, var):
    """Inference form: (x - mean) / √(var + ε) · scale + bias, with the running statistics fixed."""
    if node.attrs.get("training_mode", 0):
        raise ONNXError(f"ONNX import: {node.where()} is in training mode; only inference graphs import")
    inv_std = 1.0 / np.sqrt(var.data + node.attrs.get("epsilon", 1e-5))
    xhat = (x - _channels(x, Tensor(mean.data))) * _channels(x, Tensor(inv_std.astype(x.dtype)))
    return xhat * _channels(x, scale) + _channels(x, bias)


def _layer_norm(node, x, scale, bias=None):
    """Normalise over the axes from `axis` on, then scale and shift."""
    axes = tuple(range(node.attrs.get("axis", -1) % x.ndim, x.ndim))
    mean = ops.mean(x, axes, True)
    xc = x - mean
    y = xc / ops.sqrt(ops.mean(xc * xc, axes, True) + node.attrs.get("epsilon", 1e-5))
    y = y * scale
    return y if bias is None else y + bias


def _selu(node, x):
    """Selu with ONNX's default α and γ, which are PyTorch's (graphgrad's selu has them fixed)."""
    alpha, gamma = node.attrs.get("alpha", 1.67326319217681884765625), node.attrs.get("gamma", 1.05070102214813232421875)
    if abs(alpha - 1.6732632423543772) > 1e-6 or abs(gamma - 1.0507009873554805) > 1e-6:
        raise ValueError(f"Selu with alpha={alpha}, gamma={gamma}: graphgrad's selu has PyTorch's fixed constants only")
    return ops.selu(x)


IMPORTERS: dict[str, Callable] = {
    "Identity": lambda node, x: x, "Dropout": _dropout, "Constant": _constant,
    "Add": _same(ops.add), "Sub": _same(ops.sub), "Mul": _same(ops.mul), "Div": _same(ops.div),
    "Neg": _same(ops.neg), "Pow": _pow, "MatMul": _same(ops.matmul), "Gemm": _gemm,
    "Exp": _same(ops.exp), "Log": _same(ops.log), "Sqrt": _same(ops.sqrt), "Abs": _same(ops.abs),
    "Relu": _same(ops.relu), "LeakyRelu": _leaky_relu, "Sigmoid": _same(ops.sigmoid), "Tanh": _same(ops.tanh),
    "Softmax": _softmax_like(ops.softmax), "LogSoftmax": _softmax_like(ops.log_softmax),
    "Max": _variadic(ops.maximum), "Min": _variadic(ops.minimum), "Clip": _clip,
    "Where": lambda node, c, x, y: ops.where(Tensor(c.data.astype(bool)), x, y), "Cast": _cast,
    "Flatten": _flatten, "Reshape": _reshape, "Transpose": lambda node, x: ops.transpose(x, node.attrs.get("perm")),
    "Concat": lambda node, *xs: ops.concatenate(xs, node.attrs["axis"]), "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze, "Gather": _gather, "Slice": _slice, "Expand": _expand, "Shape": _shape,
    "ConstantOfShape": _constant_of_shape,
    "ReduceSum": _reduce(ops.sum, 13), "ReduceMean": _reduce(ops.mean), "ReduceMax": _reduce(_extreme(Max)),
    "ReduceMin": _reduce(_extreme(Min)), "ReduceLogSumExp": _reduce(ops.logsumexp),
    "BatchNormalization": _batch_norm, "LayerNormalization": _layer_norm,
    "Elu": lambda node, x: ops.elu(x, node.attrs.get("alpha", 1.0)), "Selu": _selu,
    "Softplus": _same(ops.softplus), "Greater": _same(ops.gt), "Less": _same(ops.lt), "Equal": _same(ops.eq),
    **CNN_IMPORTERS,
}

# Inputs read as numbers, not differentiated: initializers used only here are buffers.
SETTING_INPUTS: dict[str, tuple] = {
    "Reshape": (1,), "Unsqueeze": (1,), "Squeeze": (1,), "Slice": (1, 2, 3, 4), "Expand": (1,), "Gather": (1,),
    "ConstantOfShape": (0,), "Clip": (1, 2), "Dropout": (1, 2), "BatchNormalization": (3, 4), "ReduceSum": (1,), "ReduceMean": (1,),
    "ReduceMax": (1,), "ReduceMin": (1,), "ReduceLogSumExp": (1,), **CNN_SETTING_INPUTS,
}
