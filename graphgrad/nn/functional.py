"""Functional forms of the layers and losses: `F.relu(x)`, `F.linear(x, w, b)`, `F.cross_entropy(y, t)`.

Layers in `graphgrad.nn` are thin wrappers that own the parameters and call these.
"""
from __future__ import annotations

import numpy as np

from .. import ops
from ..ops.linear import Linear as _LinearOp
from ..backend import namespace
from ..ops.losses import (
    BinaryCrossEntropy, BinaryCrossEntropyWithLogits, NLLLoss, SoftmaxCrossEntropy, check_reduction, reduce_loss,
)
from ..autograd.tensor import Tensor
from .init import get_generator

relu, sigmoid, tanh = ops.relu, ops.sigmoid, ops.tanh
gelu, silu, elu, selu, softplus, mish = ops.gelu, ops.silu, ops.elu, ops.selu, ops.softplus, ops.mish
hardtanh, relu6, embedding = ops.hardtanh, ops.relu6, ops.embedding
# convolutional networks' ops, under PyTorch's functional names
conv1d, conv2d, conv_transpose2d, unfold, fold = ops.conv1d, ops.conv2d, ops.conv_transpose2d, ops.unfold, ops.fold
max_pool1d, max_pool2d, avg_pool1d, avg_pool2d = ops.max_pool1d, ops.max_pool2d, ops.avg_pool1d, ops.avg_pool2d
adaptive_avg_pool2d, adaptive_max_pool2d, pad = ops.adaptive_avg_pool2d, ops.adaptive_max_pool2d, ops.pad


def _raw(x) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def linear(input, weight, bias=None) -> Tensor:
    """input @ weightᵀ + bias, with weight of shape (out_features, in_features), as one fused op."""
    return _LinearOp()(input, weight) if bias is None else _LinearOp()(input, weight, bias)


def leaky_relu(input, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, negative_slope·x elsewhere (derivative: 1 or negative_slope)."""
    x = _raw(input)
    slope = np.where(x > 0, 1, negative_slope).astype(x.dtype)  # a constant: one Mul node
    return ops.mul(input, slope)


def softmax(input, dim: int = -1) -> Tensor:
    """e^x / Σ e^x along `dim`."""
    return ops.softmax(input, dim)


def log_softmax(input, dim: int = -1) -> Tensor:
    """x - log Σ e^x along `dim` (stable)."""
    return ops.log_softmax(input, dim)


def flatten(input, start_dim: int = 1, end_dim: int = -1) -> Tensor:
    """Merge axes start_dim..end_dim into one (by default every axis but the batch axis, as nn.Flatten)."""
    return ops.flatten(input, start_dim, end_dim)


def dropout(input, p: float = 0.5, training: bool = True, generator=None) -> Tensor:
    """Inverted dropout: zero each element with probability p, scale the rest by 1/(1-p); identity when not training."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: probability p must be in [0, 1], got {p}")
    x = _raw(input)
    if not training or p == 0:
        return input if isinstance(input, Tensor) else Tensor(x)
    if p == 1:
        return ops.mul(input, np.zeros_like(x))
    keep = get_generator(generator).random(x.shape) >= p
    return ops.mul(input, (keep * (1.0 / (1.0 - p))).astype(x.dtype))


def dropout2d(input, p: float = 0.5, training: bool = True, generator=None) -> Tensor:
    """Channel dropout: zero each whole channel of (N, C, H, W) with probability p, scale the rest by 1/(1-p)."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout2d: probability p must be in [0, 1], got {p}")
    x = _raw(input)
    if x.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected a (N, C, H, W) or (C, H, W) input, got shape {x.shape}")
    if not training or p == 0:
        return input if isinstance(input, Tensor) else Tensor(x)
    shape = x.shape[:-2] + (1, 1)
    if p == 1:
        return ops.mul(input, np.zeros(shape, dtype=x.dtype))
    keep = get_generator(generator).random(shape) >= p
    return ops.mul(input, (keep * (1.0 / (1.0 - p))).astype(x.dtype))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training: bool = False,
               momentum: float | None = 0.1, eps: float = 1e-5, num_batches_tracked=None) -> Tensor:
    """Normalise each channel (axis 1) by batch statistics (training, updating the running ones) or running ones.

    Input (N, C), (N, C, L) or (N, C, H, W): the statistics are over every axis but the channels.
    """
    x = _raw(input)
    if x.ndim not in (2, 3, 4):
        raise ValueError(f"batch_norm: expected input of shape (N, C), (N, C, L) or (N, C, H, W), got {x.shape}")
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if training:
        n = x.size // x.shape[1]
        if n < 2:
            raise ValueError(f"batch_norm: training needs more than one value per channel, got input {x.shape}")
        mean = ops.mean(input, axes, True)
        xc = input - mean
        var = ops.mean(xc * xc, axes, True)
        xhat = xc / ops.sqrt(var + eps)
        if running_mean is not None:
            # momentum=None means a cumulative average over the batches seen, as in PyTorch
            m = 1.0 / float(num_batches_tracked) if momentum is None else momentum
            running_mean *= 1 - m
            running_mean += m * mean.data.reshape(-1)
            running_var *= 1 - m
            running_var += m * var.data.reshape(-1) * (n / (n - 1))  # the unbiased variance, as PyTorch keeps
    else:
        scale = 1.0 / np.sqrt(running_var + eps)
        xhat = ops.mul(ops.sub(input, running_mean.reshape(shape).astype(x.dtype)), scale.reshape(shape).astype(x.dtype))
    if weight is not None:
        xhat = xhat * ops.reshape(weight, shape)
    if bias is not None:
        xhat = xhat + ops.reshape(bias, shape)
    return xhat


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last len(normalized_shape) axes of each sample, then scale and shift."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    x = _raw(input)
    if x.shape[x.ndim - len(shape):] != shape:
        raise ValueError(f"layer_norm: input of shape {x.shape} does not end in normalized_shape {shape}")
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    mean = ops.mean(input, axes, True)
    xc = input - mean
    var = ops.mean(xc * xc, axes, True)
    y = xc / ops.sqrt(var + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


# ---- losses ---------------------------------------------------------------------------
def cross_entropy(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax + cross-entropy fused, PyTorch's: logits (N, C) or (N, C, d1, ...), target class indices
    (N, d1, ...) or probabilities of the logits' shape; class weights, ignore_index, label smoothing."""
    op = SoftmaxCrossEntropy(ignore_index, reduction, label_smoothing)
    return op(input, target) if weight is None else op(input, target, weight)


