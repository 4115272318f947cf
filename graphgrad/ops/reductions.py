"""Reductions over axes: sum, mean, max, min. Their backward spreads the gradient back out."""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function


def normalize_axis(op: str, axis, ndim: int) -> tuple:
    """Axis (None, int or tuple) as a sorted tuple of non-negative ints, checked against ndim."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
    return tuple(sorted(a % max(ndim, 1) for a in axes))


class _Reduction(Function):
    def __init__(self, axis=None, keepdims: bool = False):
        self.axis, self.keepdims = axis, keepdims

    def _kept_shape(self, x) -> tuple:
        """x's shape with the reduced axes set to 1 (the shape keepdims=True would give)."""
        if self.axis is None:
            return (1,) * x.ndim
        axes = normalize_axis(type(self).__name__.lower(), self.axis, x.ndim)
        return tuple(1 if i in axes else n for i, n in enumerate(x.shape))

    def _expand(self, g):
        """Upstream gradient reshaped so it broadcasts against the input."""
        return g.reshape(self.kept)


class Sum(_Reduction):
    """y = Σ x over axis.  dy/dx = 1: the gradient is copied to every summed element."""

    def forward(self, x):
        self.shape, self.kept = x.shape, self._kept_shape(x)
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        return self.xp.broadcast_to(self._expand(gy), self.shape)


class Mean(_Reduction):
    """y = Σ x / n over axis.  dy/dx = 1/n."""

    def forward(self, x):
        self.shape, self.kept = x.shape, self._kept_shape(x)
        self.n = x.size // max(math.prod(self.kept), 1)  # 0 for an empty axis: the mean is nan, as in NumPy
        return x.sum(axis=self.axis, keepdims=self.keepdims) / self.n  # np.mean adds 2 µs of Python

    def backward(self, gy):
        return self.xp.broadcast_to(self._expand(gy) / self.n, self.shape)


class Max(_Reduction):
    """y = max x over axis.  dy/dx = 1 at the maximum (shared equally among ties), 0 elsewhere."""

    pick = staticmethod(np.max)

    def forward(self, x):
        if x.size == 0:
            raise ValueError(f"{type(self).__name__.lower()}: cannot reduce an empty tensor of shape {x.shape}")
        self.kept = self._kept_shape(x)
        y = self.pick(x, axis=self.axis, keepdims=True)
        hit = x == y
        self.share = (hit / hit.sum(axis=self.axis, keepdims=True)).astype(x.dtype)
        if self.keepdims:
            return y
        axes = normalize_axis("max", self.axis, x.ndim)
        return y.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))

    def backward(self, gy):
        return self._expand(gy) * self.share


class Min(Max):
    """y = min x over axis.  dy/dx = 1 at the minimum (shared equally among ties), 0 elsewhere."""

    pick = staticmethod(np.min)
