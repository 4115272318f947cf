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
from .activations import logsumexp_kept

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(op: str, reduction: str) -> None:
    """Raise naming `op` unless `reduction` is one of mean/sum/none."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}  # same-size view of an int type


def check_class_indices(op: str, target, input_shape: tuple, ignore_index: int = -100) -> bool:
    """Raise naming `op` unless `target` holds integer class indices in [0, C) (or `ignore_index`) for
    logits of `input_shape` (N, C, d1, ...); return whether some entry equals `ignore_index`."""
    target = target if isinstance(target, np.ndarray) else to_numpy(target)
    classes = input_shape[1]
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: class-index targets must be integers, got dtype {target.dtype}; "
            f"convert with target.astype(int), or pass probabilities of the logits' shape"
        )
    expected = tuple(input_shape[:1]) + tuple(input_shape[2:])
    if target.shape != expected:
        raise ValueError(
            f"{op}: target of shape {target.shape} does not match input of shape {tuple(input_shape)}; "
            f"pass class indices of shape {expected} or probabilities of shape {tuple(input_shape)}"
        )
    # Seen as unsigned, a negative index becomes huge: one max() catches both ends (checked every step).
    if target.size == 0 or target.view(_UNSIGNED[target.itemsize]).max() < classes:
        return 0 <= ignore_index < classes and bool((target == ignore_index).any())
    bad = ((target < 0) | (target >= classes)) & (target != ignore_index)
    if bad.any():
        flat = np.flatnonzero(bad)
        i = np.unravel_index(int(flat[0]), target.shape)
        where = ", ".join(str(int(k)) for k in i)
        raise IndexError(
            f"{op}: target[{where}] = {int(target[i])} is not a class index in [0, {classes}) nor "
            f"ignore_index ({ignore_index}) ({flat.size} out-of-range entr{'y' if flat.size == 1 else 'ies'})"
        )
    return True


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

    Logits are (N, C) or (N, C, d1, ...); the target is class indices of shape (N, d1, ...) or
    probabilities of the logits' shape. `weight` (C,) weighs each class, targets equal to
    `ignore_index` count for nothing, `label_smoothing` mixes ε/C into every target; the mean
    divides by the summed weight of the counted targets, as PyTorch's. Half-precision logits are
    computed in float32 and the loss cast back. The plain case (N, C) keeps its fused fast path.
    """

    name = "cross_entropy"

    def __init__(self, ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0):
        """Cross-entropy with PyTorch's `ignore_index`, `reduction` ('mean', 'sum' or 'none') and `label_smoothing` (in [0, 1])."""
        check_reduction("cross_entropy", reduction)
        check_label_smoothing("cross_entropy", label_smoothing)
        self.ignore_index, self.reduction, self.label_smoothing = ignore_index, reduction, label_smoothing

    def forward(self, x, t, weight=None):
        xp = self.xp
        check_logits("cross_entropy", x)
        self.soft = tuple(t.shape) == tuple(x.shape)
        if self.soft and self.ignore_index >= 0:
            raise ValueError(
                f"cross_entropy: ignore_index ({self.ignore_index}) is not supported for probability targets"
            )
        ignored = False if self.soft else check_class_indices("cross_entropy", t, tuple(x.shape), self.ignore_index)
        self.general = ignored or weight is not None or x.ndim != 2 or self.label_smoothing != 0
        if self.general:
            return self._forward_general(x, t, weight)
        n, c = x.shape
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
        if self.general:
            return self._backward_general(gy)
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

    # ---- weights, ignored targets, label smoothing, (N, C, d1, ...) logits ---------------------
    def _forward_general(self, x, t, weight):
        """L = -Σ_c a_c·log softmax(x)_c per position, with a the weighted (smoothed) targets."""
        xp = self.xp
        self.in_dtype, self.in_shape = x.dtype, tuple(x.shape)
        rows = class_rows(xp, x if accumulator(x) is None else xp.astype(x, xp.float32))
        log_p = rows - logsumexp_kept(xp, rows, 1)
        check_weight("cross_entropy", weight, rows.shape[1])
        a, total = class_coefficients(xp, t, rows.shape[1], self.soft, weight, rows.dtype, self.ignore_index,
                                      self.label_smoothing)
        self.save_for_backward(t, weight, a, log_p)
        loss = reduce_rows(xp, -xp.sum(a * log_p, axis=1), self.reduction, total, self.in_shape)
        self.total = total  # the mean's divisor: the summed weight of the counted targets
        return loss if loss.dtype == self.in_dtype else xp.astype(xp.asarray(loss), self.in_dtype)

    def _backward_general(self, gy):
        t, weight, a, log_p = self.saved
        xp = self.xp
        need_x, need_t = self.needs_input_grad[:2]
        check_no_weight_grad("cross_entropy", self.needs_input_grad)
        if xp.differentiable:  # under create_graph: rebuilt from the recorded logits (and soft targets)
            rows = class_rows(xp, self.inputs[0])
            log_p = rows - xp.logsumexp(rows, axis=1, keepdims=True)
            if self.soft:
                a = class_coefficients(xp, t, rows.shape[1], True, weight, None, self.ignore_index,
                                       self.label_smoothing)[0]
        scale = row_scale(xp, gy, self.reduction, self.total)
        gx = gt = None
        if need_x:
            gx = (xp.exp(log_p) * xp.sum(a, axis=1, keepdims=True) - a) * scale
            gx = from_class_rows(xp, gx, self.in_shape)
            if gx.dtype != self.in_dtype:
                gx = xp.astype(gx, self.in_dtype)
        if need_t and self.soft:
            gt = -(1 - self.label_smoothing) * log_p * scale
            gt = from_class_rows(xp, gt if weight is None else gt * weight, self.in_shape)
        return gx, gt, None


