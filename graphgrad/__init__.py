"""graphgrad: computational graphs and reverse-mode automatic differentiation on NumPy."""
from .backend.allocator import keep_freed_memory as _keep_freed_memory

_keep_freed_memory()  # before the first large array: see backend/allocator.py
from . import autograd
from .autograd import Function, Tensor, tensor
from .ops import FUNCTIONS as _FUNCTIONS

globals().update(_FUNCTIONS)  # every op's public name, from the op library's declarations
_ops_exported = True
from .autograd.mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled

from . import data, nn, optim, utils  # noqa: E402  (they build on the names above)
from .autograd.gradcheck import GradcheckError, gradcheck  # noqa: E402
from .io import CheckpointError, load, save  # noqa: E402
from .backend.devices import device  # noqa: E402
from . import cuda  # noqa: E402  (imports CuPy only when asked)

from . import dtypes  # noqa: E402
from .dtypes import (  # noqa: E402,F401  (PyTorch's dtype names; `bool`, `float`, `int` shadow the builtins only here)
    bool, complex64, complex128, double, float, float16, float32, float64, get_default_dtype, half, int, int8, int16,
    int32, int64, long, uint8,
)
from .factories import *  # noqa: E402,F401,F403
from .factories import __all__ as _factory_names  # noqa: E402
from .autograd.inplace import Storage  # noqa: E402,F401

__version__ = "0.1.0"
