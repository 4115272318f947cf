"""Activations and the softmax family. Sigmoid and tanh differentiate through their output."""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function


class Sigmoid(Function):
    """y = 1 / (1 + e⁻ˣ).  dy/dx = y(1 - y)."""

    def forward(self, x):
        self.y = 0.5 * (1 + np.tanh(0.5 * x))  # the same function, without overflow for large -x
        return self.y

    def backward(self, gy):
        return gy * self.y * (1 - self.y)


class Tanh(Function):
    """y = tanh x.  dy/dx = 1 - y²."""

    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, gy):
        return gy * (1 - self.y * self.y)


class ReLU(Function):
    """y = max(x, 0).  dy/dx = 1[x > 0]."""

    def forward(self, x):
        self.y = np.maximum(x, 0)
        return self.y

    def backward(self, gy):
        return gy * (self.y > 0)  # the mask from the output: forward stays a single pass


class Softmax(Function):
    """y = eˣ / Σ eˣ along axis.  dy/dx·g = y(g - Σ g·y)."""

    def __init__(self, axis: int = -1):
        self.axis = axis

    def forward(self, x):
        e = np.exp(x - x.max(axis=self.axis, keepdims=True))
        self.y = e / e.sum(axis=self.axis, keepdims=True)
        return self.y

    def backward(self, gy):
        y = self.y
        return y * (gy - (gy * y).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """y = x - log Σ eˣ along axis.  dy/dx·g = g - softmax(x)·Σ g."""

    def __init__(self, axis: int = -1):
        self.axis = axis

    def forward(self, x):
        self.y = x - _logsumexp(x, self.axis)
        return self.y

    def backward(self, gy):
        return gy - self.xp.exp(self.y) * gy.sum(axis=self.axis, keepdims=True)


class LogSumExp(Function):
    """y = log Σ eˣ over axis.  dy/dx = softmax(x)."""

    def __init__(self, axis=None, keepdims: bool = False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        y = _logsumexp(x, self.axis)
        self.x, self.kept = x, y.shape
        self.y = y if self.keepdims else np.squeeze(y, axis=self.axis)
        return self.y

    def backward(self, gy):
        return gy.reshape(self.kept) * self.xp.exp(self.x - self.y.reshape(self.kept))


def _logsumexp(x: np.ndarray, axis) -> np.ndarray:
    """log Σ eˣ with keepdims, shifted by the maximum so it never overflows."""
    m = x.max(axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    return np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
