"""Padding: PyTorch's pad (constant, reflect, replicate, circular), pad tuple last axis first."""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..backend import namespace

MODES = ("constant", "reflect", "replicate", "circular")


def source_index(mode: str, n: int, lo: int, hi: int) -> np.ndarray:
    """For each position of a padded axis, the input position it copies (non-constant modes)."""
    i = np.arange(-lo, n + hi)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        return i % n
    i = np.abs(i)  # reflect: mirror at both ends without repeating the edge
    return np.where(i > n - 1, 2 * (n - 1) - i, i)


class Pad(Function):
    """y = x padded: `pad` = (left, right) for the last axis, then for the one before, and so on.

    constant fills with `value`; reflect mirrors (without the edge), replicate repeats the edge,
    circular wraps around. dy/dx·g: g's interior (constant) or g summed back onto the copied positions.
    """

    name, symbol = "pad", "pad"

    def __init__(self, pad, mode="constant", value=0.0):
        """Padding by `pad` (pairs from the last axis back) in `mode` ('constant', 'reflect', 'replicate', 'circular'), filling with `value` for 'constant'."""
        self.pad, self.mode, self.value = pad, mode, value

    def forward(self, x):
        pad, mode = tuple(self.pad), self.mode
        if mode not in MODES:
            raise ValueError(f"pad: mode must be one of {', '.join(MODES)}, got {mode!r}")
        if len(pad) % 2 or len(pad) // 2 > x.ndim or not all(isinstance(p, (int, np.integer)) for p in pad):
            raise ValueError(f"pad: pad must hold an even number of ints, at most 2 per axis of the input "
                             f"{tuple(x.shape)}, got {pad!r}")
        if any(p < 0 for p in pad):
            raise ValueError(f"pad: negative padding {pad!r} is not supported; slice the input instead")
        widths = {x.ndim - 1 - i: (int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(len(pad) // 2)}
        self.widths, self.in_shape = widths, tuple(x.shape)
        xp = self.xp
        if mode == "constant":
            shape = tuple(n + sum(widths.get(a, (0, 0))) for a, n in enumerate(x.shape))
            out = xp.full(shape, self.value, dtype=x.dtype, like=x)
            out[self.interior()] = x
            return out
        for a, (lo, hi) in widths.items():
            n = x.shape[a]
            if mode == "reflect" and (lo >= n or hi >= n):
                raise ValueError(f"pad: reflect padding ({lo}, {hi}) must be smaller than the axis it pads "
                                 f"(axis {a} of input {tuple(x.shape)} has size {n})")
            if mode == "circular" and (lo > n or hi > n):
                raise ValueError(f"pad: circular padding ({lo}, {hi}) must be at most the size of axis {a} "
                                 f"of input {tuple(x.shape)}")
        y = x
        for a, (lo, hi) in widths.items():
            y = xp.take(y, xp.constant(source_index(mode, x.shape[a], lo, hi), x, xp.int64), axis=a)
        return y

    def interior(self) -> tuple:
        """The index of the input inside the padded output: one slice per axis (set by the last forward)."""
        return tuple(slice(w[0], w[0] + n) if (w := self.widths.get(a)) else slice(None)
                     for a, n in enumerate(self.in_shape))

    def backward(self, gy):
        if self.mode == "constant":
            return gy[self.interior()]
        xp, data = self.xp, gy.data if hasattr(gy, "creator") else gy  # create_graph hands backward tensors
        g = gy
        for a, (lo, hi) in self.widths.items():
            n = self.in_shape[a]
            onehot = np.zeros((n + lo + hi, n))
            onehot[np.arange(n + lo + hi), source_index(self.mode, n, lo, hi)] = 1
            order = [i for i in range(g.ndim) if i != a] + [a]
            moved = xp.matmul(xp.permute_dims(g, tuple(order)), namespace(data).constant(onehot, data))
            g = xp.permute_dims(moved, tuple(int(i) for i in np.argsort(order)))
        return g
