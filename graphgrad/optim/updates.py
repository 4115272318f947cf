"""Optimizer update rules as plain functions on arrays: the one place their math is written.

Every rule has the same shape, so any optimizer (the `graphgrad.optim` classes, the static-graph
optimizers, your own loop) can reuse it:

    rule(param, grad, state, *, lr, ...hyper-parameters) -> None

- `param`: the parameter's array, updated IN PLACE (so every view and holder sees the step);
- `grad`:  its gradient array, only read, never modified (gradient arrays may alias);
- `state`: a dict the rule owns for this parameter: pass `{}` on the first step and the same
  dict afterwards (moments, accumulators and the step count live there).

Example, plain NumPy:

    state = {}
    for _ in range(100):
        adam_step(w, grad_of(w), state, lr=1e-3)

Arrays may come from any library graphgrad supports (NumPy, CuPy, an Array-API library): the
rules compute with the parameter's own namespace, so state lives where the parameter lives.

Hyper-parameters and formulas follow PyTorch's `torch.optim` exactly (the tests compare
10-step trajectories), which also covers the textbook's SGD, AdaGrad, RMSprop and Adam. The textbook's Momentum
(v = μv - lr·g; p += v) is `sgd_step` with `momentum=μ`: the same steps for a fixed lr.
"""
from __future__ import annotations

from typing import Any

import math

from ..backend import namespace

Array = Any  # an array of any supported library


def _zeros(state: dict, key: str, param):
    buf = state.get(key)
    if buf is None:
        buf = state[key] = namespace(param).zeros_like(param)
    return buf


def sgd_step(param: Array, grad: Array, state: dict, *, lr: float, momentum: float = 0.0,
             dampening: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0) -> None:
    """Gradient descent: v = μ·v + (1-dampening)·g;  p -= lr·(g + μ·v if nesterov else v)  (plain p -= lr·g when μ = 0)."""
    if weight_decay:
        grad = grad + weight_decay * param
    if momentum:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = state["momentum_buffer"] = namespace(grad).asarray(grad, copy=True)  # grad is never ours to change
        else:
            buf *= momentum
            buf += (1 - dampening) * grad if dampening else grad
        grad = grad + momentum * buf if nesterov else buf
    param -= lr * grad


def adagrad_step(param: Array, grad: Array, state: dict, *, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0, eps: float = 1e-10) -> None:
    """AdaGrad: h += g²;  p -= lr_t · g / (√h + eps), lr_t = lr / (1 + (t-1)·lr_decay)."""
    if weight_decay:
        grad = grad + weight_decay * param
    step = state["step"] = state.get("step", 0) + 1
    h = state.get("sum")
    if h is None:
        h = state["sum"] = namespace(param).zeros_like(param) + initial_accumulator_value
    h += grad * grad
    clr = lr / (1 + (step - 1) * lr_decay)
    denom = namespace(h).sqrt(h)
    denom += eps
    param -= clr * grad / denom


def rmsprop_step(param: Array, grad: Array, state: dict, *, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False) -> None:
    """RMSprop: s = α·s + (1-α)·g²;  p -= lr · g / (√s + eps) (centered: √(s - ḡ²); momentum: through a buffer)."""
    if weight_decay:
        grad = grad + weight_decay * param
    state["step"] = state.get("step", 0) + 1
    s = _zeros(state, "square_avg", param)
    s *= alpha
    s += (1 - alpha) * (grad * grad)
    if centered:
        g_avg = _zeros(state, "grad_avg", param)
        g_avg *= alpha
        g_avg += (1 - alpha) * grad
        denom = namespace(s).sqrt(s - g_avg * g_avg)
    else:
        denom = namespace(s).sqrt(s)
    denom += eps
    if momentum > 0:
        buf = _zeros(state, "momentum_buffer", param)
        buf *= momentum
        buf += grad / denom
        param -= lr * buf
    else:
        param -= lr * (grad / denom)


def adam_step(param: Array, grad: Array, state: dict, *, lr: float = 1e-3, beta1: float = 0.9,
              beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False,
              decoupled_weight_decay: bool = False) -> None:
    """Adam: m = β₁m + (1-β₁)g, v = β₂v + (1-β₂)g², p -= lr/(1-β₁ᵗ) · m / (√v/√(1-β₂ᵗ) + eps).

    `decoupled_weight_decay=True` is AdamW: p *= 1 - lr·weight_decay instead of adding it to g.
    """
    if weight_decay:
        if decoupled_weight_decay:
            param *= 1 - lr * weight_decay
        else:
            grad = grad + weight_decay * param
    step = state["step"] = state.get("step", 0) + 1
    m = _zeros(state, "exp_avg", param)
    v = _zeros(state, "exp_avg_sq", param)
    m *= beta1
    m += (1 - beta1) * grad
    v *= beta2
    v += (1 - beta2) * (grad * grad)
    if amsgrad:
        v_max = _zeros(state, "max_exp_avg_sq", param)
        v_max[...] = namespace(v).maximum(v_max, v)
        v = v_max
    bias1 = 1 - beta1 ** step
    bias2_sqrt = math.sqrt(1 - beta2 ** step)
    denom = namespace(v).sqrt(v)
    denom /= bias2_sqrt
    denom += eps
    param -= (lr / bias1) * (m / denom)

