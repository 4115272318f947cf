"""gradcheck: compare backprop's gradients with central differences, element by element.

The check differentiates s(x) = Σ v·f(x) for a fixed random v (one backward pass), so every
output element takes part; the numerical side perturbs each input element by ±eps.
Use float64 inputs: float32 has too few digits for differences at eps = 1e-6.
"""
from __future__ import annotations

import warnings
from typing import Callable, Sequence

import numpy as np

from . import mode
from .grad import grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Backprop's gradient and the numerical gradient disagree."""


def gradcheck(fn: Callable, inputs: Sequence | Tensor, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, seed: int = 0) -> bool:
    """True when fn's backprop gradient matches central differences for every input with requires_grad; else raises."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    checked = [(i, t) for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to check")
    for i, t in checked:
        if t.dtype != np.float64:
            warnings.warn(f"gradcheck: input {i} is {t.dtype}; use float64 for a meaningful check", stacklevel=2)
    outputs = _as_outputs(fn(*inputs))
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(o.shape).astype(o.dtype) for o in outputs]

    live = [(o, v) for o, v in zip(outputs, weights) if o.requires_grad]
    if live:
        analytic = grad([o for o, _ in live], [t for _, t in checked],
                                 grad_outputs=[v for _, v in live], allow_unused=True)
    else:
        analytic = [None] * len(checked)

    def projected() -> float:
        with mode.no_grad():
            outs = _as_outputs(fn(*inputs))
        return float(sum(np.sum(o.data.astype(np.float64) * v) for o, v in zip(outs, weights)))

    for (i, t), a in zip(checked, analytic):
        a = np.zeros(t.shape) if a is None else a.data.astype(np.float64)
        n = central_differences(projected, t.data, eps)
        excess = np.abs(a - n) - (atol + rtol * np.abs(n))
        if excess.size and excess.max() > 0:
            worst = np.unravel_index(int(np.argmax(excess)), excess.shape)
            raise GradcheckError(
                f"gradcheck: gradient of input {i} (shape {t.shape}) is wrong at index {tuple(map(int, worst))}: "
                f"backprop {a[worst]:.10g}, numerical {n[worst]:.10g} (|diff| {abs(a[worst] - n[worst]):.3g} "
                f"> atol {atol} + rtol {rtol}·|numerical|)"
            )
    return True


def _as_outputs(out) -> tuple:
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: fn must return a Tensor or a tuple of Tensors, got {type(o).__name__}")
    return outs


def central_differences(f: Callable[[], float], x: np.ndarray, eps: float) -> np.ndarray:
    """(f(x + eps·e_i) - f(x - eps·e_i)) / 2eps for every element i of x (x is restored after each)."""
    grad = np.zeros(x.shape, dtype=np.float64)
    flat = x.reshape(-1)  # a view for contiguous x, so writes reach the tensor
    if not np.shares_memory(flat, x):
        raise ValueError("gradcheck: inputs must be contiguous arrays; pass np.ascontiguousarray(...) data")
    out = grad.reshape(-1)
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + eps
        hi = f()
        flat[k] = old - eps
        lo = f()
        flat[k] = old
        out[k] = (hi - lo) / (2 * eps)
    return grad
