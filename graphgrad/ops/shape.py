"""Shape operations: they move elements around, so backward moves the gradient back."""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function


def _shape_arg(shape) -> tuple:
    """reshape(2, 3), reshape((2, 3)) and reshape([2, 3]) all mean the shape (2, 3)."""
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        shape = shape[0]
    return tuple(int(n) for n in shape)


class Reshape(Function):
    """y = x viewed in a new shape.  Backward reshapes the gradient back."""

    name, method, aliases, symbol = "reshape", True, ("view",), "reshape"

    def __init__(self, shape: tuple):
        """Reshape to `shape`."""
        self.shape = shape

    @staticmethod
    def function(x, *shape):
        """x's values in a new shape (one -1 allowed): `reshape(x, 2, 3)` or `reshape(x, (2, 3))`."""
        return Reshape(_shape_arg(shape))(x)

    def forward(self, x):
        self.in_shape = tuple(x.shape)
        try:
            return self.xp.reshape(x, self.shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {tuple(x.shape)} ({math.prod(x.shape)} "
                f"elements) into shape {self.shape}"
            ) from None

    def backward(self, gy):
        return self.xp.reshape(gy, self.in_shape)


class Transpose(Function):
    """y = x with its axes permuted.  Backward applies the inverse permutation."""

    name, method, symbol = "permute", True, "T"

    def __init__(self, axes=None):
        """Permute the axes to `axes` (None: reversed)."""
        self.axes = axes

    @staticmethod
    def function(x, *dims):
        """Permute the axes: `permute(x, 2, 0, 1)` or `permute(x, (2, 0, 1))` (all reversed when none are given)."""
        if len(dims) == 1 and (dims[0] is None or not isinstance(dims[0], (int, np.integer))):
            dims = dims[0]
        return Transpose(None if dims is None or dims == () else tuple(int(a) for a in dims))(x)

    def forward(self, x):
        axes = tuple(reversed(range(x.ndim))) if self.axes is None else tuple(self.axes)
        if sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)) or len(axes) != x.ndim:
            raise ValueError(f"transpose: axes {axes} are not a permutation of a tensor of shape {tuple(x.shape)}")
        self.perm = tuple(a % max(x.ndim, 1) for a in axes)
        return self.xp.permute_dims(x, self.perm)

    def backward(self, gy):
        return self.xp.permute_dims(gy, tuple(int(i) for i in np.argsort(self.perm)))


class SwapAxes(Function):
    """y = x with two axes exchanged (PyTorch's transpose(x, dim0, dim1)).  Backward swaps them back."""

    name, method, aliases, symbol = "transpose", True, ("swapaxes", "swapdims"), "T"

    def __init__(self, dim0: int, dim1: int):
        """Swap the axes `dim0` and `dim1`."""
        self.dim0, self.dim1 = dim0, dim1

    @staticmethod
    def function(x, *dims):
        """`transpose(x, d0, d1)` swaps two axes, as PyTorch; NumPy's spellings also work: `transpose(x)`
        reverses the axes and `transpose(x, (2, 0, 1))` (one tuple) permutes them."""
        if len(dims) == 2 and all(isinstance(d, (int, np.integer)) for d in dims):
            return SwapAxes(int(dims[0]), int(dims[1]))(x)
        return Transpose.function(x, *dims)

    def forward(self, x):
        n = max(x.ndim, 1)
        if not (-n <= self.dim0 < n and -n <= self.dim1 < n):
            raise IndexError(f"transpose: dimensions {(self.dim0, self.dim1)} are out of range for a tensor "
                             f"with {x.ndim} dimensions")
        self.perm = list(range(x.ndim))
        if x.ndim:
            a, b = self.dim0 % n, self.dim1 % n
            self.perm[a], self.perm[b] = b, a
        return self.xp.permute_dims(x, tuple(self.perm))

    def backward(self, gy):
        return self.xp.permute_dims(gy, tuple(self.perm))  # a swap is its own inverse


class BroadcastTo(Function):
    """y = x repeated to a larger shape.  dy/dx sums the gradient over the repeats."""

    name, method, symbol = "broadcast_to", True, "broadcast"

    def __init__(self, shape: tuple):
        """Broadcast to `shape`."""
        self.shape = tuple(shape)

    def forward(self, x):
        self.in_shape = tuple(x.shape)
        try:
            return self.xp.broadcast_to(x, self.shape)
        except ValueError:
            raise ValueError(f"broadcast_to: cannot broadcast shape {tuple(x.shape)} to {self.shape}") from None

    def backward(self, gy):
        return self.xp.sum_to(gy, self.in_shape)


class ExpandDims(Function):
    """y = x with a new axis of size 1.  Backward removes it."""

    name, method, aliases, symbol = "expand_dims", True, ("unsqueeze",), "expand_dims"

    def __init__(self, axis: int):
        """Insert a size-1 axis at `axis`."""
        self.axis = axis

    def forward(self, x):
        self.in_shape = tuple(x.shape)
        if not isinstance(self.axis, (int, np.integer)) or not -x.ndim - 1 <= self.axis <= x.ndim:
            raise ValueError(f"expand_dims: axis {self.axis!r} is out of range for a tensor with {x.ndim} dimensions")
        return self.xp.expand_dims(x, axis=int(self.axis))

    def backward(self, gy):
        return self.xp.reshape(gy, self.in_shape)


