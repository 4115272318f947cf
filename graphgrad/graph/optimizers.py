"""Optimizers for static graphs, as in the seed text: `one_step()` accumulates, `update()` steps.

`one_step()` runs the graph forward for the values currently set and adds the gradient of the
target with respect to every trainable variable it depends on (one batched reverse sweep, see
backprop.py). `update()` averages what was accumulated over the steps since the last update and
applies the update rule in place. The rules are graphgrad.optim's plain functions: the same math
trains eager modules and static graphs.

With `batch_size=n`, `one_step()` calls `update()` itself after every n steps (the text's
mini-batch of single samples); feeding a whole mini-batch per step works as well (a mean loss
over the batch), then leave batch_size at 1.
"""
from __future__ import annotations

import numpy as np

from ..optim import updates
from .backprop import gradients
from .graph import Graph
from .node import Node, Variable


class Optimizer:
    """Base of the graph optimizers: gradient accumulation over a mini-batch, then one update."""

    def __init__(self, graph: Graph, target: Node, learning_rate: float = 0.01, batch_size: int | None = None):
        """Train every trainable Variable `target` depends on; with batch_size=n, one_step() updates every n steps."""
        if not isinstance(target, Node) or target.graph is not graph:
            raise ValueError(
                f"{type(self).__name__}: target {getattr(target, 'name', target)!r} is not a node of the "
                f"given graph; build the loss in that graph"
            )
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"{type(self).__name__}: batch_size must be >= 1 or None, got {batch_size}")
        self.graph, self.target = graph, target
        self.learning_rate, self.batch_size = learning_rate, batch_size
        self.variables = [n for n in graph.order(target) if isinstance(n, Variable) and n.trainable]
        if not self.variables:
            raise ValueError(f"{type(self).__name__}: target {target.name!r} depends on no trainable Variable")
        self.states: list[dict] = [{} for _ in self.variables]
        self.acc_gradient: list[np.ndarray | None] = [None] * len(self.variables)
        self.acc_no = 0

    def one_step(self) -> None:
        """Forward for the current values and add the target's gradient for each trainable variable."""
        acc = self.acc_gradient
        for i, g in enumerate(gradients(self.target, self.variables)):
            prev = acc[i]
            if prev is None:
                acc[i] = g
            elif self.acc_no == 1:
                acc[i] = prev + g  # a fresh array: the first step's may be the engine's (or a view of it)
            else:
                prev += g  # our own array since the second step: add in place, no allocation
        self.acc_no += 1
        if self.batch_size is not None and self.acc_no >= self.batch_size:
            self.update()

    def get_gradient(self, variable: Variable) -> np.ndarray:
        """The mean gradient accumulated for `variable` since the last update."""
        i = self._index(variable)
        if self.acc_no == 0:
            raise RuntimeError(f"get_gradient: no one_step() since the last update for {variable.name!r}")
        return self.acc_gradient[i] / self.acc_no

    def update(self, var_gradients: dict | None = None) -> None:
        """Apply one update with the mean accumulated gradients (or the given {variable: gradient})."""
        if var_gradients is not None:
            grads = [None] * len(self.variables)
            for var, g in var_gradients.items():
                grads[self._index(var)] = np.asarray(g)
        elif self.acc_no == 0:
            raise RuntimeError(f"{type(self).__name__}.update(): call one_step() at least once first")
        else:
            n = self.acc_no  # rules only read the gradient, so a single step's array is used as is
            grads = [g if g is None or n == 1 else g / n for g in self.acc_gradient]
        changed = []
        for var, g, state in zip(self.variables, grads, self.states):
            if g is None:
                continue
            self.rule(var._value, g, state)
            changed.append(var)
        _invalidate_downstream(changed)  # the values changed in place: what was computed from them is stale
        self.graph.value_version += 1
        self.acc_gradient = [None] * len(self.variables)
        self.acc_no = 0

    def rule(self, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        """Update `param` in place from `grad` (one of graphgrad.optim.updates' rules)."""
        raise NotImplementedError(f"{type(self).__name__} must define rule()")

    def _index(self, variable: Variable) -> int:
        for i, v in enumerate(self.variables):
            if v is variable:
                return i
        raise ValueError(
            f"{type(self).__name__}: {getattr(variable, 'name', variable)!r} is not a trainable variable "
            f"that the target depends on"
        )


def _invalidate_downstream(variables: list) -> None:
    """Forget every value computed from any of `variables`: one walk for all (the article's network has
    200 Variables whose descendants overlap), not one per variable."""
    seen, stack = set(), [c for v in variables for c in v.children]
    while stack:
        n = stack.pop()
        if id(n) not in seen:
            seen.add(id(n))
            n._value = None
            stack.extend(n.children)


class GradientDescent(Optimizer):
    """p -= learning_rate · g."""

    def rule(self, param, grad, state):
        """p -= lr × g."""
        updates.sgd_step(param, grad, state, lr=self.learning_rate)


class Momentum(Optimizer):
    """v = momentum·v - learning_rate·g;  p += v  (torch's SGD momentum: the same steps for a fixed rate)."""

    def __init__(self, graph, target, learning_rate=0.01, momentum=0.9, batch_size=None):
        """Gradient descent with momentum: v = momentum × v - lr × g; p += v."""
        super().__init__(graph, target, learning_rate, batch_size)
        self.momentum = momentum

    def rule(self, param, grad, state):
        """v = momentum × v - lr × g; p += v."""
        updates.sgd_step(param, grad, state, lr=self.learning_rate, momentum=self.momentum)


class AdaGrad(Optimizer):
    """h += g²;  p -= learning_rate · g / (√h + eps)."""

    def __init__(self, graph, target, learning_rate=0.01, eps=1e-10, batch_size=None):
        """AdaGrad: the learning rate divided by the root of the summed squared gradients."""
        super().__init__(graph, target, learning_rate, batch_size)
        self.eps = eps

    def rule(self, param, grad, state):
        """h += g²; p -= lr × g / (√h + eps)."""
        updates.adagrad_step(param, grad, state, lr=self.learning_rate, eps=self.eps)


class RMSProp(Optimizer):
    """s = beta·s + (1-beta)·g²;  p -= learning_rate · g / (√s + eps)."""

    def __init__(self, graph, target, learning_rate=0.01, beta=0.9, eps=1e-8, batch_size=None):
        """RMSProp: the learning rate divided by the root of a running mean of squared gradients."""
        super().__init__(graph, target, learning_rate, batch_size)
        self.beta, self.eps = beta, eps

    def rule(self, param, grad, state):
        """h = beta × h + (1 - beta) × g²; p -= lr × g / (√h + eps)."""
        updates.rmsprop_step(param, grad, state, lr=self.learning_rate, alpha=self.beta, eps=self.eps)


class Adam(Optimizer):
    """Adam with bias correction: moments m (beta_1) and v (beta_2) of the gradient."""

    def __init__(self, graph, target, learning_rate=0.01, beta_1=0.9, beta_2=0.99, eps=1e-8, batch_size=None):
        """Adam with the text's defaults (beta_2 = 0.99) and bias correction."""
        super().__init__(graph, target, learning_rate, batch_size)
        self.beta_1, self.beta_2, self.eps = beta_1, beta_2, eps

    def rule(self, param, grad, state):
        """Adam's bias-corrected moment update of p."""
        updates.adam_step(param, grad, state, lr=self.learning_rate, beta1=self.beta_1, beta2=self.beta_2, eps=self.eps)
