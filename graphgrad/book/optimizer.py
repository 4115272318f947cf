"""The textbook's optimizers (`common.optimizer`): `update(params, grads)` on dicts of arrays.

Each is a thin driver over graphgrad's update rules (`graphgrad.optim.updates`), one state dict
per key, so the math is written once. The book's formulas are those rules with the book's
hyper-parameters: its Momentum/Nesterov are `sgd_step` with momentum (the same steps for a fixed
lr), its ε = 1e-7 sits where the rules put eps (for Adam, inside the bias-corrected denominator,
so eps is scaled per step). Parameters are updated in place, so layers holding the arrays see
the step; a plain-number parameter (the book's 2-D toy functions) is replaced in the dict.
"""
from __future__ import annotations

import math

import numpy as np

from ..optim.updates import adagrad_step, adam_step, rmsprop_step, sgd_step

__all__ = ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"]


class _BookOptimizer:
    """update(params, grads): one step of the rule on every key of params."""

    lr: float

    def __init__(self):
        self.state: dict = {}

    def _step(self, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        raise NotImplementedError

    def update(self, params: dict, grads: dict) -> None:
        """Move each params[key] one step against grads[key] (arrays in place)."""
        for key in params:
            if key not in grads:
                raise KeyError(f"{type(self).__name__}.update: grads has no entry {key!r} (it has {sorted(grads)})")
            param, grad = params[key], np.asarray(grads[key])
            scalar = not isinstance(param, np.ndarray)
            if scalar:
                param = np.array(param, dtype=float)
            if param.shape != grad.shape:
                raise ValueError(f"{type(self).__name__}.update: params[{key!r}] has shape {param.shape} but "
                                 f"grads[{key!r}] has shape {grad.shape}")
            self._step(param, grad, self.state.setdefault(key, {}))
            if scalar:
                params[key] = float(param)


class SGD(_BookOptimizer):
    """W ← W - lr·∂L/∂W."""

    def __init__(self, lr: float = 0.01):
        """The book's constructor arguments (see the class docstring)."""
        super().__init__()
        self.lr = lr

    def _step(self, param, grad, state):
        sgd_step(param, grad, state, lr=self.lr)


class Momentum(_BookOptimizer):
    """v ← αv - lr·∂L/∂W;  W ← W + v."""

    def __init__(self, lr: float = 0.01, momentum: float = 0.9):
        """The book's constructor arguments (see the class docstring)."""
        super().__init__()
        self.lr, self.momentum = lr, momentum

    def _step(self, param, grad, state):
        sgd_step(param, grad, state, lr=self.lr, momentum=self.momentum)


class Nesterov(_BookOptimizer):
    """Nesterov's accelerated gradient: W ← W + α²v - (1 + α)·lr·∂L/∂W;  v ← αv - lr·∂L/∂W."""

    def __init__(self, lr: float = 0.01, momentum: float = 0.9):
        """The book's constructor arguments (see the class docstring)."""
        super().__init__()
        self.lr, self.momentum = lr, momentum

    def _step(self, param, grad, state):
        sgd_step(param, grad, state, lr=self.lr, momentum=self.momentum, nesterov=True)


class AdaGrad(_BookOptimizer):
    """h ← h + (∂L/∂W)²;  W ← W - lr·∂L/∂W / (√h + 1e-7)."""

    def __init__(self, lr: float = 0.01):
        """The book's constructor arguments (see the class docstring)."""
        super().__init__()
        self.lr = lr

    def _step(self, param, grad, state):
        adagrad_step(param, grad, state, lr=self.lr, eps=1e-7)


class RMSprop(_BookOptimizer):
    """h ← ρh + (1 - ρ)(∂L/∂W)²;  W ← W - lr·∂L/∂W / (√h + 1e-7), ρ = decay_rate."""

    def __init__(self, lr: float = 0.01, decay_rate: float = 0.99):
        """The book's constructor arguments (see the class docstring)."""
        super().__init__()
        self.lr, self.decay_rate = lr, decay_rate

    def _step(self, param, grad, state):
        rmsprop_step(param, grad, state, lr=self.lr, alpha=self.decay_rate, eps=1e-7)


class Adam(_BookOptimizer):
    """m, v the moving averages of g and g²;  W ← W - lr·√(1-β₂ᵗ)/(1-β₁ᵗ) · m / (√v + 1e-7)."""

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999):
        """The book's constructor arguments (see the class docstring)."""
        super().__init__()
        self.lr, self.beta1, self.beta2 = lr, beta1, beta2
        self.iter = 0

    def update(self, params: dict, grads: dict) -> None:
        """One step on the dicts `params` and `grads`, updating `params` in place."""
        self.iter += 1
        super().update(params, grads)

    def _step(self, param, grad, state):
        # the rule divides by √v/√(1-β₂ᵗ) + eps; the book by (√v + 1e-7)/√(1-β₂ᵗ)
        eps = 1e-7 / math.sqrt(1.0 - self.beta2 ** (state.get("step", 0) + 1))
        adam_step(param, grad, state, lr=self.lr, beta1=self.beta1, beta2=self.beta2, eps=eps)