def nll_loss(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """-weight[t]·input[t] reduced: the loss for log-probabilities (use after log_softmax)."""
    op = NLLLoss(ignore_index, reduction)
    return op(input, target) if weight is None else op(input, target, weight)


def binary_cross_entropy_with_logits(input, target, reduction: str = "mean") -> Tensor:
    """Sigmoid + binary cross-entropy fused (stable for any logit).  dL/dx = (σ(x) - t)/N."""
    return BinaryCrossEntropyWithLogits(reduction)(input, target)


def mse_loss(input, target, reduction: str = "mean") -> Tensor:
    """Mean (or sum) of squared differences (input - target)²."""
    d = _difference("mse_loss", input, target, reduction)
    return reduce_loss(ops.tensor_ops, d * d, reduction)


def l1_loss(input, target, reduction: str = "mean") -> Tensor:
    """Mean (or sum) of absolute differences |input - target| (gradient sign(d), 0 at d = 0)."""
    return reduce_loss(ops.tensor_ops, ops.abs(_difference("l1_loss", input, target, reduction)), reduction)


def smooth_l1_loss(input, target, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5·d²/β where |d| < β, else |d| - 0.5·β, reduced (d = input - target; β = 0 is the L1 loss)."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    d = _difference("smooth_l1_loss", input, target, reduction)
    if beta == 0:
        return reduce_loss(ops.tensor_ops, ops.abs(d), reduction)
    return reduce_loss(ops.tensor_ops, _huber(d, beta) / beta, reduction)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """0.5·d² where |d| < δ, else δ·(|d| - 0.5·δ), reduced (d = input - target)."""
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    return reduce_loss(ops.tensor_ops, _huber(_difference("huber_loss", input, target, reduction), delta), reduction)


def _huber(d: Tensor, delta: float) -> Tensor:
    """The Huber function of d: quadratic inside |d| < δ, linear (slope δ) outside."""
    magnitude = ops.abs(d)
    return ops.where(magnitude.data < delta, 0.5 * d * d, delta * (magnitude - 0.5 * delta))


def binary_cross_entropy(input, target, weight=None, reduction: str = "mean") -> Tensor:
    """-w·[t·log x + (1-t)·log(1-x)] reduced, for probabilities x in [0, 1] (logs clamped at -100, as PyTorch)."""
    op = BinaryCrossEntropy(reduction)
    return op(input, target) if weight is None else op(input, target, weight)


def kl_div(input, target, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Pointwise KL divergence t·(log t - input) of log-probabilities `input` from target t (0 where t = 0);
    with log_target, exp(t)·(t - input). reduction 'batchmean' divides the sum by the batch size."""
    if reduction not in ("mean", "sum", "none", "batchmean"):
        raise ValueError(f"kl_div: reduction must be one of ('mean', 'sum', 'none', 'batchmean'), got {reduction!r}")
    _check_pair("kl_div", input, target, "sum" if reduction == "batchmean" else reduction)
    if log_target:
        loss = ops.exp(target) * (target - input)
    else:
        t = _raw(target)
        positive = t > 0
        safe = ops.where(positive, target, namespace(t).ones_like(t))  # t·log t is 0 at t = 0
        loss = ops.where(positive, target * ops.log(safe), 0.0) - target * input
    if reduction == "batchmean":
        x = _raw(input)
        return ops.sum(loss) / (x.shape[0] if x.ndim else 1)
    return reduce_loss(ops.tensor_ops, loss, reduction)


def _check_pair(op: str, input, target, reduction: str) -> None:
    """Raise naming `op` unless the reduction is known and input and target have one shape."""
    check_reduction(op, reduction)
    a, b = tuple(np.shape(_raw(input))), tuple(np.shape(_raw(target)))
    if a != b:
        raise ValueError(f"{op}: input of shape {a} and target of shape {b} differ; reshape one so they match")


def _difference(op: str, input, target, reduction: str) -> Tensor:
    """input - target, after _check_pair."""
    _check_pair(op, input, target, reduction)
    return ops.sub(input, target)
