"""Activation modules with PyTorch's names and defaults: GELU, SiLU, ELU, SELU, Softplus, Hardtanh, ReLU6, Mish.

Each calls its op (graphgrad/ops/activations.py); they hold only their settings.
"""
from __future__ import annotations

from ..autograd.tensor import Tensor
from ..ops import activations as _ops
from .module import Module


class GELU(Module):
    """y = x·Φ(x); approximate='tanh' uses the tanh approximation."""

    def __init__(self, approximate: str = "none"):
        """approximate: 'none' (the exact erf form) or 'tanh'."""
        super().__init__()
        _ops.GELU(approximate)  # checks the setting now, not at the first call
        self.approximate = approximate

    def forward(self, x) -> Tensor:
        """gelu(x), elementwise."""
        return _ops.GELU(self.approximate)(x)

    def extra_repr(self) -> str:
        """The approximation, for repr()."""
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """y = x·σ(x) (swish)."""

    def forward(self, x) -> Tensor:
        """silu(x), elementwise."""
        return _ops.SiLU()(x)


class ELU(Module):
    """y = x for x > 0, alpha·(eˣ - 1) otherwise."""

    def __init__(self, alpha: float = 1.0):
        """alpha: the value the function approaches as x → -∞ is -alpha."""
        super().__init__()
        self.alpha = alpha

    def forward(self, x) -> Tensor:
        """elu(x, alpha), elementwise."""
        return _ops.ELU(self.alpha)(x)

    def extra_repr(self) -> str:
        """alpha, for repr()."""
        return f"alpha={self.alpha}"


class SELU(Module):
    """y = scale·elu(x, alpha) with the self-normalising constants (alpha ≈ 1.6733, scale ≈ 1.0507)."""

    def forward(self, x) -> Tensor:
        """selu(x), elementwise."""
        return _ops.SELU()(x)


class Softplus(Module):
    """y = log(1 + e^(beta·x)) / beta, linear (y = x) where beta·x > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        """beta: the sharpness; threshold: above it (in beta·x) the function is x itself."""
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x) -> Tensor:
        """softplus(x, beta, threshold), elementwise."""
        return _ops.Softplus(self.beta, self.threshold)(x)

    def extra_repr(self) -> str:
        """beta and threshold, for repr()."""
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """y = clip(x, min_val, max_val)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0):
        """The bounds of the linear region."""
        super().__init__()
        _ops.Hardtanh(min_val, max_val)  # checks min_val < max_val now
        self.min_val, self.max_val = min_val, max_val

    def forward(self, x) -> Tensor:
        """hardtanh(x, min_val, max_val), elementwise."""
        return _ops.Hardtanh(self.min_val, self.max_val)(x)

    def extra_repr(self) -> str:
        """The bounds, for repr()."""
        return f"min_val={self.min_val}, max_val={self.max_val}"


class ReLU6(Module):
    """y = min(max(x, 0), 6)."""

    def forward(self, x) -> Tensor:
        """relu6(x), elementwise."""
        return _ops.ReLU6()(x)


class Mish(Module):
    """y = x·tanh(softplus(x))."""

    def forward(self, x) -> Tensor:
        """mish(x), elementwise."""
        return _ops.Mish()(x)