class NLLLoss(Function):
    """L = -w[t]·x[t] per position (x holds log-probabilities), then reduced.  dL/dx = -w[t]·onehot(t) / Σw[t].

    Input (N, C) or (N, C, d1, ...), class-index target (N, d1, ...); `weight` and `ignore_index` as
    in cross_entropy (which is nll_loss of log_softmax).
    """

    name = "nll_loss"

    def __init__(self, ignore_index: int = -100, reduction: str = "mean"):
        """The negative log-likelihood loss with PyTorch's `ignore_index` and `reduction` ('mean', 'sum' or 'none')."""
        check_reduction("nll_loss", reduction)
        self.ignore_index, self.reduction = ignore_index, reduction

    def forward(self, x, t, weight=None):
        xp = self.xp
        check_logits("nll_loss", x)
        check_class_indices("nll_loss", t, tuple(x.shape), self.ignore_index)
        self.in_shape = tuple(x.shape)
        check_weight("nll_loss", weight, x.shape[1])
        a, self.total = class_coefficients(xp, t, x.shape[1], False, weight, x.dtype, self.ignore_index, 0.0)
        self.save_for_backward(a)
        return reduce_rows(xp, -xp.sum(a * class_rows(xp, x), axis=1), self.reduction, self.total, self.in_shape)

    def backward(self, gy):
        (a,) = self.saved
        check_no_weight_grad("nll_loss", self.needs_input_grad)
        gx = -a * row_scale(self.xp, gy, self.reduction, self.total) if self.needs_input_grad[0] else None
        return (None if gx is None else from_class_rows(self.xp, gx, self.in_shape)), None, None


def check_logits(op: str, x) -> None:
    """Raise naming `op` unless `x` is (N, C) or (N, C, d1, ...)."""
    if x.ndim < 2:
        raise ValueError(
            f"{op}: input must have shape (N, C) or (N, C, d1, ...), got {tuple(x.shape)}; "
            f"reshape a single sample with x.reshape(1, -1)"
        )


def check_label_smoothing(op: str, label_smoothing: float) -> None:
    """Raise naming `op` unless 0 <= label_smoothing <= 1."""
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")


def check_weight(op: str, weight, classes: int) -> None:
    """Raise naming `op` unless `weight` is None or one weight per class."""
    if weight is not None and tuple(weight.shape) != (classes,):
        raise ValueError(f"{op}: weight of shape {tuple(weight.shape)} must be ({classes},), one weight per class")


def check_no_weight_grad(op: str, needs_input_grad: tuple) -> None:
    """PyTorch has no gradient for the class weights either: refuse it rather than return none silently."""
    if len(needs_input_grad) > 2 and needs_input_grad[2]:
        raise RuntimeError(f"{op}: the derivative for 'weight' is not implemented; pass weight without requires_grad")


def class_rows(xp, a):
    """(N, C, d1, ...) as (N·d1·..., C), the class axis last; (N, C) as it is."""
    if a.ndim == 2:
        return a
    return xp.reshape(xp.permute_dims(a, (0, *range(2, a.ndim), 1)), (-1, a.shape[1]))


def from_class_rows(xp, rows, shape: tuple):
    """The inverse of class_rows for an array of `shape`."""
    if len(shape) == 2:
        return rows
    lead = (shape[0], *shape[2:], shape[1])
    return xp.permute_dims(xp.reshape(rows, lead), (0, len(shape) - 1, *range(1, len(shape) - 1)))