class Squeeze(Function):
    """y = x without axes of size 1 (a named axis of another size is kept, as in PyTorch).  Backward puts them back."""

    name, method, symbol = "squeeze", True, "squeeze"

    def __init__(self, axis=None):
        """Remove the size-1 axes `axis` (all of them when None)."""
        self.axis = axis

    def forward(self, x):
        self.in_shape = tuple(x.shape)
        axis = self.axis
        if axis is not None:
            axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
            for a in axes:
                if not -max(x.ndim, 1) <= a < max(x.ndim, 1):
                    raise IndexError(f"squeeze: dimension {a} is out of range for a tensor with {x.ndim} dimensions")
            axis = tuple(a % max(x.ndim, 1) for a in axes if x.ndim and x.shape[a] == 1)
        try:
            return self.xp.squeeze(x, axis=axis)
        except ValueError:
            raise ValueError(f"squeeze: axis {self.axis} of shape {tuple(x.shape)} does not have size 1") from None

    def backward(self, gy):
        return self.xp.reshape(gy, self.in_shape)


class GetItem(Function):
    """y = x[index] (ints, slices, masks, integer arrays).  Backward scatters the gradient back,
    adding where an element was picked more than once."""

    name, operator, symbol = "getitem", "getitem", "[ ]"

    def __init__(self, index):
        """Index with `index` (ints, slices, masks, integer arrays)."""
        self.index = index

    @staticmethod
    def function(x, index):
        """x[index]; tensors inside the index are used by value."""
        items = index if isinstance(index, tuple) else (index,)
        items = tuple(getattr(i, "data", i) if hasattr(i, "creator") else i for i in items)
        return GetItem(items if isinstance(index, tuple) else items[0])(x)

    def forward(self, x):
        self.in_shape = tuple(x.shape)
        try:
            return self.xp.getitem(x, self.index)
        except IndexError as err:
            raise IndexError(f"getitem: {err} (tensor shape {tuple(x.shape)})") from None

    def backward(self, gy):
        return self.xp.scatter_add(self.in_shape, self.index, gy)


class ScatterAdd(Function):
    """y = zeros(shape) with x added at index: the adjoint of GetItem (used for its gradient)."""

    symbol = "scatter+"

    def __init__(self, shape: tuple, index):
        """Scatter-add into zeros of `shape` at `index`."""
        self.shape, self.index = tuple(shape), index

    def forward(self, x):
        return self.xp.scatter_add(self.shape, self.index, x)

    def backward(self, gy):
        return self.xp.getitem(gy, self.index)


class Concatenate(Function):
    """y = the inputs joined along an existing axis.  Backward slices the gradient apart."""

    name, aliases, symbol = "concatenate", ("cat", "concat"), "concat"

    def __init__(self, axis: int = 0):
        """Join along the existing `axis`."""
        self.axis = axis

    def forward(self, *xs):
        try:
            y = self.xp.concat(xs, axis=self.axis)
        except (ValueError, IndexError) as err:
            raise ValueError(f"concatenate: {err}; input shapes {[tuple(x.shape) for x in xs]}") from None
        self.ax = self.axis % y.ndim
        self.bounds = [int(b) for b in np.cumsum([0] + [x.shape[self.ax] for x in xs])]
        return y

    def backward(self, gy):
        lead = (slice(None),) * self.ax
        return tuple(gy[lead + (slice(a, b), ...)] for a, b in zip(self.bounds[:-1], self.bounds[1:]))


class Stack(Function):
    """y = the inputs joined along a new axis.  Backward takes each slice of the gradient."""

    name, symbol = "stack", "stack"

    def __init__(self, axis: int = 0):
        """Join along a new `axis`."""
        self.axis = axis

    def forward(self, *xs):
        try:
            y = self.xp.stack(xs, axis=self.axis)
        except (ValueError, IndexError) as err:
            raise ValueError(f"stack: {err}; input shapes {[tuple(x.shape) for x in xs]}") from None
        self.ax, self.n = self.axis % y.ndim, len(xs)
        return y

    def backward(self, gy):
        lead = (slice(None),) * self.ax
        return tuple(gy[lead + (i, ...)] for i in range(self.n))


class Flatten(Function):
    """y = x with axes start_dim..end_dim merged into one (PyTorch's flatten).  Backward reshapes back."""

    name, method, symbol = "flatten", True, "flatten"

    def __init__(self, start_dim: int = 0, end_dim: int = -1):
        """Merge the dims start_dim..end_dim (inclusive) into one."""
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        self.in_shape = shape = tuple(x.shape)
        if not shape:
            return self.xp.reshape(x, (1,))
        n = len(shape)
        for d in (self.start_dim, self.end_dim):
            if not isinstance(d, (int, np.integer)) or not -n <= d < n:
                raise ValueError(f"flatten: dimension {d!r} is out of range for a tensor of shape {shape}")
        start, end = self.start_dim % n, self.end_dim % n
        if start > end:
            raise ValueError(f"flatten: start_dim {self.start_dim} comes after end_dim {self.end_dim} "
                             f"for a tensor of shape {shape}")
        return self.xp.reshape(x, shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:])

    def backward(self, gy):
        return self.xp.reshape(gy, self.in_shape)
