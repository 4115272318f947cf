"""Rearranging elements: unflatten, expand, repeat, flip, roll, triangles, diagonals, splitting, grids.

Ops with their own rule (repeat, flip, roll, tril/triu, clone) sit beside their backward; the
rest are built from reshape, broadcast_to and `x[index]`, whose gradients already exist.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from .shape import BroadcastTo, GetItem, Reshape, ScatterAdd, Transpose, _shape_arg
from ..autograd.tensor import unwrap


def _dim(op: str, dim: int, ndim: int) -> int:
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimensions")
    return dim % max(ndim, 1)


class Unflatten(Function):
    """x with dim split into `sizes` (one may be -1)."""

    name, method = "unflatten", True

    @staticmethod
    def function(x, dim: int, sizes):
        """Split dimension `dim` into the dimensions `sizes`."""
        shape = tuple(x.shape)
        d = _dim("unflatten", dim, len(shape))
        return Reshape(shape[:d] + tuple(sizes) + shape[d + 1:])(x)


class ViewAs(Function):
    """x reshaped to other's shape."""

    name, method = "view_as", True

    @staticmethod
    def function(x, other):
        """x in the shape of `other`."""
        return Reshape(tuple(other.shape))(x)


class T(Function):
    """The 2-D transpose (a 0-D or 1-D tensor is returned as is), as PyTorch's t()."""

    name, method = "t", True

    @staticmethod
    def function(x):
        """x with its two dimensions swapped."""
        if len(x.shape) > 2:
            raise ValueError(f"t: expects a tensor with at most 2 dimensions, got shape {tuple(x.shape)}; use transpose(d0, d1)")
        return Transpose((1, 0))(x) if len(x.shape) == 2 else x


class Contiguous(Function):
    """x itself: graphgrad's arrays need no contiguity."""

    name, method = "contiguous", True

    @staticmethod
    def function(x, memory_format=None):
        """x (its memory layout needs no change for any graphgrad op)."""
        return x


class Clone(Function):
    """y = a copy of x.  dy/dx = 1."""

    name, method, elementwise = "clone", True, True

    @staticmethod
    def function(x, *, memory_format=None):
        """A copy of x that records the gradient back to x."""
        return Clone()(x)

    def forward(self, x):
        return self.xp.asarray(x, copy=True)

    def backward(self, gy):
        return gy


class Expand(Function):
    """x broadcast to `sizes` (-1 keeps a dimension), as PyTorch's expand."""

    name, method = "expand", True

    @staticmethod
    def function(x, *sizes):
        """x repeated (without copying in PyTorch, with in graphgrad) to `sizes`; -1 keeps that dimension."""
        sizes = _shape_arg(sizes)
        shape = tuple(x.shape)
        lead = len(sizes) - len(shape)
        if lead < 0:
            raise ValueError(f"expand: the number of sizes {sizes} is less than the tensor's dimensions {shape}")
        target = tuple(shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(sizes))
        if -1 in target:
            raise ValueError(f"expand: -1 is not allowed for a new leading dimension ({sizes})")
        return BroadcastTo(target)(x)


class ExpandAs(Function):
    """x broadcast to other's shape."""

    name, method = "expand_as", True

    @staticmethod
    def function(x, other):
        """x repeated to the shape of `other`."""
        return BroadcastTo(tuple(other.shape))(x)


class Repeat(Function):
    """y = x tiled `repeats` times along each dim (PyTorch's repeat, NumPy's tile).  dy/dx sums over the copies."""

    name, method, aliases, symbol = "repeat", True, ("tile",), "repeat"

    def __init__(self, repeats: tuple):
        """Tile `repeats` times along each dim."""
        self.repeats = tuple(repeats)

    @staticmethod
    def function(x, *repeats):
        """x tiled: `repeat(x, 2, 3)` or `repeat(x, (2, 3))`."""
        repeats = _shape_arg(repeats)
        if len(repeats) < len(x.shape):
            raise ValueError(f"repeat: {len(repeats)} repeats for a tensor with {len(x.shape)} dimensions; give at least one per dimension")
        return Repeat(repeats)(x)

    def forward(self, x):
        shape = (1,) * (len(self.repeats) - x.ndim) + tuple(x.shape)
        self.shape = shape
        x = self.xp.reshape(x, shape)
        return self.xp.tile(x, self.repeats)

    def backward(self, gy):
        xp = self.xp
        split = tuple(v for r, n in zip(self.repeats, self.shape) for v in (r, n))
        summed = xp.sum(xp.reshape(gy, split), axis=tuple(range(0, len(split), 2)))
        return summed


