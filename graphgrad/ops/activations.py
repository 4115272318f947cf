"""Activations and the softmax family. Sigmoid and tanh differentiate through their output."""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function


class Sigmoid(Function):
    """y = 1 / (1 + e⁻ˣ).  dy/dx = y(1 - y)."""

    name, method, symbol, elementwise = "sigmoid", True, "σ", True

    def forward(self, x):
        y = 0.5 * (1 + self.xp.tanh(0.5 * x))  # the same function, without overflow for large -x
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved
        return gy * y * (1 - y)


class Tanh(Function):
    """y = tanh x.  dy/dx = 1 - y²."""

    name, method, symbol, elementwise = "tanh", True, "tanh", True

    def forward(self, x):
        y = self.xp.tanh(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved
        return gy * (1 - y * y)


class ReLU(Function):
    """y = max(x, 0).  dy/dx = 1[x > 0]."""

    name, method, symbol, elementwise = "relu", True, "ReLU", True

    def forward(self, x):
        y = self.xp.maximum(x, 0)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved
        if type(gy) is np.ndarray:
            return gy * (y > 0)  # the mask from the output: forward stays a single pass
        return gy * self.xp.astype(y > 0, gy.dtype)  # Array-API libraries multiply floats by floats only


class Softmax(Function):
    """y = eˣ / Σ eˣ along axis.  dy/dx·g = y(g - Σ g·y)."""

    name, method, symbol = "softmax", True, "softmax"

    def __init__(self, axis: int = -1):
        self.axis = axis

    def forward(self, x):
        xp = self.xp
        check_axis("softmax", self.axis, x.ndim)
        e = xp.exp(x - xp.max(x, axis=self.axis, keepdims=True))
        y = e / xp.sum(e, axis=self.axis, keepdims=True)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved
        return y * (gy - self.xp.sum(gy * y, axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """y = x - log Σ eˣ along axis.  dy/dx·g = g - softmax(x)·Σ g."""

    name, method, symbol = "log_softmax", True, "log_softmax"

    def __init__(self, axis: int = -1):
        self.axis = axis

    def forward(self, x):
        check_axis("log_softmax", self.axis, x.ndim)
        y = x - logsumexp_kept(self.xp, x, self.axis)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved
        xp = self.xp
        return gy - xp.exp(y) * xp.sum(gy, axis=self.axis, keepdims=True)


class LogSumExp(Function):
    """y = log Σ eˣ over axis.  dy/dx = softmax(x)."""

    name, method, symbol = "logsumexp", True, "logsumexp"

    def __init__(self, axis=None, keepdims: bool = False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        xp = self.xp
        if self.axis is not None:
            for a in (self.axis if isinstance(self.axis, tuple) else (self.axis,)):
                check_axis("logsumexp", a, x.ndim)
        y = logsumexp_kept(xp, x, self.axis)
        self.kept = tuple(y.shape)
        if not self.keepdims:
            y = xp.reshape(y, tuple(n for i, n in enumerate(x.shape) if i not in _axes(self.axis, x.ndim)))
        self.save_for_backward(x, y)
        return y

    def backward(self, gy):
        x, y = self.saved
        xp = self.xp
        return xp.reshape(gy, self.kept) * xp.exp(x - xp.reshape(y, self.kept))


def _axes(axis, ndim: int) -> tuple:
    if axis is None:
        return tuple(range(ndim))
    return tuple(a % ndim for a in (axis if isinstance(axis, tuple) else (axis,)))


def check_axis(op: str, axis, ndim: int) -> None:
    """Raise naming `op` unless `axis` is a valid axis of an array with `ndim` dimensions."""
    if not isinstance(axis, int) or isinstance(axis, bool):
        raise TypeError(f"{op}: axis must be an int, got {axis!r}")
    if not -max(ndim, 1) <= axis < max(ndim, 1):
        raise ValueError(f"{op}: axis {axis} is out of range for a tensor with {ndim} dimensions")


def logsumexp_kept(xp, x, axis):
    """log Σ eˣ with keepdims, shifted by the maximum so it never overflows."""
    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    return xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
