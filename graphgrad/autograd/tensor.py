"""Tensor: an array that remembers the operation that made it, so gradients can flow back.

The array may come from any library graphgrad supports (NumPy, CuPy, an Array-API library):
ops keep results in that library and on that device. Every op method and operator
(`x.exp()`, `x.sum(dim)`, `x + y`, `x[i]`, `x.add_(y)`, `x -= y`) is generated from the op
library's declarations; this module holds what is not an op: attributes, conversions, autograd
entry points and the in-place machinery (see `inplace.py`).
"""
from __future__ import annotations

import math

import numpy as np

from . import engine, hooks, inplace, mode
from ..backend import as_array, devices, is_floating, namespace, shared_ones, to_numpy
from ..dtypes import resolve_dtype


class Tensor:
    """A multi-dimensional array with reverse-mode automatic differentiation."""

    __array_ufunc__ = None  # make `ndarray op Tensor` defer to Tensor's reflected operators
    __hash__ = object.__hash__  # hashable by identity (== compares values elementwise)
    # Defaults live on the class so that making a tensor sets just one attribute (per-op overhead).
    grad: "Tensor | None" = None
    requires_grad = False
    creator = None  # the Function that made this tensor; None for a leaf
    name: str | None = None
    retains_grad = False

    def __init__(self, data, requires_grad: bool = False, name: str | None = None):
        """A tensor on `data` (a NumPy array is kept, not copied; anything else goes through as_array).

        `requires_grad=True` makes it a leaf that collects gradients (floating data only); `name` labels it.
        """
        self.data = data if isinstance(data, np.ndarray) else as_array(data)
        if requires_grad:
            self.requires_grad_(True)
        if name is not None:
            self.name = name

    # ---- attributes -------------------------------------------------------------------
    shape = property(lambda self: tuple(self.data.shape), doc="Tuple of dimension sizes.")
    ndim = property(lambda self: self.data.ndim, doc="Number of dimensions.")
    dtype = property(lambda self: self.data.dtype, doc="The data's dtype.")
    is_leaf = property(lambda self: self.creator is None, doc="True if no recorded op made it.")
    device = property(lambda self: devices.device_of(self.data), doc="Where the data lives (graphgrad.device for NumPy/CuPy).")
    grad_fn = property(lambda self: self.creator, doc="The Function that made this tensor (PyTorch's name for `creator`).")
    _version = property(lambda self: inplace.version(self.data), doc="How often its storage was modified in place.")

    def size(self, dim: int | None = None):
        """The shape (PyTorch's `size()`), or the length of dimension `dim`; `numel()` counts elements."""
        shape = tuple(self.data.shape)
        return shape if dim is None else shape[dim]

    def numel(self) -> int:
        """Number of elements."""
        return math.prod(self.data.shape)

    def dim(self) -> int:
        """Number of dimensions."""
        return self.data.ndim

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set whether gradients are collected for this leaf tensor (in place)."""
        if requires_grad and not is_floating(self.data.dtype):
            raise TypeError(
                f"requires_grad=True needs floating-point data, got dtype {self.data.dtype}; "
                f"convert first, e.g. tensor(data, dtype='float32', requires_grad=True)"
            )
        if not requires_grad and self.creator is not None:
            raise RuntimeError("requires_grad_(False): only a leaf's flag can be changed; use detach() for a non-leaf")
        self.requires_grad = requires_grad
        if requires_grad and type(self.data) is np.ndarray:
            self.data = self.data.view(inplace.Storage)  # so that p.data.copy_(w) and p.data.zero_() work
        return self

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous (shape {self.shape}); "
                f"use .any() or .all(), or compare a single element"
            )
        return bool(to_numpy(self.data).reshape(()))

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iub" or self.numel() != 1:
            raise TypeError(f"only one-element integer tensors can be used as an index, got {self.dtype} {self.shape}")
        return int(self.item())

    def __array__(self, dtype=None, copy=None):
        a = to_numpy(self.data)
        return a if dtype is None else a.astype(dtype)

    def __repr__(self) -> str:
        body = np.array2string(to_numpy(self.data), separator=", ", prefix="tensor(")
        extra = ""
        if str(self.data.dtype) != "float32":
            extra += f", dtype={self.data.dtype}"
        if not isinstance(self.data, (np.ndarray, np.generic)):
            extra += f", device={self.device}"
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
            if self.numel() != 1:
                raise RuntimeError(
                    f"backward() without a grad argument works only on a scalar, but this tensor "
                    f"has shape {self.shape}; reduce it first (e.g. .sum()) or pass grad="
                )
            grad = shared_ones(self.data)
        else:
            grad = grad if isinstance(grad, Tensor) and create_graph else unwrap(grad)
            if tuple(np.shape(grad) if isinstance(grad, (np.ndarray, list, float, int)) else grad.shape) != self.shape:
                raise ValueError(f"backward(): grad has shape {np.shape(grad)}, tensor has {self.shape}")
            if not isinstance(grad, Tensor):
                grad = as_array(grad, self.dtype) if isinstance(self.data, np.ndarray) else grad
        if create_graph and not isinstance(grad, Tensor):
            grad = Tensor(grad)
        engine.run_backward([self], [grad], retain_graph=retain_graph or create_graph, create_graph=create_graph)

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in `.grad` after backward."""
        self.retains_grad = True

    def detach(self) -> "Tensor":
        """A tensor sharing the same data, cut from the graph."""
        return Tensor(self.data)

    def detach_(self) -> "Tensor":
        """Cut this tensor from the graph, in place: it becomes a leaf that does not require grad."""
        self.creator, self.requires_grad = None, False
        return self

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array: the ndarray itself (shared) for NumPy data, else a host copy."""
        a = to_numpy(self.data)
        return a.view(np.ndarray) if type(a) is inplace.Storage else a

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.numel() != 1:
            raise ValueError(f"item(): only one-element tensors convert to a number, got shape {self.shape}")
        return to_numpy(self.data).reshape(()).item()

    def tolist(self):
        """The values as (nested) Python lists of Python numbers."""
        return to_numpy(self.data).tolist()

    def zero_grad(self) -> None:
        """Forget the accumulated gradient."""
        self.grad = None

    # ---- post-accumulate-grad hooks (autograd/hooks.py; the engine runs them) -----------
    post_accumulate_grad_hooks: "dict | None" = None

    def register_post_accumulate_grad_hook(self, hook) -> "hooks.RemovableHandle":
        """Call `hook(self)` in every backward once this leaf's gradient is final in `.grad`; returns a
        handle whose `remove()` unregisters it (PyTorch's method of the same name)."""
        return hooks.add_post_accumulate_grad_hook(self, hook)

    # ---- devices (graphgrad.backend.devices) -------------------------------------------
    def to(self, *args, **kwargs) -> "Tensor":
        """This tensor on a device and/or as a dtype: to(device), to(dtype), to(device, dtype), to(other).

        Returns `self` when nothing changes; a copy that requires grad is recorded (gradients flow back).
        """
        target, dtype = devices.parse_to_args(args, kwargs, "Tensor.to")
        out = self if target is None else devices.tensor_to(self, target)
        if dtype is not None and out.data.dtype != namespace(out.data).dtype(resolve_dtype(dtype)):
            out = F.astype(out, resolve_dtype(dtype))
        return F.clone(out) if kwargs.get("copy") and out is self else out

    def cuda(self, device=None) -> "Tensor":
        """This tensor on GPU `device` (an index or 'cuda:N'; default the current GPU)."""
        return self.to(devices.device("cuda", device) if isinstance(device, int) or device is None else device)

    def cpu(self) -> "Tensor":
        """This tensor in host memory (NumPy); `self` if it is there already."""
        return self.to("cpu")

    def type_as(self, other: "Tensor") -> "Tensor":
        """This tensor cast to `other`'s dtype."""
        return self.to(other.dtype)

    def float(self):
        """This tensor as float32 (`self.to(np.float32)`: itself if it is float32 already)."""
        return self.to(np.float32)

    def double(self):
        """This tensor as float64 (`self.to(np.float64)`: itself if it is float64 already)."""
        return self.to(np.float64)

    def half(self):
        """This tensor as float16 (`self.to(np.float16)`: itself if it is float16 already)."""
        return self.to(np.float16)

    def long(self):
        """This tensor as int64 (`self.to(np.int64)`: itself if it is int64 already)."""
        return self.to(np.int64)

    def int(self):
        """This tensor as int32 (`self.to(np.int32)`: itself if it is int32 already)."""
        return self.to(np.int32)

    def bool(self):
        """This tensor as bool (`self.to(np.bool_)`: itself if it is bool already)."""
        return self.to(np.bool_)

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    # Comparison operators: the comparison ops (boolean results, no gradient).
    def __lt__(self, other): return F.lt(self, other)  # noqa: E704
    def __le__(self, other): return F.le(self, other)  # noqa: E704
    def __gt__(self, other): return F.gt(self, other)  # noqa: E704
    def __ge__(self, other): return F.ge(self, other)  # noqa: E704
    def __eq__(self, other): return F.eq(self, other)  # noqa: E704
    def __ne__(self, other): return F.ne(self, other)  # noqa: E704

    T = property(lambda self: F.permute(self, tuple(reversed(range(self.data.ndim)))), doc="All axes reversed.")
    mT = property(lambda self: F.transpose(self, -1, -2), doc="The last two axes swapped.")


def unwrap(x):
    """A Tensor's array, anything else as it is (never `getattr(x, "data", x)`: an ndarray's .data is a buffer)."""
    return x.data if isinstance(x, Tensor) else x


def as_tensor(x, dtype=None) -> Tensor:
    """`x` as a Tensor, sharing memory where possible (a Tensor of that dtype is returned as is)."""
    if isinstance(x, Tensor):
        return x if dtype is None else x.to(dtype)
    if isinstance(x, np.ndarray) and dtype is None:
        return Tensor(x)
    return Tensor(as_array(x, None if dtype is None else resolve_dtype(dtype)))


def tensor(data, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A leaf tensor holding a copy of `data` (float32 unless the data or `dtype` says otherwise).

    Arrays of another library (CuPy, an Array-API library) stay in that library and on their device,
    unless `device` ('cpu', 'cuda', 'cuda:N', a graphgrad.device or a library's device) says where.
    """
    data = data.data if isinstance(data, Tensor) else data
    dtype = None if dtype is None else resolve_dtype(dtype)
    if hasattr(data, "__array_namespace__") and not isinstance(data, (np.ndarray, np.generic)):
        xp = namespace(data)
        arr = xp.astype(data, xp.dtype(dtype), copy=True) if dtype is not None else xp.asarray(data, copy=True)
    else:
        arr = np.array(as_array(data, dtype), copy=True)
        if type(arr) is not np.ndarray:
            arr = arr.view(np.ndarray)
        if arr.dtype == object:
            raise TypeError(f"tensor(): data of type {type(data).__name__} is not numeric (it made an object array)")
    if device is not None:
        arr = devices.to_device(arr, device)
    return Tensor(arr, requires_grad=requires_grad)


from .. import ops as F  # noqa: E402  (the op library needs Tensor's module loaded first)

F.install_methods(Tensor)
inplace.install(Tensor, F)
