"""Tensor: an ndarray that remembers the operation that made it, so gradients can flow back."""
from __future__ import annotations

import numpy as np

from . import engine
from .. import ops as F
from ..backend import as_array, shared_ones


class Tensor:
    """A multi-dimensional array with reverse-mode automatic differentiation."""

    __array_ufunc__ = None  # make `ndarray op Tensor` defer to Tensor's reflected operators
    __hash__ = object.__hash__
    # Defaults live on the class so that making a tensor sets just one attribute (per-op overhead).
    grad: "Tensor | None" = None
    requires_grad = False
    creator = None  # the Function that made this tensor; None for a leaf
    name: str | None = None
    retains_grad = False

    def __init__(self, data, requires_grad: bool = False, name: str | None = None):
        self.data = data if isinstance(data, np.ndarray) else as_array(data)
        if requires_grad:
            self.requires_grad_(True)
        if name is not None:
            self.name = name

    # ---- attributes -------------------------------------------------------------------
    shape = property(lambda self: self.data.shape, doc="Tuple of dimension sizes.")
    ndim = property(lambda self: self.data.ndim, doc="Number of dimensions.")
    dtype = property(lambda self: self.data.dtype, doc="NumPy dtype of the data.")
    size = property(lambda self: self.data.size, doc="Number of elements.")
    is_leaf = property(lambda self: self.creator is None, doc="True if no recorded op made it.")

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set whether gradients are collected for this leaf tensor (in place)."""
        if requires_grad and not np.issubdtype(self.data.dtype, np.floating):
            raise TypeError(
                f"requires_grad=True needs floating-point data, got dtype {self.data.dtype}; "
                f"convert first, e.g. tensor(data, dtype='float32', requires_grad=True)"
            )
        self.requires_grad = requires_grad
        return self

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ""
        if self.data.dtype != np.float32:
            extra += f", dtype={self.data.dtype}"
        if self.creator is not None:
            extra += f", grad_fn=<{type(self.creator).__name__}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # ---- autograd ---------------------------------------------------------------------
    def backward(self, grad=None, retain_graph: bool = False, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's `.grad`; `grad` is d(loss)/d(self)."""
        if not self.requires_grad:
            raise RuntimeError(
                "backward(): this tensor does not require grad and has no grad_fn; "
                "create its inputs with requires_grad=True"
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a grad argument works only on a scalar, but this tensor "
                    f"has shape {self.shape}; reduce it first (e.g. .sum()) or pass grad="
                )
            grad = shared_ones(self.data)
        else:
            grad = grad if isinstance(grad, Tensor) and create_graph else getattr(grad, "data", grad)
            if np.shape(grad) != self.shape:
                raise ValueError(f"backward(): grad has shape {np.shape(grad)}, tensor has {self.shape}")
            if not isinstance(grad, Tensor):
                grad = np.asarray(grad, dtype=self.dtype)
        if create_graph and not isinstance(grad, Tensor):
            grad = Tensor(grad)
        engine.run_backward([self], [grad], retain_graph=retain_graph or create_graph, create_graph=create_graph)

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in `.grad` after backward."""
        self.retains_grad = True

    def detach(self) -> "Tensor":
        """A tensor sharing the same data, cut from the graph."""
        return Tensor(self.data)

    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied)."""
        return self.data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item(): only one-element tensors convert to a number, got shape {self.shape}")
        return self.data.item()

    def zero_grad(self) -> None:
        self.grad = None

    # ---- operators --------------------------------------------------------------------
    def __add__(self, other): return F.add(self, other)
    def __radd__(self, other): return F.add(other, self)
    def __sub__(self, other): return F.sub(self, other)
    def __rsub__(self, other): return F.sub(other, self)
    def __mul__(self, other): return F.mul(self, other)
    def __rmul__(self, other): return F.mul(other, self)
    def __truediv__(self, other): return F.div(self, other)
    def __rtruediv__(self, other): return F.div(other, self)
    def __pow__(self, other): return F.pow(self, other)
    def __rpow__(self, other): return F.pow(other, self)
    def __matmul__(self, other): return F.matmul(self, other)
    def __rmatmul__(self, other): return F.matmul(other, self)
    def __neg__(self): return F.neg(self)
    def __abs__(self): return F.abs(self)
    def __getitem__(self, index): return F.getitem(self, index)

    # Comparisons give boolean tensors that carry no gradient.
    def __lt__(self, other): return Tensor(self.data < _raw(other))
    def __le__(self, other): return Tensor(self.data <= _raw(other))
    def __gt__(self, other): return Tensor(self.data > _raw(other))
    def __ge__(self, other): return Tensor(self.data >= _raw(other))
    def __eq__(self, other): return Tensor(self.data == _raw(other))
    def __ne__(self, other): return Tensor(self.data != _raw(other))

    # ---- methods mirroring the functional API -----------------------------------------
    def sum(self, axis=None, keepdims=False): return F.sum(self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return F.mean(self, axis, keepdims)
    def max(self, axis=None, keepdims=False): return F.max(self, axis, keepdims)
    def min(self, axis=None, keepdims=False): return F.min(self, axis, keepdims)
    def logsumexp(self, axis=None, keepdims=False): return F.logsumexp(self, axis, keepdims)
    def softmax(self, axis=-1): return F.softmax(self, axis)
    def log_softmax(self, axis=-1): return F.log_softmax(self, axis)
    def exp(self): return F.exp(self)
    def log(self): return F.log(self)
    def sqrt(self): return F.sqrt(self)
    def tanh(self): return F.tanh(self)
    def sigmoid(self): return F.sigmoid(self)
    def relu(self): return F.relu(self)
    def abs(self): return F.abs(self)
    def clip(self, min=None, max=None): return F.clip(self, min, max)
    def expand_dims(self, axis): return F.expand_dims(self, axis)
    def squeeze(self, axis=None): return F.squeeze(self, axis)
    def broadcast_to(self, shape): return F.broadcast_to(self, shape)
    def argmax(self, axis=None): return Tensor(self.data.argmax(axis=axis))
    def argmin(self, axis=None): return Tensor(self.data.argmin(axis=axis))

    def reshape(self, *shape):
        """Same data in a new shape; accepts `reshape(2, 3)` or `reshape((2, 3))`."""
        return F.reshape(self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape)

    def transpose(self, *axes):
        """Permute axes (all reversed when none are given)."""
        return F.transpose(self, axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else (axes or None))

    permute = transpose
    T = property(lambda self: F.transpose(self), doc="All axes reversed.")
    mT = property(lambda self: F.swapaxes(self, -1, -2), doc="The last two axes swapped.")

    def astype(self, dtype) -> "Tensor":
        """A copy with another dtype; float-to-float casts keep the gradient flowing."""
        return F.astype(self, dtype)


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def as_tensor(x) -> Tensor:
    """Wrap `x` as a constant Tensor unless it already is one."""
    if isinstance(x, Tensor):
        return x
    return Tensor(as_array(x))


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """Create a leaf tensor holding a copy of `data` (float32 unless the data or `dtype` says otherwise)."""
    data = data.data if isinstance(data, Tensor) else data
    arr = np.array(as_array(data, dtype), copy=True)
    return Tensor(arr, requires_grad=requires_grad)