def class_coefficients(xp, t, classes: int, soft: bool, weight, dtype, ignore_index: int, label_smoothing: float):
    """(a, total): a (M, C) the weighted, smoothed target of each position, and the mean's divisor.

    Class indices: a = w[t]·((1-ε)·onehot(t)) + ε/C·w, zero where t = ignore_index, and total = Σ w[t]
    over the counted positions. Probabilities: a = w·((1-ε)·t + ε/C), total = the number of positions.
    """
    c = classes
    if soft:
        rows = class_rows(xp, t)
        a = rows if label_smoothing == 0 else (1 - label_smoothing) * rows + label_smoothing / c
        return (a if weight is None else a * weight), rows.shape[0]
    labels = xp.reshape(t, (-1,))
    keep = xp.astype(labels != ignore_index, dtype)[:, None]
    hot = xp.astype(labels[:, None] == xp.arange(c, like=labels)[None, :], dtype) * keep
    if weight is not None:
        hot = hot * weight
    total = xp.sum(hot)
    if label_smoothing == 0:
        return hot, total
    spread = keep * (label_smoothing / c) if weight is None else keep * weight * (label_smoothing / c)
    return (1 - label_smoothing) * hot + spread, total


def reduce_rows(xp, loss, reduction: str, total, shape: tuple):
    """Per-position losses (M,) reduced: summed, divided by `total` (mean) or shaped (N, d1, ...) (none)."""
    if reduction == "none":
        return xp.reshape(loss, (shape[0], *shape[2:]))
    s = xp.sum(loss)
    return s / total if reduction == "mean" else s


def row_scale(xp, gy, reduction: str, total):
    """The upstream gradient per position, shaped (M, 1) or a scalar."""
    if reduction == "mean":
        return gy / total
    return gy if reduction == "sum" else xp.reshape(gy, (-1, 1))


class BinaryCrossEntropyWithLogits(Function):
    """L = -[t·log σ(x) + (1-t)·log(1-σ(x))], then reduced.  dL/dx = (σ(x) - t) / N, dL/dt = -x / N."""

    name = "binary_cross_entropy_with_logits"

    def __init__(self, reduction: str = "mean"):
        """Binary cross-entropy on logits, `reduction` 'mean', 'sum' or 'none'."""
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


_EPSILON = float(np.float32(1e-12))  # PyTorch's clamp of x(1-x): its 1e-12 is a float32 constant


class BinaryCrossEntropy(Function):
    """L = -w·[t·log x + (1-t)·log(1-x)] for probabilities x, each log clamped at -100 (PyTorch's), then reduced.

    dL/dx = w·(x - t) / max(x(1-x), 1e-12),  dL/dt = w·(log(1-x) - log x).  On logits prefer
    binary_cross_entropy_with_logits: it never saturates.
    """

    name = "binary_cross_entropy"

    def __init__(self, reduction: str = "mean"):
        """Binary cross-entropy on probabilities, `reduction` 'mean', 'sum' or 'none'."""
        check_reduction("binary_cross_entropy", reduction)
        self.reduction = reduction

    def forward(self, x, t, weight=None):
        xp = self.xp
        if tuple(t.shape) != tuple(x.shape):
            raise ValueError(
                f"binary_cross_entropy: target of shape {tuple(t.shape)} must match input of shape {tuple(x.shape)}"
            )
        if x.shape and not (bool(xp.min(x) >= 0) and bool(xp.max(x) <= 1)):
            host = to_numpy(x)
            bad = host[~((host >= 0) & (host <= 1))].flat[0]
            raise ValueError(f"binary_cross_entropy: all elements of input should be between 0 and 1, got {bad}")
        self.save_for_backward(x, t, weight)
        with np.errstate(divide="ignore"):  # log 0 = -inf, clamped right away (NumPy would warn)
            log_x, log_1mx = xp.maximum(xp.log(x), -100.0), xp.maximum(xp.log(1 - x), -100.0)
        loss = -(t * log_x + (1 - t) * log_1mx)
        return reduce_loss(xp, loss if weight is None else loss * weight, self.reduction)

    def backward(self, gy):
        x, t, weight = self.saved
        xp = self.xp
        check_no_weight_grad("binary_cross_entropy", self.needs_input_grad)
        scale = gy / math.prod(x.shape) if self.reduction == "mean" else gy
        if weight is not None:
            scale = scale * weight
        need_x, need_t = self.needs_input_grad[:2]
        gx = (x - t) / xp.maximum(x * (1 - x), _EPSILON) * scale if need_x else None
        gt = None
        if need_t:
            with np.errstate(divide="ignore"):
                gt = (xp.maximum(xp.log(1 - x), -100.0) - xp.maximum(xp.log(x), -100.0)) * scale
        return gx, gt, None
