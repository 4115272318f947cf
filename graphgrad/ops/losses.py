"""Fused losses: softmax + cross-entropy and sigmoid + binary cross-entropy.

Fusing the activation into the loss gives the short, stable gradient (y - t) / N instead of
the chain of a softmax's Jacobian times log's 1/y, and never takes the log of a probability
that underflowed to zero (logits of +/-1000 are fine).
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..backend import accumulator, namespace, to_numpy
from ..backend.namespaces import _rows

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(op: str, reduction: str) -> None:
    """Raise naming `op` unless `reduction` is one of mean/sum/none."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}  # same-size view of an int type


def check_class_indices(op: str, target, n: int, classes: int) -> None:
    """Raise naming `op` unless `target` holds n integer class indices in [0, classes)."""
    target = target if isinstance(target, np.ndarray) else to_numpy(target)
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


def reduce_loss(xp, loss, reduction: str):
    """Reduce per-sample losses the way `reduction` says."""
    if reduction == "mean":
        if xp.differentiable:
            return xp.mean(loss)  # one graph node
        return xp.sum(loss) / math.prod(loss.shape)  # sum / n: np.mean adds 2 µs of Python
    return xp.sum(loss) if reduction == "sum" else loss


def _scale(xp, gy, reduction: str, n: int):
    """The upstream gradient per sample, shaped to broadcast over the class axis."""
    if reduction == "mean":
        return gy / n
    return gy if reduction == "sum" else xp.reshape(gy, (-1, 1))


class SoftmaxCrossEntropy(Function):
    """L = -Σ t·log softmax(x) per row, then reduced.  dL/dx = (softmax(x)·Σt - t) / N, i.e. (y - t) / N.

    The target is either class indices of shape (N,) or probabilities (one-hot or soft) of the
    logits' shape (N, C). Half-precision logits are computed in float32 and the loss cast back.
    """

    name = "cross_entropy"

    def __init__(self, reduction: str = "mean"):
        check_reduction("cross_entropy", reduction)
        self.reduction = reduction

    def forward(self, x, t):
        xp = self.xp
        if x.ndim != 2:
            raise ValueError(
                f"cross_entropy: logits must have shape (N, C), got {tuple(x.shape)}; "
                f"reshape a single sample with x.reshape(1, -1)"
            )
        n, c = x.shape
        self.soft = tuple(t.shape) == tuple(x.shape)
        if not self.soft:
            check_class_indices("cross_entropy", t, n, c)
        self.in_dtype = in_dtype = x.dtype
        if accumulator(x) is not None:
            x = xp.astype(x, xp.float32)
        x = xp.row_reducible(x)  # a local copy at most
        shifted = x - xp.max(x, axis=1, keepdims=True)
        e = xp.exp(shifted)
        s = xp.sum(e, axis=1, keepdims=True)
        if type(e) is np.ndarray:
            e /= s  # e is this op's own array: dividing in place saves an allocation
            y = e
        else:
            y = e / s  # softmax(x), kept for backward
        log_s = xp.log(s)
        if self.soft:
            log_y = shifted - log_s
            loss = -xp.sum(t * log_y, axis=1)
            self.save_for_backward(t, y, log_y)
        else:
            loss = log_s[:, 0] - xp.pick(shifted, t)
            self.save_for_backward(t, y)
        loss = reduce_loss(xp, loss, self.reduction)
        return loss if loss.dtype == in_dtype else xp.astype(xp.asarray(loss), in_dtype)

    def backward(self, gy):
        t, y = self.saved[:2]
        xp = self.xp
        n = y.shape[0]
        scale = _scale(xp, gy, self.reduction, n)
        need_x, need_t = self.needs_input_grad[:2]
        if xp.differentiable:  # under create_graph: softmax rebuilt from the recorded logits
            x = self.inputs[0]
            log_y = x - xp.logsumexp(x, axis=1, keepdims=True)
            y = xp.exp(log_y)
        gx = gt = None
        if self.soft:
            if need_x:
                gx = (y * xp.sum(t, axis=1, keepdims=True) - t) * scale
            if need_t:
                gt = -(log_y if xp.differentiable else self.saved[2]) * scale
        elif need_x:
            if type(y) is np.ndarray:
                gx = y * scale  # a new array: subtracting the one-hot part in place is safe
                gx[_rows(n), t] -= scale if np.ndim(scale) == 0 else scale[:, 0]
            else:
                labels = t.data if hasattr(t, "creator") else t
                lx = namespace(labels)  # the one-hot rows are a constant, built in the labels' library
                hot = lx.astype(labels[:, None] == lx.arange(y.shape[1], like=labels)[None, :], y.dtype)
                gx = (y - hot) * scale
        if gx is not None and gx.dtype != self.in_dtype:
            gx = xp.astype(gx, self.in_dtype)
        return gx, gt


class BinaryCrossEntropyWithLogits(Function):
    """L = -[t·log σ(x) + (1-t)·log(1-σ(x))], then reduced.  dL/dx = (σ(x) - t) / N, dL/dt = -x / N."""

    name = "binary_cross_entropy_with_logits"

    def __init__(self, reduction: str = "mean"):
        check_reduction("binary_cross_entropy_with_logits", reduction)
        self.reduction = reduction

    def forward(self, x, t):
        xp = self.xp
        if tuple(t.shape) != tuple(x.shape):
            raise ValueError(
                f"binary_cross_entropy_with_logits: target of shape {tuple(t.shape)} must match input of "
                f"shape {tuple(x.shape)}"
            )
        p = 0.5 * (1 + xp.tanh(0.5 * x))  # σ(x) without overflow
        self.save_for_backward(x, t, p)
        # max(x, 0) - x·t + log(1 + e^-|x|): the stable form of the loss
        loss = xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))
        return reduce_loss(xp, loss, self.reduction)

    def backward(self, gy):
        x, t, p = self.saved
        xp = self.xp
        n = math.prod(x.shape)
        scale = gy / n if self.reduction == "mean" else gy
        if xp.differentiable:
            p = xp.sigmoid(x)
        need_x, need_t = self.needs_input_grad[:2]
        gx = (p - t) * scale if need_x else None
        gt = -x * scale if need_t else None
        return gx, gt
