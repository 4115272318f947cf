"""The op library's functional forms: `graphgrad.exp(x)`, `graphgrad.maximum(a, b)`, ...

Each takes tensors, arrays or Python numbers and returns a Tensor recorded for backward.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..backend import sum_to as _sum_to_generic
from .activations import LogSoftmax, LogSumExp, ReLU, Sigmoid, Softmax, Tanh
from .arithmetic import (
    Abs, Add, AsType, Clip, Div, Exp, Log, MatMul, Maximum, Minimum, Mul, Neg, Pow, PowScalar,
    Sqrt, Sub, Where,
)
from .reductions import Max, Mean, Min, Sum
from .shape import (
    BroadcastTo, Concatenate, ExpandDims, GetItem, Reshape, ScatterAdd, Squeeze, Stack, Transpose,
)


def add(x, y): return Add()(x, y)
def sub(x, y): return Sub()(x, y)
def mul(x, y): return Mul()(x, y)
def div(x, y): return Div()(x, y)
def neg(x): return Neg()(x)
def matmul(x, w): return MatMul()(x, w)
def exp(x): return Exp()(x)
def log(x): return Log()(x)
def sqrt(x): return Sqrt()(x)
def abs(x): return Abs()(x)
def tanh(x): return Tanh()(x)
def sigmoid(x): return Sigmoid()(x)
def relu(x): return ReLU()(x)
def maximum(x, y): return Maximum()(x, y)
def minimum(x, y): return Minimum()(x, y)
def clip(x, min=None, max=None): return Clip(min, max)(x)
def where(cond, x, y): return Where()(cond, x, y)
def astype(x, dtype): return AsType(dtype)(x)


def pow(x, y):
    """x ** y; a Python-number exponent uses the cheaper x**c rule."""
    if isinstance(y, (int, float)) and not isinstance(y, bool):
        return PowScalar(y)(x)
    return Pow()(x, y)


def sum(x, axis=None, keepdims=False): return Sum(axis, keepdims)(x)
def mean(x, axis=None, keepdims=False): return Mean(axis, keepdims)(x)
def max(x, axis=None, keepdims=False): return Max(axis, keepdims)(x)
def min(x, axis=None, keepdims=False): return Min(axis, keepdims)(x)
def logsumexp(x, axis=None, keepdims=False): return LogSumExp(axis, keepdims)(x)
def softmax(x, axis=-1): return Softmax(axis)(x)
def log_softmax(x, axis=-1): return LogSoftmax(axis)(x)


def reshape(x, shape): return Reshape(tuple(shape) if not isinstance(shape, int) else (shape,))(x)
def transpose(x, axes=None): return Transpose(axes)(x)
def permute(x, axes): return Transpose(axes)(x)
def broadcast_to(x, shape): return BroadcastTo(shape)(x)
def expand_dims(x, axis): return ExpandDims(axis)(x)
def squeeze(x, axis=None): return Squeeze(axis)(x)
def concatenate(xs, axis=0): return Concatenate(axis)(*xs)
def stack(xs, axis=0): return Stack(axis)(*xs)


def swapaxes(x, a: int, b: int):
    """x with axes a and b exchanged."""
    axes = list(range(np.ndim(getattr(x, "data", x))))
    axes[a], axes[b] = axes[b], axes[a]
    return Transpose(tuple(axes))(x)


def getitem(x, index):
    """x[index]; tensors inside the index are used by value."""
    items = index if isinstance(index, tuple) else (index,)
    items = tuple(getattr(i, "data", i) if hasattr(i, "creator") else i for i in items)
    return GetItem(items if isinstance(index, tuple) else items[0])(x)


def scatter_add(shape, index, values): return ScatterAdd(tuple(shape), index)(values)
def sum_to(x, shape): return _sum_to_generic(x, tuple(shape))


# What backward computes with when create_graph=True: the same names as backend.array_ops.
tensor_ops = SimpleNamespace(
    exp=exp, log=log, broadcast_to=broadcast_to, sum_to=sum_to, scatter_add=scatter_add
)
