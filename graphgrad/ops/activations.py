"""Activations and the softmax family. Sigmoid and tanh differentiate through their output.

The activations PyTorch users expect (GELU, SiLU, ELU, SELU, Softplus, Hardtanh, ReLU6, Mish) write
backward with `self.xp` from the saved input only, so it runs unchanged under create_graph and
their second derivatives are exact; piecewise ones keep their masks as constants.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..backend import to_numpy


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
    """y = max(x, 0).  dy/dx = 1[x > 0] (and 1 at NaN, as PyTorch)."""

    name, method, symbol, elementwise = "relu", True, "ReLU", True

    def forward(self, x):
        y = self.xp.maximum(x, 0)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved
        return self.xp.masked_product(gy, ~(y <= 0))  # from the output (forward stays one pass); NaN passes, as PyTorch


class Softmax(Function):
    """y = eˣ / Σ eˣ along axis.  dy/dx·g = y(g - Σ g·y)."""

    name, method, symbol = "softmax", True, "softmax"

    def __init__(self, axis: int = -1):
        """Softmax along `axis`."""
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
        """Log-softmax along `axis`."""
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
    """y = log Σ eˣ over `dim` (alias `axis`: an int, a tuple, or None for all), reduced dims kept as size 1 if `keepdim`.  dy/dx = softmax(x)."""

    name, method, symbol = "logsumexp", True, "logsumexp"

    def __init__(self, axis=None, keepdims: bool = False):
        """Log-sum-exp over `axis` (None: all), reduced axes kept as size 1 if `keepdims`."""
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


# ---- PyTorch's activations ---------------------------------------------------------------
def _sigmoid(xp, x):
    """σ(x) from tanh: no overflow for large |x|, and differentiable in every namespace."""
    return 0.5 * (1 + xp.tanh(0.5 * x))


def _positive(xp, x):
    """1 where x > 0, else 0, in x's dtype (a constant: masks carry no gradient)."""
    return xp.astype(x > 0, x.dtype)


class GELU(Function):
    """y = x·Φ(x) (Φ the standard normal CDF), or with approximate='tanh' 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))).

    dy/dx = Φ(x) + x·φ(x); for 'tanh', 0.5(1 + tanh u) + 0.5x(1 - tanh² u)·u'.
    """

    name, method, symbol, elementwise = "gelu", True, "GELU", True

    def __init__(self, approximate: str = "none"):
        """GELU, exact (`approximate='none'`) or its tanh approximation (`'tanh'`)."""
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        self.save_for_backward(x)
        if self.approximate == "tanh":
            return 0.5 * x * (1 + self.xp.tanh(_TANH_SCALE * (x + _TANH_CUBIC * x * x * x)))
        return x * normal_cdf(self.xp, x)

    def backward(self, gy):
        (x,) = self.saved
        xp = self.xp
        if self.approximate == "tanh":
            t = xp.tanh(_TANH_SCALE * (x + _TANH_CUBIC * x * x * x))
            du = _TANH_SCALE * (1 + 3 * _TANH_CUBIC * x * x)
            return gy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
        return gy * (normal_cdf(xp, x) + x * (_INV_SQRT_2PI * xp.exp(-0.5 * x * x)))


_TANH_SCALE, _TANH_CUBIC = math.sqrt(2 / math.pi), 0.044715
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


class SiLU(Function):
    """y = x·σ(x) (swish).  dy/dx = σ(x)(1 + x(1 - σ(x)))."""

    name, method, symbol, elementwise = "silu", True, "SiLU", True

    def forward(self, x):
        self.save_for_backward(x)
        return x * _sigmoid(self.xp, x)

    def backward(self, gy):
        (x,) = self.saved
        s = _sigmoid(self.xp, x)
        return gy * (s * (1 + x * (1 - s)))


class ELU(Function):
    """y = x for x > 0, α(eˣ - 1) otherwise.  dy/dx = 1 for x > 0, α·eˣ otherwise (α at 0, as PyTorch)."""

    name, method, symbol, elementwise = "elu", True, "ELU", True
    scale = 1.0  # SELU multiplies the whole function by its fixed scale

    def __init__(self, alpha: float = 1.0):
        """ELU with slope scale `alpha` for x <= 0."""
        self.alpha = alpha

    def forward(self, x):
        xp = self.xp
        above = _positive(xp, x)
        below = 1 - above
        self.save_for_backward(x, above)
        # x·below is min(x, 0): the exponential never sees a large positive x (no overflow)
        y = xp.where(x > 0, x, self.alpha * xp.expm1(x * below))
        return y if self.scale == 1.0 else self.scale * y

    def backward(self, gy):
        x, above = self.saved
        below = 1 - above
        d = above + below * (self.alpha * self.xp.exp(x * below))
        return gy * (d if self.scale == 1.0 else self.scale * d)


