"""Fused CUDA kernels (CuPy) for the steps that are many small array calls: the optimizer updates and
softmax with cross-entropy. Imported only when CuPy arrays are in use, never by `import graphgrad`.

Each replaces a chain of CuPy calls (one kernel launch and one pass over memory each) with one
kernel over the same formulas, in the same order, as the plain versions in `graphgrad.optim.updates`
and the `cross_entropy` op: the update rules keep the same state keys, so checkpoints move freely
between the two. `benchmarks/gpu_check.py` checks every kernel against its plain version on a GPU.
"""
from __future__ import annotations

import math

import cupy as cp

# ---- optimizer updates (the signature of graphgrad.optim.updates' rules) ----------------------

_sgd = cp.ElementwiseKernel(
    "T g, T lr, T weight_decay", "T p",
    "p -= lr * (g + weight_decay * p)",
    "graphgrad_sgd")

_sgd_momentum = cp.ElementwiseKernel(
    "T g, T lr, T momentum, T dampening, T weight_decay, T nesterov, T first", "T p, T buf",
    """
    T d = g + weight_decay * p;
    buf = first != 0 ? d : momentum * buf + (1 - dampening) * d;
    p -= lr * (nesterov != 0 ? d + momentum * buf : buf);
    """,
    "graphgrad_sgd_momentum")

_adam = cp.ElementwiseKernel(
    "T g, T lr_t, T beta1, T beta2, T c1, T c2, T eps, T bias2_sqrt, T weight_decay, T decay", "T p, T m, T v",
    """
    T d = g + weight_decay * p;
    p *= decay;
    m = beta1 * m + c1 * d;
    v = beta2 * v + c2 * (d * d);
    p -= lr_t * (m / (sqrt(v) / bias2_sqrt + eps));
    """,
    "graphgrad_adam")


def sgd_step(param, grad, state: dict, *, lr: float, momentum: float = 0.0, dampening: float = 0.0,
             nesterov: bool = False, weight_decay: float = 0.0) -> None:
    """`updates.sgd_step` in one kernel (the first momentum step copies the gradient into the buffer, as PyTorch)."""
    t = param.dtype.type
    if not momentum:
        _sgd(grad, t(lr), t(weight_decay), param)
        return
    buf = state.get("momentum_buffer")
    first = buf is None
    if first:
        buf = state["momentum_buffer"] = cp.empty_like(param)
    _sgd_momentum(grad, t(lr), t(momentum), t(dampening), t(weight_decay), t(nesterov), t(first), param, buf)


def adam_step(param, grad, state: dict, *, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
              eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False,
              decoupled_weight_decay: bool = False) -> None:
    """`updates.adam_step` (and AdamW's) in one kernel; amsgrad runs the plain rule."""
    if amsgrad:
        from ..optim import updates

        return updates.adam_step(param, grad, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                                 weight_decay=weight_decay, amsgrad=True,
                                 decoupled_weight_decay=decoupled_weight_decay)
    step = state["step"] = state.get("step", 0) + 1
    m = state.get("exp_avg")
    if m is None:
        m = state["exp_avg"] = cp.zeros_like(param)
    v = state.get("exp_avg_sq")
    if v is None:
        v = state["exp_avg_sq"] = cp.zeros_like(param)
    l2, decay = (0.0, 1 - lr * weight_decay) if decoupled_weight_decay else (weight_decay, 1.0)
    t = param.dtype.type
    _adam(grad, t(lr / (1 - beta1 ** step)), t(beta1), t(beta2), t(1 - beta1), t(1 - beta2), t(eps),
          t(math.sqrt(1 - beta2 ** step)), t(l2), t(decay), param, m, v)
    return None


# Optimizer.step uses these for CuPy parameters, by the name of the plain rule they replace.
FUSED_RULES = {"sgd_step": sgd_step, "adam_step": adam_step}

# ---- softmax with cross-entropy (class-index targets) -------------------------------------------

_sum_exp = cp.ReductionKernel(
    "T x, T m", "T s", "exp(x - m)", "a + b", "s = a", "0", "graphgrad_sum_exp")

_cross_entropy_grad = cp.ElementwiseKernel(
    "T x, T m, T s, S t, int64 c, T scale", "T gx",
    "gx = (exp(x - m) / s - (T)((i % c) == t)) * scale",
    "graphgrad_cross_entropy_grad")


def cross_entropy_forward(x, t, reduction: str = "mean"):
    """(loss, m, s) for logits x (N, C) and class indices t (N,): loss_n = log s_n - (x[n, t_n] - m_n) with
    m the row max and s = Σ exp(x - m), reduced by `reduction`; (m, s) is what backward needs (no N x C softmax)."""
    m = x.max(axis=1, keepdims=True)
    s = _sum_exp(x, m, axis=1, keepdims=True)
    losses = (cp.log(s) - (cp.take_along_axis(x, t[:, None], axis=1) - m))[:, 0]
    if reduction == "mean":
        return losses.mean(), m, s
    return (losses.sum() if reduction == "sum" else losses), m, s


def cross_entropy_backward(x, t, m, s, gy, reduction: str = "mean"):
    """dL/dx = (softmax(x) - onehot(t)) · gy (÷ N for the mean), in one kernel."""
    n, c = x.shape
    scale = gy / n if reduction == "mean" else gy
    scale = scale.reshape(-1, 1) if reduction == "none" else scale
    return _cross_entropy_grad(x, m, s, t[:, None], c, scale.astype(x.dtype, copy=False))


__all__ = ["sgd_step", "adam_step", "FUSED_RULES", "cross_entropy_forward", "cross_entropy_backward"]
