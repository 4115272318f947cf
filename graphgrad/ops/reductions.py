"""Reductions over axes: sum, mean, max, min. Their backward spreads the gradient back out.

Half-precision inputs are accumulated in float32 and the result cast back, as PyTorch does
(a float16 sum of 100,000 ones overflows to inf).
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..backend import accumulator
from .math import constant

_BOOL = np.dtype(np.bool_)


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

    def _axis(self, x):
        """The axis to reduce: a 0-d tensor's dimension 0 (or -1) is the tensor itself, as in PyTorch."""
        if x.ndim == 0 and self.axis is not None:
            normalize_axis(type(self).__name__.lower(), self.axis, 0)
            return None
        return self.axis

    def _kept_shape(self, x) -> tuple:
        """x's shape with the reduced axes set to 1 (the shape keepdims=True would give)."""
        if self.axis is None:
            return (1,) * x.ndim
        axes = normalize_axis(type(self).__name__.lower(), self.axis, x.ndim)
        return tuple(1 if i in axes else n for i, n in enumerate(x.shape))


class Sum(_Reduction):
    """y = Σ x over `dim` (alias `axis`: an int, a tuple, or None for all), reduced dims kept as size 1 if `keepdim`.  dy/dx = 1: the gradient is copied to every summed element."""

    name, method, symbol = "sum", True, "Σ"

    def forward(self, x):
        self.in_shape, self.kept = x.shape, self._kept_shape(x)
        acc = accumulator(x)
        if x.dtype is _BOOL:
            acc = self.xp.int64  # the sum of a boolean tensor counts, as in PyTorch
        y = self.xp.sum(x, axis=self.axis if x.ndim else self._axis(x), keepdims=self.keepdims, dtype=acc)
        return y if acc is None or acc is self.xp.int64 else self.xp.astype(y, x.dtype)

    def backward(self, gy):
        xp = self.xp
        return xp.broadcast_to(xp.reshape(gy, self.kept), self.in_shape)


class Mean(_Reduction):
    """y = Σ x / n over `dim` (alias `axis`: an int, a tuple, or None for all), reduced dims kept as size 1 if `keepdim`.  dy/dx = 1/n."""

    name, method, symbol = "mean", True, "mean"

    def forward(self, x):
        self.in_shape, self.kept = x.shape, self._kept_shape(x)
        self.n = math.prod(x.shape) // max(math.prod(self.kept), 1)  # 0 for an empty axis: nan, as in NumPy
        acc = accumulator(x)
        y = self.xp.sum(x, axis=self.axis if x.ndim else self._axis(x), keepdims=self.keepdims, dtype=acc) / self.n  # np.mean adds 2 µs
        return y if acc is None else self.xp.astype(y, x.dtype)

    def backward(self, gy):
        xp = self.xp
        return xp.broadcast_to(xp.reshape(gy, self.kept) / self.n, self.in_shape)


class Max(_Reduction):
    """y = max x over `dim` (alias `axis`: an int, a tuple, or None for all), reduced dims kept as size 1 if `keepdim` (PyTorch's amax).  dy/dx = 1 at the maximum (shared equally among ties), 0 elsewhere."""

    name, method, symbol = "amax", True, "max"
    pick = "max"

    def forward(self, x):
        xp = self.xp
        if math.prod(x.shape) == 0:
            raise ValueError(f"{self.pick}: cannot reduce an empty tensor of shape {tuple(x.shape)}")
        self.kept = self._kept_shape(x)
        axis = self._axis(x)
        y = getattr(xp, self.pick)(x, axis=axis, keepdims=True)
        hit = xp.astype(x == y, x.dtype)
        self.save_for_backward(hit / xp.sum(hit, axis=axis, keepdims=True))
        if self.keepdims:
            return y
        axes = normalize_axis(self.pick, axis, x.ndim)
        return xp.reshape(y, tuple(n for i, n in enumerate(x.shape) if i not in axes))

    def backward(self, gy):
        (share,) = self.saved
        return self.xp.masked_product(self.xp.reshape(gy, self.kept), share)


class Min(Max):
    """y = min x over `dim` (alias `axis`: an int, a tuple, or None for all), reduced dims kept as size 1 if `keepdim` (PyTorch's amin).  dy/dx = 1 at the minimum (shared equally among ties), 0 elsewhere."""

    name, method, symbol = "amin", True, "min"
    pick = "min"


class Prod(_Reduction):
    """y = Π x over `dim` (alias `axis`: an int, a tuple, or None for all), reduced dims kept as size 1 if `keepdim`.  dy/dxᵢ = Π_{j≠i} xⱼ (exact at zeros: products of the others, not y/xᵢ)."""

    name, method, symbol = "prod", True, "Π"

    def forward(self, x):
        self.in_shape, self.kept = x.shape, self._kept_shape(x)
        self.save_for_backward(x)
        return self.xp.prod(x, axis=self._axis(x), keepdims=self.keepdims)

    def backward(self, gy):
        (x,) = self.saved
        xp = self.xp
        axes = normalize_axis("prod", self._axis(x), x.ndim)
        keep = [i for i in range(x.ndim) if i not in axes]
        perm = tuple(keep + list(axes))
        moved = xp.permute_dims(x, perm) if perm != tuple(range(x.ndim)) else x
        lead = tuple(moved.shape[:len(keep)])
        flat = xp.reshape(moved, lead + (-1,))
        others = xp.reshape(_exclusive_products(xp, flat), tuple(moved.shape))
        inverse = tuple(perm.index(i) for i in range(x.ndim))
        others = xp.permute_dims(others, inverse) if perm != tuple(range(x.ndim)) else others
        return xp.reshape(gy, self.kept) * others