class Flip(Function):
    """y = x reversed along `dims`.  Backward reverses the gradient."""

    name, method, symbol = "flip", True, "flip"

    def __init__(self, dims):
        """Reverse along `dims`."""
        self.dims = dims

    @staticmethod
    def function(x, *dims):
        """x reversed along the given dims: `flip(x, 0)`, `flip(x, (0, 1))` or `flip(x, [0, 1])`."""
        dims = _shape_arg(dims)
        return Flip(tuple(_dim("flip", d, len(x.shape)) for d in dims))(x)

    def forward(self, x):
        return self.xp.flip(x, axis=self.dims)

    def backward(self, gy):
        return self.xp.flip(gy, self.dims)


class Roll(Function):
    """y = x shifted cyclically by `shifts` along `dims` (flattened when dims is None).  Backward shifts back."""

    name, method, symbol = "roll", True, "roll"

    def __init__(self, shifts, dims=None):
        """Shift cyclically by `shifts` along `dims` (the flattened tensor when None)."""
        self.shifts, self.dims = shifts, dims

    def forward(self, x):
        return self.xp.roll(x, self.shifts, axis=self.dims)

    def backward(self, gy):
        back = tuple(-s for s in self.shifts) if isinstance(self.shifts, (tuple, list)) else -self.shifts
        return self.xp.roll(gy, back, self.dims)


class Tril(Function):
    """y = the lower triangle of x (entries above `diagonal` zeroed), over the last two dims.  dy/dx·g = g in the kept triangle, 0 elsewhere."""

    name, method, symbol = "tril", True, "tril"

    def __init__(self, diagonal: int = 0):
        """Keep the triangle bounded by `diagonal` (0: the main diagonal; positive: above it)."""
        self.diagonal = diagonal

    def forward(self, x):
        if x.ndim < 2:
            raise ValueError(f"{self.name}: needs at least 2 dimensions, got shape {tuple(x.shape)}")
        xp = self.xp
        rows, cols = xp.arange(x.shape[-2], like=x)[:, None], xp.arange(x.shape[-1], like=x)[None, :]
        keep = self._keep(rows, cols)
        self.save_for_backward(keep)
        return self.xp.where(keep, x, self.xp.zeros_like(x))

    def _keep(self, rows, cols):
        return cols - rows <= self.diagonal

    def backward(self, gy):
        (keep,) = self.saved
        return self.xp.where(keep, gy, self.xp.zeros_like(gy))


class Triu(Tril):
    """y = the upper triangle of x (entries below `diagonal` zeroed), over the last two dims.  dy/dx·g = g in the kept triangle, 0 elsewhere."""

    name, method, symbol = "triu", True, "triu"

    def _keep(self, rows, cols):
        return cols - rows >= self.diagonal


def _diagonal_index(n: int, m: int, offset: int) -> tuple:
    length = max(0, min(n, m - offset) if offset >= 0 else min(n + offset, m))
    i = np.arange(length)
    return i + max(-offset, 0), i + max(offset, 0)


class Diagonal(Function):
    """The diagonal `offset` of the (dim1, dim2) planes, as the last dimension."""

    name, method = "diagonal", True

    @staticmethod
    def function(x, offset: int = 0, dim1: int = 0, dim2: int = 1):
        """Entries x[..., i, i + offset] of the planes spanned by dim1 and dim2."""
        ndim = len(x.shape)
        a, b = _dim("diagonal", dim1, ndim), _dim("diagonal", dim2, ndim)
        if a == b:
            raise ValueError(f"diagonal: dim1 and dim2 are the same dimension ({dim1})")
        rest = [d for d in range(ndim) if d not in (a, b)]
        moved = Transpose(tuple(rest + [a, b]))(x) if rest + [a, b] != list(range(ndim)) else x
        rows, cols = _diagonal_index(x.shape[a], x.shape[b], offset)
        return GetItem((Ellipsis, rows, cols))(moved)


