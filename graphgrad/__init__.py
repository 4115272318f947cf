"""graphgrad: computational graphs and reverse-mode automatic differentiation on NumPy."""
from . import autograd
from .autograd import Function, Tensor, tensor
from .ops import FUNCTIONS as _FUNCTIONS, swapaxes

globals().update(_FUNCTIONS)  # every op's public name, from the op library's declarations
_ops_exported = True
from .autograd.mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled

from . import nn, optim  # noqa: E402  (they build on the names above)
from .autograd.gradcheck import GradcheckError, gradcheck  # noqa: E402
from .io import CheckpointError, load, save  # noqa: E402
from .backend.devices import device  # noqa: E402
from . import cuda  # noqa: E402  (imports CuPy only when asked)

float32, float64 = "float32", "float64"

__version__ = "0.1.0"
