"""The autograd core: Tensor, Function, the one reverse sweep, modes, grad, Jacobians, gradcheck.

Everything above this package (ops, nn, optim, graph, viz, train) builds on these names.
"""
from . import engine  # first: engine -> function -> tensor -> engine resolves only in this order
from .function import Function
from .tensor import Tensor, as_tensor, tensor
from .mode import detect_anomaly, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .grad import grad
from .jacobians import hessian, jacobian, jvp, vjp
from .gradcheck import GradcheckError, gradcheck

__all__ = [
    "Function", "Tensor", "as_tensor", "tensor", "detect_anomaly", "enable_grad", "is_grad_enabled",
    "no_grad", "set_grad_enabled", "grad", "hessian", "jacobian", "jvp", "vjp", "GradcheckError",
    "gradcheck",
]