class Diag(Function):
    """diag(v): the square matrix with v on diagonal `diagonal`; diag(matrix): that diagonal as a vector."""

    name, method = "diag", True

    @staticmethod
    def function(x, diagonal: int = 0):
        """A vector to a diagonal matrix, or a matrix's diagonal to a vector."""
        if len(x.shape) == 2:
            return Diagonal.function(x, diagonal)
        if len(x.shape) != 1:
            raise ValueError(f"diag: expects a 1-D or 2-D tensor, got shape {tuple(x.shape)}")
        n = x.shape[0] + abs(diagonal)
        return ScatterAdd((n, n), _diagonal_index(n, n, diagonal))(x)


class Split(Function):
    """x cut along dim into pieces of `split_size` (the last may be smaller) or of the given sizes."""

    name, method = "split", True

    @staticmethod
    def function(x, split_size_or_sections, dim: int = 0):
        """A tuple of pieces of x along `dim`."""
        d = _dim("split", dim, len(x.shape))
        n = x.shape[d]
        if isinstance(split_size_or_sections, (int, np.integer)):
            size = int(split_size_or_sections)
            if size <= 0:
                raise ValueError(f"split: split_size must be positive, got {size}")
            sizes = [min(size, n - start) for start in range(0, n, size)] or [0]
        else:
            sizes = [int(s) for s in split_size_or_sections]
            if sum(sizes) != n:
                raise ValueError(f"split: sizes {sizes} add up to {sum(sizes)}, not the dimension's size {n}")
        bounds = np.cumsum([0] + sizes)
        lead = (slice(None),) * d
        return tuple(GetItem(lead + (slice(int(a), int(b)),))(x) for a, b in zip(bounds[:-1], bounds[1:]))


class Chunk(Function):
    """x cut along dim into `chunks` pieces of equal size (the last may be smaller), as PyTorch's chunk."""

    name, method = "chunk", True

    @staticmethod
    def function(x, chunks: int, dim: int = 0):
        """A tuple of at most `chunks` pieces of x along `dim`."""
        if chunks <= 0:
            raise ValueError(f"chunk: chunks must be positive, got {chunks}")
        n = x.shape[_dim("chunk", dim, len(x.shape))]
        return Split.function(x, max(-(-n // chunks), 1), dim)


class Meshgrid(Function):
    """Coordinate grids from 1-D tensors (indexing 'ij' as PyTorch's default, or 'xy')."""

    name = "meshgrid"

    @staticmethod
    def function(*tensors, indexing: str = "ij"):
        """One grid per input, each of shape (len(t0), len(t1), ...) ('xy' swaps the first two)."""
        if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
            tensors = tuple(tensors[0])
        if indexing not in ("ij", "xy"):
            raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
        sizes = [t.shape[0] if len(t.shape) else 1 for t in tensors]
        if indexing == "xy" and len(tensors) >= 2:
            sizes[0], sizes[1] = sizes[1], sizes[0]
        grids = []
        for i, t in enumerate(tensors):
            k = i if indexing == "ij" or len(tensors) < 2 or i > 1 else 1 - i
            shape = [1] * len(tensors)
            shape[k] = sizes[k]
            grids.append(BroadcastTo(tuple(sizes))(Reshape(tuple(shape))(t)))
        return tuple(grids)


class RepeatInterleave(Function):
    """Each element repeated `repeats` times along dim (flattened when dim is None)."""

    name, method = "repeat_interleave", True

    @staticmethod
    def function(x, repeats, dim=None, *, output_size=None):
        """x's elements each repeated (a number, or one count per element along dim)."""
        r = np.asarray(unwrap(repeats))
        if dim is None:
            x, dim = Reshape((-1,))(x), 0
        d = _dim("repeat_interleave", dim, len(x.shape))
        index = np.repeat(np.arange(x.shape[d]), r)
        return GetItem((slice(None),) * d + (index,))(x)