def _exclusive_products(xp, flat):
    """For each position along the last axis, the product of all the other positions."""
    ones = xp.ones_like(flat[..., :1])
    left = xp.concat([ones, xp.cumprod(flat[..., :-1], axis=-1)], axis=-1)
    rev = xp.flip(flat, -1)
    right = xp.flip(xp.concat([ones, xp.cumprod(rev[..., :-1], axis=-1)], axis=-1), -1)
    return left * right


class Var(_Reduction):
    """y = Σ (x - x̄)² / (n - correction) over axis.  dy/dx = 2(x - x̄)/(n - correction)."""

    name, method, symbol = "var", True, "var"

    def __init__(self, axis=None, correction=1, keepdims: bool = False):
        """Variance over `axis` (None: all) with Bessel's `correction`; `keepdims` keeps reduced axes as size 1."""
        self.axis, self.correction, self.keepdims = axis, correction, keepdims

    @staticmethod
    def function(x, axis=None, unbiased=None, keepdims: bool = False, *, correction=None):
        """Variance over `axis` (`dim`; None: all) with Bessel's `correction` (1 by default; `unbiased=False` means 0); `keepdims` keeps reduced dims as size 1."""
        return Var(*_var_args(axis, unbiased, correction), keepdims)(x)

    def forward(self, x):
        xp = self.xp
        x = _floating(xp, x)
        self.in_shape, self.kept = x.shape, self._kept_shape(x)
        axis = self.axis if x.ndim else self._axis(x)
        self.n = math.prod(x.shape) // max(math.prod(self.kept), 1)
        self.denom = max(self.n - self.correction, 0)
        centered = x - xp.sum(x, axis=axis, keepdims=True) / self.n
        self.save_for_backward(x)
        return xp.sum(centered * centered, axis=axis, keepdims=self.keepdims) / self.denom

    def _centered(self, x):
        """x - x̄, recomputed from the saved input so that create_graph differentiates through it."""
        xp = self.xp
        axis = self.axis if x.ndim else self._axis(x)
        return x - xp.sum(x, axis=axis, keepdims=True) / self.n

    def backward(self, gy):
        (x,) = self.saved
        return self.xp.reshape(gy, self.kept) * (2 / self.denom) * self._centered(x)


class Std(Var):
    """y = √var(x).  dy/dx = (x - x̄) / ((n - correction)·y)."""

    name, method, symbol = "std", True, "std"

    @staticmethod
    def function(x, axis=None, unbiased=None, keepdims: bool = False, *, correction=None):
        """Standard deviation over `axis` (`dim`; None: all) with Bessel's `correction` (1 by default; `unbiased=False` means 0); `keepdims` keeps reduced dims as size 1."""
        return Std(*_var_args(axis, unbiased, correction), keepdims)(x)

    def forward(self, x):
        y = self.xp.sqrt(super().forward(x))
        self.save_for_backward(self.saved[0], y)
        return y

    def backward(self, gy):
        x, y = self.saved
        xp = self.xp
        return xp.reshape(gy, self.kept) * self._centered(x) / (self.denom * xp.reshape(y, self.kept))


class StdMean(Function):
    """(std(x), mean(x)) over axis, as PyTorch's std_mean."""

    name = "std_mean"

    @staticmethod
    def function(x, axis=None, unbiased=None, keepdims: bool = False, *, correction=None):
        """The standard deviation and the mean over axis."""
        return Std.function(x, axis, unbiased, keepdims, correction=correction), Mean(axis, keepdims)(x)


class VarMean(Function):
    """(var(x), mean(x)) over axis, as PyTorch's var_mean."""

    name = "var_mean"

    @staticmethod
    def function(x, axis=None, unbiased=None, keepdims: bool = False, *, correction=None):
        """The variance and the mean over axis."""
        return Var.function(x, axis, unbiased, keepdims, correction=correction), Mean(axis, keepdims)(x)


def _var_args(axis, unbiased, correction) -> tuple:
    if isinstance(axis, bool):  # std(x, False): PyTorch's old positional `unbiased`
        axis, unbiased = None, axis
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return axis, correction


def _floating(xp, x):
    return x if getattr(x.dtype, "kind", "f") == "f" else xp.astype(x, xp.float32)


class _Test(_Reduction):
    """A reduction to booleans (no gradient)."""

    method = True

    def backward(self, gy):
        raise RuntimeError(f"{type(self).__name__} has no gradient")


class Any(_Test):
    """True where any element over axis is nonzero (no gradient)."""

    name = "any"

    @staticmethod
    def function(x, axis=None, keepdims: bool = False):
        """True where any element over `axis` (`dim`; None: all) is nonzero, reduced dims kept as size 1 if `keepdims` (no gradient)."""
        return constant(Any(axis, keepdims), x)

    def forward(self, x):
        return self.xp.any(x, axis=self._axis(x), keepdims=self.keepdims)


class All(_Test):
    """True where every element over axis is nonzero (no gradient)."""

    name = "all"

    @staticmethod
    def function(x, axis=None, keepdims: bool = False):
        """True where every element over `axis` (`dim`; None: all) is nonzero, reduced dims kept as size 1 if `keepdims` (no gradient)."""
        return constant(All(axis, keepdims), x)

    def forward(self, x):
        return self.xp.all(x, axis=self._axis(x), keepdims=self.keepdims)
