"""Shape operations: they move elements around, so backward moves the gradient back."""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function


class Reshape(Function):
    """y = x viewed in a new shape.  Backward reshapes the gradient back."""

    def __init__(self, shape: tuple):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) "
                f"into shape {self.shape}"
            ) from None

    def backward(self, gy):
        return gy.reshape(self.in_shape)


class Transpose(Function):
    """y = x with its axes permuted.  Backward applies the inverse permutation."""

    def __init__(self, axes=None):
        self.axes = axes

    def forward(self, x):
        axes = tuple(reversed(range(x.ndim))) if self.axes is None else tuple(self.axes)
        if sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of a tensor of shape {x.shape}")
        self.perm = axes
        return x.transpose(axes)

    def backward(self, gy):
        return gy.transpose(tuple(np.argsort([a % gy.ndim for a in self.perm])))


class BroadcastTo(Function):
    """y = x repeated to a larger shape.  dy/dx sums the gradient over the repeats."""

    def __init__(self, shape: tuple):
        self.shape = tuple(shape)

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return np.broadcast_to(x, self.shape)
        except ValueError:
            raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {self.shape}") from None

    def backward(self, gy):
        return self.xp.sum_to(gy, self.in_shape)


class ExpandDims(Function):
    """y = x with a new axis of size 1.  Backward removes it."""

    def __init__(self, axis: int):
        self.axis = axis

    def forward(self, x):
        self.in_shape = x.shape
        return np.expand_dims(x, self.axis)

    def backward(self, gy):
        return gy.reshape(self.in_shape)


class Squeeze(Function):
    """y = x without axes of size 1.  Backward puts them back."""

    def __init__(self, axis=None):
        self.axis = axis

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return np.squeeze(x, self.axis)
        except ValueError:
            raise ValueError(f"squeeze: axis {self.axis} of shape {x.shape} does not have size 1") from None

    def backward(self, gy):
        return gy.reshape(self.in_shape)


class GetItem(Function):
    """y = x[index] (ints, slices, masks, integer arrays).  Backward scatters the gradient back,
    adding where an element was picked more than once."""

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return x[self.index]
        except IndexError as err:
            raise IndexError(f"getitem: {err} (tensor shape {x.shape})") from None

    def backward(self, gy):
        return self.xp.scatter_add(self.in_shape, self.index, gy)


class ScatterAdd(Function):
    """y = zeros(shape) with x added at index: the adjoint of GetItem (used for its gradient)."""

    def __init__(self, shape: tuple, index):
        self.shape, self.index = shape, index

    def forward(self, x):
        out = np.zeros(self.shape, dtype=x.dtype)
        np.add.at(out, self.index, x)
        return out

    def backward(self, gy):
        return gy[self.index]


class Concatenate(Function):
    """y = the inputs joined along an existing axis.  Backward slices the gradient apart."""

    def __init__(self, axis: int = 0):
        self.axis = axis

    def forward(self, *xs):
        try:
            y = np.concatenate(xs, axis=self.axis)
        except ValueError as err:
            raise ValueError(f"concatenate: {err}; input shapes {[x.shape for x in xs]}") from None
        self.ax = self.axis % y.ndim
        self.bounds = np.cumsum([0] + [x.shape[self.ax] for x in xs])
        return y

    def backward(self, gy):
        lead = (slice(None),) * self.ax
        return tuple(gy[lead + (slice(a, b),)] for a, b in zip(self.bounds[:-1], self.bounds[1:]))


class Stack(Function):
    """y = the inputs joined along a new axis.  Backward takes each slice of the gradient."""

    def __init__(self, axis: int = 0):
        self.axis = axis

    def forward(self, *xs):
        try:
            y = np.stack(xs, axis=self.axis)
        except ValueError as err:
            raise ValueError(f"stack: {err}; input shapes {[x.shape for x in xs]}") from None
        self.ax, self.n = self.axis % y.ndim, len(xs)
        return y

    def backward(self, gy):
        lead = (slice(None),) * self.ax
        return tuple(gy[lead + (i,)] for i in range(self.n))
