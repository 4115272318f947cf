"""Loss modules: CrossEntropyLoss (alias SoftmaxWithLoss), MSELoss, BCEWithLogitsLoss, NLLLoss."""
from __future__ import annotations

from ..ops.losses import SoftmaxCrossEntropy, check_reduction
from ..autograd.tensor import Tensor
from . import functional as F
from .module import Module


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class CrossEntropyLoss(_Loss):
    """Softmax + cross-entropy on logits (N, C); targets are class indices (N,) or probabilities (N, C)."""

    def forward(self, input, target) -> Tensor:
        """Softmax cross-entropy of logits `input` (N, C) against class indices (N,) or probabilities (N, C)."""
        return SoftmaxCrossEntropy(self.reduction)(input, target)  # F.cross_entropy minus a call


SoftmaxWithLoss = CrossEntropyLoss  # the textbook's name


class MSELoss(_Loss):
    """Mean squared error between input and a target of the same shape."""

    def forward(self, input, target) -> Tensor:
        """The squared error between input and target, reduced as `reduction` says."""
        return F.mse_loss(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy on logits, stable for any logit."""

    def forward(self, input, target) -> Tensor:
        """Binary cross-entropy of sigmoid(input) against target, computed from the logits stably."""
        return F.binary_cross_entropy_with_logits(input, target, self.reduction)


class NLLLoss(_Loss):
    """Negative log-likelihood of class indices, for log-probabilities (after LogSoftmax)."""

    def forward(self, input, target) -> Tensor:
        """Minus the log-probability `input` (N, C) picks for each class index in target."""
        return F.nll_loss(input, target, self.reduction)
