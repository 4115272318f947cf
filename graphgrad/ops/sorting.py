"""Ordering along a dimension: sort, argsort, topk, max/min with indices, argmax/argmin, and cumulative ops.

Ops that return values with their indices (sort, topk, max(dim), cummax) compute the indices
without gradient and pick the values with `gather`, so the gradient flows to exactly the picked
elements, as in PyTorch. The results are named tuples: `x.max(1).values`, `x.max(1)[1]`.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..autograd.function import Function
from .indexing import Gather
from .math import constant

ValuesIndices = {name: namedtuple(name, ["values", "indices"]) for name in ("sort", "topk", "max", "min", "cummax",
                                                                            "cummin", "median", "mode", "kthvalue")}


def _dim(op: str, dim, ndim: int) -> int:
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimensions")
    return int(dim) % max(ndim, 1)


class ArgSort(Function):
    """The indices that sort x along dim (stable; descending keeps ties in order, as PyTorch's stable sort); no gradient."""

    name, method = "argsort", True

    def __init__(self, dim: int = -1, descending: bool = False):
        """Sort along `dim`, ascending or `descending`."""
        self.dim, self.descending = dim, descending

    @staticmethod
    def function(x, dim: int = -1, descending: bool = False, *, stable: bool = False):
        """Indices sorting x along `dim` (no gradient)."""
        return constant(ArgSort(dim, descending), x)

    def forward(self, x):
        if x.ndim == 0:
            return self.xp.zeros((), dtype=self.xp.int64)
        dim = _dim("argsort", self.dim, x.ndim)
        return self.xp.astype(self.xp.argsort(x, axis=dim, descending=self.descending, stable=True), self.xp.int64)


def _gather(x, dim, indices):
    return Gather(dim)(x, indices) if len(x.shape) else x


class Sort(Function):
    """(values, indices): x sorted along dim.  The gradient goes back to each value's original place."""

    name, method = "sort", True

    @staticmethod
    def function(x, dim: int = -1, descending: bool = False, *, stable: bool = False):
        """The sorted values and their indices along `dim`."""
        indices = ArgSort.function(x, dim, descending)
        return ValuesIndices["sort"](_gather(x, dim, indices), indices)


class TopK(Function):
    """(values, indices) of the k largest (or smallest) elements along dim, sorted."""

    name, method = "topk", True

    @staticmethod
    def function(x, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
        """The k largest (largest=False: smallest) values along `dim` and their indices."""
        from .shape import GetItem

        n = x.shape[_dim("topk", dim, len(x.shape))] if len(x.shape) else 1
        if not 0 <= k <= n:
            raise ValueError(f"topk: k={k} is out of range for dimension {dim} of size {n}")
        order = ArgSort.function(x, dim, largest)
        d = _dim("topk", dim, len(x.shape)) if len(x.shape) else 0
        indices = constant(GetItem((slice(None),) * d + (slice(0, k),)), order) if len(x.shape) else order
        return ValuesIndices["topk"](_gather(x, dim, indices), indices)


class ArgMax(Function):
    """The index of the maximum along dim (of the flattened tensor when dim is None); no gradient."""

    name, method = "argmax", True
    pick = "argmax"

    def __init__(self, dim=None, keepdim: bool = False):
        """The index along `dim` (None: into the flattened tensor); `keepdim` keeps `dim` as size 1."""
        self.dim, self.keepdim = dim, keepdim

    @staticmethod
    def function(x, dim=None, keepdim: bool = False):
        """The int64 index of the (first) maximum along `dim`, or into the flattened tensor when dim is None; `keepdim` keeps `dim` as size 1 (no gradient)."""
        return constant(ArgMax(dim, keepdim), x)

    def forward(self, x):
        xp = self.xp
        if self.dim is None:
            i = getattr(xp, self.pick)(xp.reshape(x, (-1,)))
            return xp.reshape(xp.astype(xp.asarray(i), xp.int64), (1,) * x.ndim if self.keepdim else ())
        dim = _dim(self.pick, self.dim, x.ndim) if x.ndim else None
        if dim is None:
            return xp.zeros((), dtype=xp.int64)
        return xp.astype(getattr(xp, self.pick)(x, axis=dim, keepdims=self.keepdim), xp.int64)


class ArgMin(ArgMax):
    """The index of the minimum along dim (of the flattened tensor when dim is None); no gradient."""

    name, method = "argmin", True
    pick = "argmin"

    @staticmethod
    def function(x, dim=None, keepdim: bool = False):
        """The int64 index of the (first) minimum along `dim`, or into the flattened tensor when dim is None; `keepdim` keeps `dim` as size 1 (no gradient)."""
        return constant(ArgMin(dim, keepdim), x)


class MaxDim(Function):
    """`max(x)`: the maximum; `max(x, dim)`: (values, indices) along dim; `max(x, other)`: the elementwise maximum."""

    name, method = "max", True
    arg, reduce, pairwise = ArgMax, "amax", "maximum"

    @classmethod
    def _compute(cls, x, dim, keepdim, axis=None):
        from . import FUNCTIONS

        if axis is not None:  # NumPy's spelling: the values only
            dim = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
        if dim is None:
            return FUNCTIONS[cls.reduce](x, None, keepdim)
        if hasattr(dim, "creator") or isinstance(dim, (np.ndarray, float)):
            return FUNCTIONS[cls.pairwise](x, dim)
        if isinstance(dim, (tuple, list)):  # several axes: NumPy's spelling, values only
            return FUNCTIONS[cls.reduce](x, tuple(dim), keepdim)
        if not len(x.shape):
            _dim(cls.name, dim, 0)
            return ValuesIndices[cls.name](x, constant(cls.arg(None, False), x))
        indices = constant(cls.arg(dim, True), x)
        values = Gather(dim)(x, indices)
        if not keepdim:
            d = _dim(cls.name, dim, len(x.shape))
            values, indices = FUNCTIONS["squeeze"](values, d), constant(FUNCTIONS["squeeze"], indices, d)
        return ValuesIndices[cls.name](values, indices)

    @staticmethod
    def function(x, dim=None, keepdim: bool = False, *, axis=None, keepdims: bool = False):
        """The maximum; with an int `dim`, the named tuple (values, indices) of the maxima along it.

        `keepdim` keeps `dim` as size 1; a tensor as `dim` gives the elementwise maximum(x, other).
        NumPy's spelling `axis=` (with `keepdims=`) gives the values only, as NumPy's max.
        """
        return MaxDim._compute(x, dim, keepdim or keepdims, axis)


class MinDim(MaxDim):
    """`min(x)`: the minimum; `min(x, dim)`: (values, indices) along dim; `min(x, other)`: the elementwise minimum."""

    name, method = "min", True
    arg, reduce, pairwise = ArgMin, "amin", "minimum"

    @staticmethod
    def function(x, dim=None, keepdim: bool = False, *, axis=None, keepdims: bool = False):
        """The minimum; with an int `dim`, the named tuple (values, indices) of the minima along it.

        `keepdim` keeps `dim` as size 1; a tensor as `dim` gives the elementwise minimum(x, other).
        NumPy's spelling `axis=` (with `keepdims=`) gives the values only, as NumPy's min.
        """
        return MinDim._compute(x, dim, keepdim or keepdims, axis)


# ---- cumulative ops ---------------------------------------------------------------------------

class _Cumulative(Function):
    method = True

    def __init__(self, dim: int):
        self.dim = dim

    def _d(self, x) -> int:
        return _dim(type(self).__name__.lower(), self.dim, x.ndim) if x.ndim else 0


class CumSum(_Cumulative):
    """yᵢ = Σ_{j≤i} xⱼ along dim.  dx = the reversed cumulative sum of the gradient."""

    name = "cumsum"

    def forward(self, x):
        self.d = self._d(x)
        if getattr(x.dtype, "kind", "f") in "bi":
            x = self.xp.astype(x, self.xp.int64)
        return self.xp.cumsum(x, self.d) if x.ndim else x

    def backward(self, gy):
        xp = self.xp
        if gy.ndim == 0:
            return gy
        return xp.flip(xp.cumsum(xp.flip(gy, self.d), self.d), self.d)


class CumProd(_Cumulative):
    """yᵢ = Π_{j≤i} xⱼ along dim.  dxⱼ = Σ_{i≥j} gᵢ·Π_{k≤i, k≠j} xₖ (exact at zeros)."""

    name = "cumprod"

    def forward(self, x):
        self.d = self._d(x)
        y = self.xp.cumprod(x, self.d) if x.ndim else x
        self.save_for_backward(x, y)
        self.has_zero = bool(self.xp.any(x == 0))
        return y

    def backward(self, gy):
        x, y = self.saved
        xp = self.xp
        if gy.ndim == 0:
            return gy
        d = self.d
        if not self.has_zero:
            return xp.flip(xp.cumsum(xp.flip(gy * y, d), d), d) / x
        n = x.shape[d]  # zeros: for each j, the cumulative product with xⱼ replaced by 1
        positions = xp.reshape(xp.arange(n), (n,) + (1,) * (x.ndim - 1 - d))
        parts = []
        for j in range(n):
            at_j = positions == j
            without = xp.cumprod(xp.where(at_j, xp.ones_like(x), x), d)
            later = xp.astype(positions >= j, gy.dtype)
            parts.append(xp.sum(gy * without * later, axis=d))
        return xp.stack(parts, axis=d)


class _CumExtreme(Function):
    """(values, indices) of the running maximum or minimum along dim."""

    method = True
    better = np.greater_equal

    @classmethod
    def _compute(cls, x, dim):
        indices = constant(_RunningIndex(dim, cls.name), x)
        return ValuesIndices[cls.name](_gather(x, dim, indices), indices)


class CumMax(_CumExtreme):
    """(values, indices) of the running maximum along dim; the gradient goes to the element holding it."""

    name = "cummax"

    @staticmethod
    def function(x, dim: int):
        """Running maxima along `dim` and where they are."""
        return CumMax._compute(x, dim)


class CumMin(_CumExtreme):
    """(values, indices) of the running minimum along dim; the gradient goes to the element holding it."""

    name = "cummin"

    @staticmethod
    def function(x, dim: int):
        """Running minima along `dim` and where they are."""
        return CumMin._compute(x, dim)


class _RunningIndex(Function):
    """Where the running maximum/minimum along dim is (the latest of equal elements, as PyTorch)."""

    def __init__(self, dim: int, kind: str):
        self.dim, self.kind = dim, kind

    def forward(self, x):
        xp = self.xp
        if x.ndim == 0:
            return xp.zeros((), dtype=xp.int64, like=x)
        d = _dim(self.kind, self.dim, x.ndim)
        if type(x) is not np.ndarray:
            return self._scanned(xp, x, d)
        running = (np.maximum if self.kind == "cummax" else np.minimum).accumulate(x, axis=d)
        hit = x == running
        if x.dtype.kind == "f":
            nan = np.isnan(x)
            if nan.any():  # a NaN propagates, and its index stays
                hit = hit | np.logical_or.accumulate(nan, axis=d) & nan
        positions = np.arange(x.shape[d]).reshape((-1,) + (1,) * (x.ndim - 1 - d))
        return np.maximum.accumulate(np.where(hit, positions, 0), axis=d).astype(np.int64)

    def _scanned(self, xp, x, d):
        """The same indices by a scan along d in the standard's terms (no accumulate ufuncs there)."""
        nan = xp.isnan if "float" in str(x.dtype) else (lambda v: v != v)
        best, where, columns = None, None, []
        for j, xj in enumerate(_slices(x, d)):
            if best is None:
                best, where = xj, xp.zeros(xj.shape, dtype=xp.int64, like=x)
            else:
                beats = (xj >= best) if self.kind == "cummax" else (xj <= best)
                take = nan(xj) | (~nan(best) & beats)  # the latest of equal elements; a NaN holds on
                best, where = xp.where(take, xj, best), xp.where(take, xp.full(xj.shape, j, dtype=xp.int64, like=x), where)
            columns.append(where)
        return xp.concat(columns, axis=d)


def _slices(x, d: int):
    """x's size-1 slices along d, in order (a scan's steps)."""
    return [x[(slice(None),) * d + (slice(j, j + 1),)] for j in range(x.shape[d])]


class LogCumSumExp(_Cumulative):
    """yᵢ = log Σ_{j≤i} e^{xⱼ} along dim.  dxⱼ = Σ_{i≥j} gᵢ·e^{xⱼ - yᵢ}."""

    name = "logcumsumexp"

    def forward(self, x):
        self.d = self._d(x)
        if not x.ndim:
            y = x
        elif type(x) is np.ndarray:
            y = np.logaddexp.accumulate(x, axis=self.d)
        else:  # a scan in the standard's terms
            steps = _slices(x, self.d)
            for j in range(1, len(steps)):
                steps[j] = self.xp.logaddexp(steps[j - 1], steps[j])
            y = self.xp.concat(steps, axis=self.d)
        self.save_for_backward(x, y)
        return y

    def backward(self, gy):
        x, y = self.saved
        xp = self.xp
        if gy.ndim == 0:
            return gy
        d = self.d
        m = xp.max(x, axis=d, keepdims=True)  # shift so that neither exponential overflows
        m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
        tail = xp.flip(xp.cumsum(xp.flip(gy * xp.exp(m - y), d), d), d)
        return tail * xp.exp(x - m)
