"""Reductions over axes: sum, mean, max, min. Their backward spreads the gradient back out.

Half-precision inputs are accumulated in float32 and the result cast back, as PyTorch does
(a float16 sum of 100,000 ones overflows to inf).
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..backend import accumulator


def normalize_axis(op: str, axis, ndim: int) -> tuple:
    """Axis (None, int or tuple) as a sorted tuple of non-negative ints, checked against ndim."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
    out = tuple(sorted(int(a) % max(ndim, 1) for a in axes))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: axis {axis!r} repeats an axis")
    return out


class _Reduction(Function):
    def __init__(self, axis=None, keepdims: bool = False):
        self.axis, self.keepdims = axis, keepdims

    def _kept_shape(self, x) -> tuple:
        """x's shape with the reduced axes set to 1 (the shape keepdims=True would give)."""
        if self.axis is None:
            return (1,) * x.ndim
        axes = normalize_axis(type(self).__name__.lower(), self.axis, x.ndim)
        return tuple(1 if i in axes else n for i, n in enumerate(x.shape))


class Sum(_Reduction):
    """y = Σ x over axis.  dy/dx = 1: the gradient is copied to every summed element."""

    name, method, symbol = "sum", True, "Σ"

    def forward(self, x):
        self.in_shape, self.kept = x.shape, self._kept_shape(x)
        acc = accumulator(x)
        y = self.xp.sum(x, axis=self.axis, keepdims=self.keepdims, dtype=acc)
        return y if acc is None else self.xp.astype(y, x.dtype)

    def backward(self, gy):
        xp = self.xp
        return xp.broadcast_to(xp.reshape(gy, self.kept), self.in_shape)


class Mean(_Reduction):
    """y = Σ x / n over axis.  dy/dx = 1/n."""

    name, method, symbol = "mean", True, "mean"

    def forward(self, x):
        self.in_shape, self.kept = x.shape, self._kept_shape(x)
        self.n = math.prod(x.shape) // max(math.prod(self.kept), 1)  # 0 for an empty axis: nan, as in NumPy
        acc = accumulator(x)
        y = self.xp.sum(x, axis=self.axis, keepdims=self.keepdims, dtype=acc) / self.n  # np.mean adds 2 µs
        return y if acc is None else self.xp.astype(y, x.dtype)

    def backward(self, gy):
        xp = self.xp
        return xp.broadcast_to(xp.reshape(gy, self.kept) / self.n, self.in_shape)


class Max(_Reduction):
    """y = max x over axis.  dy/dx = 1 at the maximum (shared equally among ties), 0 elsewhere."""

    name, method, symbol = "max", True, "max"
    pick = "max"

    def forward(self, x):
        xp = self.xp
        if math.prod(x.shape) == 0:
            raise ValueError(f"{self.pick}: cannot reduce an empty tensor of shape {tuple(x.shape)}")
        self.kept = self._kept_shape(x)
        y = getattr(xp, self.pick)(x, axis=self.axis, keepdims=True)
        hit = xp.astype(x == y, x.dtype)
        self.save_for_backward(hit / xp.sum(hit, axis=self.axis, keepdims=True))
        if self.keepdims:
            return y
        axes = normalize_axis(self.pick, self.axis, x.ndim)
        return xp.reshape(y, tuple(n for i, n in enumerate(x.shape) if i not in axes))

    def backward(self, gy):
        (share,) = self.saved
        return self.xp.reshape(gy, self.kept) * share


class Min(Max):
    """y = min x over axis.  dy/dx = 1 at the minimum (shared equally among ties), 0 elsewhere."""

    name, method, symbol = "min", True, "min"
    pick = "min"
