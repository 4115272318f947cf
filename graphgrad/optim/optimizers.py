"""SGD (momentum, Nesterov), Adagrad, RMSprop, Adam, AdamW: PyTorch's classes over the rules in `updates`."""
from __future__ import annotations

from typing import Iterable

from . import updates
from .optimizer import Optimizer


def _check(name: str, **values) -> None:
    for key, value in values.items():
        if value < 0:
            raise ValueError(f"{name}: {key} must be >= 0, got {value}")


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum (heavy-ball or Nesterov) and L2 weight decay."""

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        """Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and weight decay."""
        _check("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov=True needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    rule = staticmethod(updates.sgd_step)


class Adagrad(Optimizer):
    """AdaGrad: per-element learning rates shrinking with the accumulated squared gradient."""

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10):
        """AdaGrad with PyTorch's arguments (lr_decay, weight_decay, initial_accumulator_value, eps)."""
        _check("Adagrad", lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))

    rule = staticmethod(updates.adagrad_step)


class RMSprop(Optimizer):
    """RMSprop: divide by a running root-mean-square of recent gradients (optionally centered, with momentum)."""

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        """RMSprop with PyTorch's arguments (alpha, eps, weight_decay, momentum, centered)."""
        _check("RMSprop", lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    rule = staticmethod(updates.rmsprop_step)


class Adam(Optimizer):
    """Adam: bias-corrected first and second moment estimates; weight_decay is L2 added to the gradient."""

    decoupled = False

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False):
        """Adam with bias correction and PyTorch's arguments (betas, eps, weight_decay, amsgrad)."""
        _check(type(self).__name__, lr=lr, eps=eps, weight_decay=weight_decay)
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"{type(self).__name__}: betas must be in [0, 1), got {betas}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad))

    rule = staticmethod(updates.adam_step)

    def rule_arguments(self, group: dict) -> dict:
        """The keyword arguments of `adam_step` for one parameter group."""
        hyper = {k: group[k] for k in ("lr", "eps", "weight_decay", "amsgrad")}
        hyper["beta1"], hyper["beta2"] = group["betas"]
        hyper["decoupled_weight_decay"] = self.decoupled
        return hyper


class AdamW(Adam):
    """Adam with decoupled weight decay: p *= 1 - lr·weight_decay, apart from the gradient."""

    decoupled = True

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False):
        """Adam with decoupled weight decay (default 0.01), as torch.optim.AdamW."""
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


AdaGrad = Adagrad  # the textbook's spelling
RMSProp = RMSprop
