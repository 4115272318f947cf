"""Indexing along a dimension: gather and its adjoints (scatter, scatter_add, scatter_reduce), and the
ops built from them or from `x[index]` (index_select, masked_fill, masked_select, nonzero, one_hot).

`gather(x, dim, index)` picks `x[..., index[i, j, k], ...]` along `dim`; its gradient adds the
upstream gradient back at the picked positions (`scatter_add`), and scatter's gradient is a gather.
Index tensors are integer inputs that carry no gradient.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..backend import is_floating, namespace
from .math import constant
from ..autograd.tensor import unwrap


def along(index, dim: int) -> tuple:
    """The full NumPy index that addresses position index[i, j, ...] along `dim` and (i, j, ...) elsewhere."""
    grid = list(np.indices(index.shape, sparse=True))
    grid[dim] = index
    return tuple(grid)


def take_along(xp, x, index, dim: int):
    """x[along(index, dim)] in the standard's terms: x cut to index's extent off `dim`, then take_along_axis."""
    region = tuple(slice(0, n) if d != dim else slice(None) for d, n in enumerate(index.shape))
    return xp.take_along_axis(x[region], index, axis=dim)


def _check_index(op: str, x, dim: int, index, xp) -> int:
    if "int" not in str(index.dtype):
        raise TypeError(f"{op}: index must be an integer tensor, got dtype {index.dtype}")
    if index.ndim != x.ndim:
        raise ValueError(f"{op}: index has {index.ndim} dimensions, the input {x.ndim}; they must match")
    if not -max(x.ndim, 1) <= dim < max(x.ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {x.ndim} dimensions")
    dim = dim % max(x.ndim, 1)
    for d in range(x.ndim):
        if d != dim and index.shape[d] > x.shape[d]:
            raise ValueError(f"{op}: index shape {tuple(index.shape)} exceeds the input shape {tuple(x.shape)} at dim {d}")
    if math.prod(index.shape) and (int(xp.max(index)) >= x.shape[dim] or int(xp.min(index)) < -x.shape[dim]):
        raise IndexError(f"{op}: index out of range for dimension {dim} of size {x.shape[dim]}")
    return dim


class Gather(Function):
    """y[i][j] = x[index[i][j]][j] along dim (PyTorch's gather).  dy/dx adds the gradient back at the picked places."""

    name, method, symbol = "gather", True, "gather"

    def __init__(self, dim: int):
        """Gather along `dim`."""
        self.dim = dim

    @staticmethod
    def function(x, dim, index):
        """x's entries at `index` along `dim` (index has x's number of dimensions)."""
        return Gather(dim)(x, index)

    def forward(self, x, index):
        dim = self.d = _check_index("gather", x, self.dim, index, self.xp)
        self.in_shape = tuple(x.shape)
        self.save_for_backward(index)
        return take_along(self.xp, x, index, dim)

    def backward(self, gy):
        (index,) = self.saved
        return self.xp.scatter_add_along(self.in_shape, self.d, index, gy), None


class ScatterAddAlong(Function):
    """y = zeros(shape) with values added at index along dim: gather's adjoint (its gradient)."""

    symbol = "scatter+"

    def __init__(self, shape: tuple, dim: int):
        """Scatter-add into zeros of `shape` along `dim`."""
        self.shape, self.dim = tuple(shape), dim

    def forward(self, index, values):
        self.save_for_backward(index)
        return self.xp.scatter_add_along(self.shape, self.dim, index, values)

    def backward(self, gy):
        (index,) = self.saved
        return None, _take(self.xp, gy, index, self.dim)


class Scatter(Function):
    """y = x with src written at index along dim.  dy/dx = 1 where not overwritten; dy/dsrc = gather of the gradient."""

    name, method, inplace, symbol = "scatter", True, True, "scatter"

    def __init__(self, dim: int, reduce=None):
        """Write along `dim`; `reduce` is kept as configuration only (scatter(..., reduce=...) builds a ScatterReduce)."""
        self.dim, self.reduce = dim, reduce

    @staticmethod
    def function(x, dim, index, src=None, *, value=None, reduce=None):
        """x with `src` (a tensor, or `value`) written at `index` along `dim`."""
        if reduce is not None:
            return ScatterReduce(dim, {"add": "sum", "multiply": "prod"}.get(reduce, reduce), True)(x, index, _src(x, index, src, value))
        return Scatter(dim)(x, index, _src(x, index, src, value))

    def forward(self, x, index, src):
        xp = self.xp
        dim = self.d = _check_index("scatter", x, self.dim, index, xp)
        part = src[tuple(slice(0, n) for n in index.shape)]
        if type(x) is np.ndarray:
            where = along(index, dim)
            y = x.copy()
            y[where] = part
            kept = np.ones_like(x)
            kept[where] = 0
        else:  # the standard has no scatter: add into zeros, which is the same where no position repeats
            hits = xp.scatter_add_along(tuple(x.shape), dim, index, xp.ones_like(part))
            if int(xp.max(hits)) > 1:
                raise ValueError(f"scatter: repeated indices along dim {dim} are supported on NumPy only "
                                 f"({xp.name} has no scatter to pick the last write)")
            kept = 1 - hits
            y = xp.where(hits > 0, xp.scatter_add_along(tuple(x.shape), dim, index, part), x)
        self.save_for_backward(index, kept)
        return y

    def backward(self, gy):
        index, kept = self.saved
        gsrc = None
        if self.needs_input_grad[2]:
            gsrc = _take(self.xp, gy, index, self.d)
            gsrc = _pad_to(self.xp, gsrc, self.inputs[2].shape) if self.inputs else gsrc
        return self.xp.masked_product(gy, kept), None, gsrc


def _src(x, index, src, value):
    from ..autograd.tensor import Tensor

    if src is None:
        if value is None:
            raise TypeError("scatter: give src (a tensor) or value (a number)")
        src = value
    if isinstance(src, (int, float)):
        xp = namespace(unwrap(x))
        return Tensor(xp.full(tuple(index.shape), src, dtype=x.dtype, like=unwrap(x)))
    return src


def _pad_to(xp, g, shape):
    """g (shaped like the index) placed at the start of zeros shaped like src (src may be larger)."""
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    region = tuple(slice(0, n) for n in g.shape)
    return xp.scatter_add(shape, region, g)


def _take(xp, g, index, dim: int):
    """g at index along dim: a recorded Gather under create_graph, else take_along."""
    return Gather(dim)(g, index) if xp.differentiable else take_along(xp, g, index, dim)


class ScatterAddDim(Function):
    """y = x with src added at index along dim (repeats accumulate).  dy/dx = 1, dy/dsrc = gather of the gradient."""

    name, method, inplace, symbol = "scatter_add", True, True, "scatter_add"

    def __init__(self, dim: int):
        """Scatter-add along `dim`."""
        self.dim = dim

    @staticmethod
    def function(x, dim, index, src):
        """x with src added at `index` along `dim`."""
        return ScatterAddDim(dim)(x, index, src)

    def forward(self, x, index, src):
        dim = self.d = _check_index("scatter_add", x, self.dim, index, self.xp)
        self.save_for_backward(index)
        part = src[tuple(slice(0, n) for n in index.shape)]
        return x + self.xp.scatter_add_along(tuple(x.shape), dim, index, part)

    def backward(self, gy):
        (index,) = self.saved
        gsrc = None
        if self.needs_input_grad[2]:
            gsrc = _take(self.xp, gy, index, self.d)
            gsrc = _pad_to(self.xp, gsrc, self.inputs[2].shape) if self.inputs else gsrc
        return gy, None, gsrc


class ScatterReduce(Function):
    """y = x with src reduced in at index along dim ('sum', 'prod', 'mean', 'amax', 'amin'; PyTorch's scatter_reduce).

    Gradients as PyTorch: sum passes it through; mean divides by the count; amax/amin share it among
    the reduced elements equal to the result (PyTorch also counts x's own when include_self=False);
    prod gives y/element (defined where no reduced element is 0).
    """

    name, method, inplace, symbol = "scatter_reduce", True, True, "scatter_reduce"
    REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")

    def __init__(self, dim: int, reduce: str, include_self: bool = True):
        """Scatter-reduce along `dim` with `reduce` (one of REDUCTIONS); `include_self` reduces x's own values in too."""
        if reduce not in self.REDUCTIONS:
            raise ValueError(f"scatter_reduce: reduce must be one of {', '.join(self.REDUCTIONS)}, got {reduce!r}")
        self.dim, self.reduce, self.include_self = dim, reduce, include_self

    @staticmethod
    def function(x, dim, index, src, reduce, *, include_self: bool = True):
        """x with src reduced in at `index` along `dim`."""
        return ScatterReduce(dim, reduce, include_self)(x, index, src)

    def forward(self, x, index, src):
        xp = self.xp
        dim = self.d = _check_index("scatter_reduce", x, self.dim, index, xp)
        shape = tuple(x.shape)
        src = xp.astype(src[tuple(slice(0, n) for n in index.shape)], x.dtype, copy=False)
        count = xp.scatter_add_along(shape, dim, index, xp.ones_like(src))  # the values reduced at each position
        kept = xp.astype(count == 0, x.dtype)  # 1 where nothing lands
        y = xp.scatter_reduce_along(shape, dim, index, src, "sum" if self.reduce == "mean" else self.reduce)
        if self.include_self:  # y holds the reduction's identity where nothing lands
            y = getattr(xp, {"prod": "multiply", "amax": "maximum", "amin": "minimum"}.get(self.reduce, "add"))(x, y)
            count = count + (1 - kept)
        else:
            y = xp.where(kept > 0, x, y)
        if self.reduce == "mean":
            n = xp.where(count > 0, count, xp.ones_like(count))
            y = y / n if is_floating(x.dtype) else y // n  # integers: floor division, as PyTorch
        self.save_for_backward(index, x, src, y, count, kept)
        return y

    def backward(self, gy):
        index, x, src, y, count, kept = self.saved
        xp, d = self.xp, self.d
        hit = 1 - kept
        if self.reduce == "sum":
            gx, gsrc = gy if self.include_self else xp.masked_product(gy, kept), _take(xp, gy, index, d)
        elif self.reduce == "mean":
            scale = gy / xp.where(hit > 0, count, xp.ones_like(count))
            own = xp.masked_product(gy, kept)  # where nothing lands, y is x
            gx = xp.masked_product(scale, hit) + own if self.include_self else own
            gsrc = _take(xp, scale, index, d)
        elif self.reduce == "prod":
            one = xp.ones_like(x)
            if bool(xp.any(src == 0)) or (self.include_self and bool(xp.any(xp.where(hit > 0, x, one) == 0))):
                raise NotImplementedError("scatter_reduce(reduce='prod'): the gradient where an element is 0 is not implemented")
            gx = (gy * xp.where(hit > 0, y, one) / xp.where(hit > 0, x, one) if self.include_self
                  else xp.masked_product(gy, kept))
            gsrc = _take(xp, gy * y, index, d) / src
        else:  # amax / amin: shared among the elements equal to the result
            tie = xp.astype(src == _take(xp, y, index, d), gy.dtype)
            x_tie = xp.astype(x == y, gy.dtype) if self.include_self else xp.zeros_like(gy)
            n = xp.scatter_add_along(tuple(y.shape), d, index, tie) + x_tie
            share = gy / xp.where(n > 0, n, xp.ones_like(n))
            gx = xp.masked_product(share, x_tie) if self.include_self else xp.masked_product(gy, kept)
            gsrc = xp.masked_product(_take(xp, share, index, d), tie)
        return gx, None, _pad_to(xp, gsrc, self.inputs[2].shape) if self.inputs else gsrc


class IndexSelect(Function):
    """y = x[..., index, ...] along dim (PyTorch's index_select): the rows picked by a 1-D index."""

    name, method = "index_select", True

    @staticmethod
    def function(x, dim, index):
        """The entries of x at `index` (1-D integer tensor) along `dim`."""
        from .shape import GetItem

        idx = unwrap(index)
        if getattr(idx, "ndim", 1) != 1:
            raise ValueError(f"index_select: index must be 1-D, got shape {tuple(idx.shape)}")
        ndim = len(x.shape)
        if not -max(ndim, 1) <= dim < max(ndim, 1):
            raise IndexError(f"index_select: dim {dim} is out of range for a tensor with {ndim} dimensions")
        idx = idx if hasattr(idx, "shape") else np.asarray(idx)
        return GetItem((slice(None),) * (dim % max(ndim, 1)) + (idx,))(x)


class MaskedFill(Function):
    """y = value where mask, else x (the value in x's dtype).  dy/dx = 1 where not masked."""

    name, method, inplace = "masked_fill", True, True

    @staticmethod
    def function(x, mask, value):
        """x with `value` where `mask` is True (mask broadcasts to x's shape)."""
        from .arithmetic import Where

        v = unwrap(value)
        if hasattr(value, "creator"):
            if value.ndim != 0:
                raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got shape {value.shape}")
            return Where()(mask, value.to(x.dtype) if value.dtype != x.dtype else value, x)
        return Where()(mask, namespace(unwrap(x)).full((), v, dtype=x.dtype, like=unwrap(x)), x)


class MaskedSelect(Function):
    """y = the elements of x where mask (a 1-D tensor; mask and x broadcast together)."""

    name, method = "masked_select", True

    @staticmethod
    def function(x, mask):
        """The 1-D tensor of x's elements where mask is True."""
        from .shape import BroadcastTo, GetItem

        m = unwrap(mask)
        xp = namespace(m)
        if "bool" not in str(m.dtype):
            m = xp.astype(m, xp.bool)
        shape = np.broadcast_shapes(tuple(x.shape), tuple(m.shape))
        if tuple(x.shape) != shape:
            x = BroadcastTo(shape)(x)
        return GetItem(xp.broadcast_to(m, shape))(x)


class Nonzero(Function):
    """The indices of the nonzero elements: an (n, ndim) int64 tensor, or one 1-D tensor per dimension (no gradient)."""

    name, method = "nonzero", True

    @staticmethod
    def function(x, *, as_tuple: bool = False):
        """Indices of x's nonzero elements (no gradient)."""
        out = constant(Nonzero(), x)
        if not as_tuple:
            return out
        from ..autograd.tensor import Tensor

        xp = namespace(out.data)
        return tuple(Tensor(xp.asarray(out.data[:, i], copy=True)) for i in range(out.data.shape[1]))

    def forward(self, x):
        return self.xp.astype(self.xp.stack(self.xp.nonzero(x), axis=-1), self.xp.int64) if x.ndim else \
            self.xp.zeros((int(bool(x)), 0), dtype=self.xp.int64)


class OneHot(Function):
    """y[..., c] = 1 where the label is c: integer labels (shape S) to an int64 tensor of shape S + (classes,) (no gradient)."""

    name = "one_hot"

    def __init__(self, num_classes: int = -1):
        """One-hot encoding into `num_classes` classes (-1: the largest label + 1)."""
        self.num_classes = num_classes

    @staticmethod
    def function(tensor, num_classes: int = -1):
        """One-hot encoding of integer class labels (no gradient)."""
        return constant(OneHot(num_classes), tensor)

    def forward(self, t):
        xp = self.xp
        if "int" not in str(t.dtype):
            raise TypeError(f"one_hot: labels must be an integer tensor, got dtype {t.dtype}")
        lo, hi = (int(xp.min(t)), int(xp.max(t))) if math.prod(t.shape) else (0, -1)
        n = hi + 1 if self.num_classes < 0 else self.num_classes
        if lo < 0 or hi >= n:
            raise ValueError(f"one_hot: labels must lie in [0, {n}), got values in [{lo}, {hi}]")
        return xp.astype(t[..., None] == xp.arange(n, like=t), xp.int64)