class SELU(ELU):
    """y = λ·elu(x, α) with PyTorch's α ≈ 1.6733, λ ≈ 1.0507 (self-normalising).  dy/dx = λ·elu'(x, α)."""

    name, symbol = "selu", "SELU"
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

    def __init__(self):
        """SELU: no configuration (α and λ are the class's constants)."""
        pass  # α and λ are fixed: the class attributes


class Softplus(Function):
    """y = log(1 + e^(βx)) / β, and y = x where βx > threshold.  dy/dx = σ(βx) (1 in the linear part)."""

    name, method, symbol, elementwise = "softplus", True, "Softplus", True

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        """Softplus with sharpness `beta`, linear where βx > `threshold`."""
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        xp = self.xp
        z = self.beta * x
        linear = z > self.threshold
        self.save_for_backward(x, xp.astype(linear, x.dtype))
        smooth = (xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))) / self.beta  # stable for any z
        return xp.where(linear, x, smooth)

    def backward(self, gy):
        x, linear = self.saved
        return gy * (linear + (1 - linear) * _sigmoid(self.xp, self.beta * x))


class Hardtanh(Function):
    """y = clip(x, min_val, max_val).  dy/dx = 1 strictly inside (min_val, max_val), else 0 (as PyTorch)."""

    name, method, symbol, elementwise = "hardtanh", True, "Hardtanh", True

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0):
        """Hardtanh clipping to [min_val, max_val] (min_val < max_val)."""
        if not min_val < max_val:
            raise ValueError(f"hardtanh: min_val ({min_val}) must be less than max_val ({max_val})")
        self.min_val, self.max_val = min_val, max_val

    def forward(self, x):
        xp = self.xp
        self.save_for_backward(xp.astype(~((x <= self.min_val) | (x >= self.max_val)), x.dtype))  # NaN passes
        return xp.clip(x, self.min_val, self.max_val)

    def backward(self, gy):
        (inside,) = self.saved
        return self.xp.masked_product(gy, inside)


class ReLU6(Hardtanh):
    """y = min(max(x, 0), 6).  dy/dx = 1 on (0, 6), else 0."""

    name, symbol = "relu6", "ReLU6"
    min_val, max_val = 0.0, 6.0

    def __init__(self):
        """ReLU6: no configuration (the bounds 0 and 6 are the class's constants)."""
        pass  # the bounds are fixed: the class attributes


class Mish(Function):
    """y = x·tanh(softplus(x)).  dy/dx = tanh(sp) + x·σ(x)·(1 - tanh²(sp))."""

    name, method, symbol, elementwise = "mish", True, "Mish", True

    def forward(self, x):
        xp = self.xp
        self.save_for_backward(x)
        return x * xp.tanh(xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x))))

    def backward(self, gy):
        (x,) = self.saved
        xp = self.xp
        # log(1 + e^-|x|), not log1p: graphgrad's tensor functions (create_graph) have no log1p yet
        t = xp.tanh(xp.maximum(x, 0) + xp.log(1 + xp.exp(-xp.abs(x))))
        return gy * (t + x * _sigmoid(xp, x) * (1 - t * t))


# ---- the normal CDF, for GELU ---------------------------------------------------------------
def normal_cdf(xp, x):
    """Φ(x) = (1 + erf(x/√2)) / 2 in namespace `xp`; under create_graph a differentiable op."""
    if xp.differentiable:
        return NormalCDF()(x)
    return 0.5 * (1 + erf(xp, x * _INV_SQRT2))


_INV_SQRT2 = 1 / math.sqrt(2)


class NormalCDF(Function):
    """y = Φ(x), the standard normal CDF.  dy/dx = φ(x) = e^(-x²/2)/√(2π).  (No public name: GELU's part.)"""

    def forward(self, x):
        self.save_for_backward(x)
        return normal_cdf(self.xp, x)

    def backward(self, gy):
        (x,) = self.saved
        return gy * (_INV_SQRT_2PI * self.xp.exp(-0.5 * x * x))


def erf(xp, x):
    """erf x: the namespace's own when it has one, else SciPy's or math.erf elementwise, on the host.

    NumPy and the Array API standard have no erf.
    """
    own = getattr(xp, "erf", None)
    if own is not None:
        return own(x)
    host = to_numpy(x)
    try:
        from scipy.special import erf as scipy_erf
    except ImportError:
        y = np.asarray(np.frompyfunc(math.erf, 1, 1)(host), dtype=host.dtype)
    else:
        y = scipy_erf(host)
    return y if isinstance(x, np.ndarray) else xp.asarray(y, device=xp.device(x))
