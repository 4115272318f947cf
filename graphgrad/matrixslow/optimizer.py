"""MatrixSlow's optimizers: graphgrad.graph's update rules, constructor arguments and defaults, with MatrixSlow's
choice of what to train: every trainable Variable of the graph, found again at each step. A graph re-wired after
the optimizer was built (`ops.Welding.weld`) trains the Variables it now uses; the others get a zero gradient, as
in MatrixSlow."""
from __future__ import annotations

from .. import graph as G

__all__ = ["Optimizer", "GradientDescent", "Momentum", "AdaGrad", "RMSProp", "Adam"]


class Optimizer(G.Optimizer):
    """Base of MatrixSlow's optimizers: graphgrad.graph's Optimizer over all of the graph's trainable Variables."""

    def one_step(self) -> None:
        """Forward for the current values and add the target's gradient for every trainable Variable of the graph."""
        found = self.graph.trainable_variables
        if len(found) != len(self.variables) or any(a is not b for a, b in zip(found, self.variables)):
            if self.acc_no:
                raise RuntimeError(f"{type(self).__name__}.one_step: the graph's trainable Variables changed in the "
                                   f"middle of a mini-batch; call update() before adding Variables")
            old = {id(v): state for v, state in zip(self.variables, self.states)}
            self.variables = found
            self.states = [old.get(id(v), {}) for v in found]
            self.acc_gradient = [None] * len(found)
        super().one_step()


class GradientDescent(Optimizer, G.GradientDescent):
    """p -= learning_rate · g."""


class Momentum(Optimizer, G.Momentum):
    """v = momentum·v - learning_rate·g;  p += v."""


class AdaGrad(Optimizer, G.AdaGrad):
    """h += g²;  p -= learning_rate · g / (√h + eps)."""


class RMSProp(Optimizer, G.RMSProp):
    """s = beta·s + (1-beta)·g²;  p -= learning_rate · g / (√s + eps)."""


class Adam(Optimizer, G.Adam):
    """Adam with bias correction: moments m (beta_1) and v (beta_2) of the gradient."""
