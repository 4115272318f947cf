"""Loss modules with PyTorch's names, arguments and defaults; each calls its op or functional form.

CrossEntropyLoss (alias SoftmaxWithLoss), NLLLoss, BCELoss, BCEWithLogitsLoss, MSELoss, L1Loss,
SmoothL1Loss, HuberLoss, KLDivLoss. Class weights are buffers (saved in `state_dict`, as PyTorch's).
"""
from __future__ import annotations

from ..ops.losses import BinaryCrossEntropy, NLLLoss as _NLLLossOp, SoftmaxCrossEntropy, check_reduction
from ..autograd.tensor import Tensor, unwrap
from ..backend import as_array
from . import functional as F
from .module import Module


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", None if weight is None else as_array(unwrap(weight)))


class CrossEntropyLoss(_WeightedLoss):
    """Softmax + cross-entropy on logits (N, C) or (N, C, d1, ...); targets are class indices (N, d1, ...) or
    probabilities of the logits' shape; optional class `weight`, `ignore_index`, `label_smoothing`."""

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0):
        """PyTorch's arguments: class weights (C,), the target value to ignore, the reduction, ε for smoothing."""
        super().__init__(weight, reduction)
        SoftmaxCrossEntropy(ignore_index, reduction, label_smoothing)  # checks the settings now
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target) -> Tensor:
        """Softmax cross-entropy of logits `input` against class indices or probabilities."""
        # the op itself, not F.cross_entropy: this runs every step
        op = SoftmaxCrossEntropy(self.ignore_index, self.reduction, self.label_smoothing)
        return op(input, target) if self.weight is None else op(input, target, self.weight)


SoftmaxWithLoss = CrossEntropyLoss  # the textbook's name


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of class indices, for log-probabilities (after LogSoftmax)."""

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean"):
        """PyTorch's arguments: class weights (C,), the target value to ignore, the reduction."""
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target) -> Tensor:
        """Minus the log-probability `input` (N, C, ...) picks for each class index in target, weighted."""
        op = _NLLLossOp(self.ignore_index, self.reduction)
        return op(input, target) if self.weight is None else op(input, target, self.weight)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities in [0, 1] (after Sigmoid); `weight` rescales each element."""

    def forward(self, input, target) -> Tensor:
        """-w·[t·log x + (1-t)·log(1-x)], reduced."""
        op = BinaryCrossEntropy(self.reduction)
        return op(input, target) if self.weight is None else op(input, target, self.weight)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy on logits, stable for any logit."""

    def forward(self, input, target) -> Tensor:
        """Binary cross-entropy of sigmoid(input) against target, computed from the logits stably."""
        return F.binary_cross_entropy_with_logits(input, target, self.reduction)


class MSELoss(_Loss):
    """Mean squared error between input and a target of the same shape."""

    def forward(self, input, target) -> Tensor:
        """The squared error between input and target, reduced as `reduction` says."""
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error between input and a target of the same shape."""

    def forward(self, input, target) -> Tensor:
        """|input - target|, reduced."""
        return F.l1_loss(input, target, self.reduction)


class SmoothL1Loss(_Loss):
    """Quadratic (0.5·d²/beta) for |d| < beta, linear (|d| - 0.5·beta) beyond."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0):
        """The reduction, and beta: where the quadratic part ends."""
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target) -> Tensor:
        """smooth_l1_loss(input, target), reduced."""
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)


class HuberLoss(_Loss):
    """Quadratic (0.5·d²) for |d| < delta, linear (delta·(|d| - 0.5·delta)) beyond."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        """The reduction, and delta: where the quadratic part ends."""
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target) -> Tensor:
        """huber_loss(input, target), reduced."""
        return F.huber_loss(input, target, self.reduction, self.delta)


class KLDivLoss(Module):
    """KL divergence of log-probabilities `input` from `target` (probabilities, or log-probabilities with
    log_target=True); reduction 'batchmean' gives the mathematical KL per sample."""

    def __init__(self, reduction: str = "mean", log_target: bool = False):
        """reduction: 'mean' (over elements, PyTorch's default), 'batchmean', 'sum' or 'none'."""
        super().__init__()
        if reduction not in ("mean", "sum", "none", "batchmean"):
            raise ValueError(
                f"KLDivLoss: reduction must be one of ('mean', 'sum', 'none', 'batchmean'), got {reduction!r}"
            )
        self.reduction, self.log_target = reduction, log_target

    def forward(self, input, target) -> Tensor:
        """kl_div(input, target), reduced."""
        return F.kl_div(input, target, self.reduction, self.log_target)
