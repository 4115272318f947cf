"""MatrixSlow's optimizers: graphgrad.graph's, with the same constructor arguments and defaults."""
from ..graph import AdaGrad, Adam, GradientDescent, Momentum, Optimizer, RMSProp  # noqa: F401

__all__ = ["Optimizer", "GradientDescent", "Momentum", "AdaGrad", "RMSProp", "Adam"]
