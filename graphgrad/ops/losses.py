"""Fused losses: softmax + cross-entropy and sigmoid + binary cross-entropy.

Fusing the activation into the loss gives the short, stable gradient (y - t) / N instead of
the chain of a softmax's Jacobian times log's 1/y, and never takes the log of a probability
that underflowed to zero (logits of +/-1000 are fine).
"""
from __future__ import annotations

import numpy as np

from ..backend import array_ops, row_reducible
from ..autograd.function import Function

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(op: str, reduction: str) -> None:
    """Raise naming `op` unless `reduction` is one of mean/sum/none."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}  # same-size view of an int type


def check_class_indices(op: str, target: np.ndarray, n: int, classes: int) -> None:
    """Raise naming `op` unless `target` holds n integer class indices in [0, classes)."""
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: class-index targets must be integers, got dtype {target.dtype}; "
            f"convert with target.astype(int), or pass probabilities of the logits' shape"
        )
    if target.shape != (n,):
        raise ValueError(
            f"{op}: target of shape {target.shape} does not match input of shape ({n}, {classes}); "
            f"pass class indices of shape ({n},) or probabilities of shape ({n}, {classes})"
        )
    # Seen as unsigned, a negative index becomes huge: one max() catches both ends (checked every step).
    if target.size == 0 or target.view(_UNSIGNED[target.itemsize]).max() < classes:
        return
    bad = np.flatnonzero((target < 0) | (target >= classes))
    if bad.size:
        i = int(bad[0])
        raise IndexError(
            f"{op}: target[{i}] = {int(target[i])} is not a class index in [0, {classes}) "
            f"({bad.size} out-of-range entr{'y' if bad.size == 1 else 'ies'})"
        )


def reduce_loss(loss, reduction: str):
    """Reduce per-sample losses (an array or a Tensor) the way `reduction` says."""
    if reduction == "mean":
        # On arrays sum()/size is mean() with less call overhead; on Tensors mean() is one node.
        return loss.sum() / loss.size if isinstance(loss, np.ndarray) else loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _scale(gy, reduction: str, n: int):
    """The upstream gradient per sample, shaped to broadcast over the class axis."""
    if reduction == "mean":
        return gy / n
    return gy if reduction == "sum" else gy.reshape(-1, 1)


_ROWS: dict = {}


def _rows(n: int) -> np.ndarray:
    """0..n-1 for picking each row's target, cached (read-only) because every step asks for it."""
    rows = _ROWS.get(n)
    if rows is None:
        rows = _ROWS[n] = np.arange(n)
        rows.flags.writeable = False
    return rows


class SoftmaxCrossEntropy(Function):
    """L = -Σ t·log softmax(x) per row, then reduced.  dL/dx = (softmax(x)·Σt - t) / N, i.e. (y - t) / N.

    The target is either class indices of shape (N,) or probabilities (one-hot or soft) of the
    logits' shape (N, C).
    """

    def __init__(self, reduction: str = "mean"):
        check_reduction("cross_entropy", reduction)
        self.reduction = reduction

    def forward(self, x, t):
        if x.ndim != 2:
            raise ValueError(
                f"cross_entropy: logits must have shape (N, C), got {x.shape}; "
                f"reshape a single sample with x.reshape(1, -1)"
            )
        n, c = x.shape
        self.x, self.t = x, t
        self.soft = t.shape == x.shape
        if not self.soft:
            check_class_indices("cross_entropy", t, n, c)
        x = row_reducible(x)  # a local copy at most: self.x stays the input (create_graph finds it by identity)
        shifted = x - x.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        e /= s
        self.y = e  # softmax(x), kept for backward
        log_s = np.log(s)
        if self.soft:
            self.log_y = shifted - log_s
            loss = -(t * self.log_y).sum(axis=1)
        else:
            loss = log_s[:, 0] - shifted[_rows(n), t]
        return reduce_loss(loss, self.reduction)

    def backward(self, gy):
        n = self.x.shape[0]
        scale = _scale(gy, self.reduction, n)
        need_x, need_t = self.needs_input_grad[:2]
        if self.xp is array_ops:  # the fast path, on arrays
            y = self.y
        else:  # under create_graph: softmax rebuilt from the recorded logits so it is differentiable
            y = (self.x - self.x.logsumexp(axis=1, keepdims=True)).exp()
        gx = gt = None
        if self.soft:
            if need_x:
                gx = (y * self.t.sum(axis=1, keepdims=True) - self.t) * scale
            if need_t:
                log_y = self.log_y if self.xp is array_ops else (self.x - self.x.logsumexp(axis=1, keepdims=True))
                gt = -log_y * scale
        elif need_x:
            if self.xp is array_ops:
                gx = y * scale  # a new array: subtracting the one-hot part in place is safe
                gx[_rows(n), self.t] -= scale if np.ndim(scale) == 0 else scale[:, 0]
            else:
                labels = getattr(self.t, "data", self.t)  # the engine showed us the label Tensor
                gx = (y - np.eye(y.shape[1], dtype=y.dtype)[labels]) * scale
        return gx, gt


class BinaryCrossEntropyWithLogits(Function):
    """L = -[t·log σ(x) + (1-t)·log(1-σ(x))], then reduced.  dL/dx = (σ(x) - t) / N, dL/dt = -x / N."""

    def __init__(self, reduction: str = "mean"):
        check_reduction("binary_cross_entropy_with_logits", reduction)
        self.reduction = reduction

    def forward(self, x, t):
        if t.shape != x.shape:
            raise ValueError(
                f"binary_cross_entropy_with_logits: target of shape {t.shape} must match input of "
                f"shape {x.shape}"
            )
        self.x, self.t = x, t
        self.p = 0.5 * (1 + np.tanh(0.5 * x))  # σ(x) without overflow
        # max(x, 0) - x·t + log(1 + e^-|x|): the stable form of the loss
        loss = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
        return reduce_loss(loss, self.reduction)

    def backward(self, gy):
        n = self.x.size
        scale = gy / n if self.reduction == "mean" else gy
        p = self.p if self.xp is array_ops else self.x.sigmoid()
        need_x, need_t = self.needs_input_grad[:2]
        gx = (p - self.t) * scale if need_x else None
        gt = -self.x * scale if need_t else None
        return gx, gt

