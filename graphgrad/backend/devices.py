"""Devices: where an array lives, and moving arrays (and Tensors, batches, checkpoints) between devices.

graphgrad names a device as PyTorch does: `device('cpu')` is NumPy, `device('cuda:N')` is CuPy on
GPU N. Arrays of any other Array-API library keep that library's own device objects
(`array_api_strict.Device('device1')`, ...), which `to_device` accepts as targets too. Copies go
one whole array at a time: a batch or a parameter crosses the bus once, never per sample.
"""
from __future__ import annotations

import importlib
import re

import numpy as np

from . import namespace
from .namespaces import is_floating, to_numpy
from ..autograd.function import Function  # the autograd core imports this module once Function exists

_SPEC = re.compile(r"^(cpu|cuda)(?::(\d+))?$")


class device:
    """A device: `device('cpu')`, `device('cuda')` (the current GPU), `device('cuda:1')` or `device('cuda', 1)`."""

    __slots__ = ("type", "index")

    def __init__(self, spec: "str | device", index: int | None = None):
        """Parse `spec` ('cpu', 'cuda', 'cuda:1', or a device) with an optional GPU `index`."""
        if isinstance(spec, device):
            spec, index = spec.type, spec.index if index is None else index
        match = _SPEC.match(spec.strip().lower()) if isinstance(spec, str) else None
        if match is None:
            raise ValueError(f"graphgrad.device: expected 'cpu', 'cuda' or 'cuda:N', got {spec!r}")
        kind, number = match.groups()
        if number is not None:
            if index is not None and int(number) != index:
                raise ValueError(f"graphgrad.device: {spec!r} and index={index} disagree")
            index = int(number)
        if index is not None and (not isinstance(index, (int, np.integer)) or index < 0):
            raise ValueError(f"graphgrad.device: the index must be an integer >= 0, got {index!r}")
        if kind == "cpu" and index not in (None, 0):
            raise ValueError(f"graphgrad.device: there is one cpu device, got index {index}")
        self.type, self.index = kind, None if kind == "cpu" or index is None else int(index)

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except ValueError:
                return False
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        return f"device(type={self.type!r})" if self.index is None else f"device(type={self.type!r}, index={self.index})"


CPU = device("cpu")


def is_cupy(x) -> bool:
    """True for a CuPy array (checked by type name, so CuPy is never imported to answer)."""
    return type(x).__name__ == "ndarray" and type(x).__module__.startswith("cupy")


def is_array(x) -> bool:
    """True for an array of NumPy, CuPy or an Array-API library (CuPy < 14 has no `__array_namespace__`)."""
    return hasattr(x, "__array_namespace__") or is_cupy(x)


def device_of(array):
    """The device of `array`: a graphgrad `device` for NumPy and CuPy data, else its library's device object."""
    if isinstance(array, (np.ndarray, np.generic, int, float, bool, complex)):
        return CPU
    if is_cupy(array):
        return device("cuda", array.device.id)
    return namespace(array).device(array)


def is_device_like(x) -> bool:
    """True for what `to()` reads as a device: a graphgrad device, 'cpu'/'cuda[:N]', a library's device object."""
    if isinstance(x, device):
        return True
    if isinstance(x, str):
        return _SPEC.match(x.strip().lower()) is not None
    return not (x is None or isinstance(x, (type, np.dtype)) or "dtype" in type(x).__name__.lower())


def as_target(spec):
    """`spec` as a target: a graphgrad device for strings, devices and GPU indices (as PyTorch: 1 is 'cuda:1');
    other libraries' device objects as given."""
    if isinstance(spec, (str, device)):
        return device(spec)
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        return device("cuda", int(spec))
    return spec


def to_device(array, target):
    """`array` on device `target` (the same array when it is already there; else one copy of the whole array)."""
    target = as_target(target)
    if not isinstance(target, device):
        return _to_library_device(array, target)
    if target.type == "cpu":
        return array if isinstance(array, (np.ndarray, np.generic)) else to_numpy(array)
    return _to_cuda(array, target.index)


def _to_cuda(array, index: int | None):
    from .. import cuda

    cp = cuda.require(f"moving an array to {'cuda' if index is None else f'cuda:{index}'}")
    count = cp.cuda.runtime.getDeviceCount()
    index = cp.cuda.runtime.getDevice() if index is None else index
    if index >= count:
        raise RuntimeError(f"cannot move an array to cuda:{index}: only {count} CUDA device(s) found (cuda:0..cuda:{count - 1})")
    if is_cupy(array):
        if array.device.id == index:
            return array
        with cp.cuda.Device(index):
            return array.copy()  # CuPy copies onto the current device, peer to peer
    with cp.cuda.Device(index):
        return cp.asarray(to_numpy(array))


def _to_library_device(array, target):
    """`array` on another library's device object (e.g. array_api_strict.Device('device1'))."""
    root = type(target).__module__.split(".")[0]
    if root == "cupy":
        return _to_cuda(array, target.id)
    if not isinstance(array, (np.ndarray, np.generic)) and type(array).__module__.split(".")[0] == root:
        import array_api_compat

        return array if device_of(array) == target else array_api_compat.to_device(array, target)
    try:
        library = importlib.import_module(root)
        return library.asarray(to_numpy(array), device=target)
    except (ImportError, AttributeError, TypeError, ValueError) as err:
        raise TypeError(
            f"to_device: cannot place a {type(array).__name__} on {target!r} ({type(err).__name__}: {err}); "
            f"use 'cpu', 'cuda', 'cuda:N' or a device object of an Array-API library"
        ) from None


def on_device(array, target) -> bool:
    """True when `array` already lives on `target` ('cuda' without an index matches any GPU)."""
    target = as_target(target)
    here = device_of(array)
    if isinstance(target, device) and target.type == "cuda" and target.index is None:
        return isinstance(here, device) and here.type == "cuda"
    return here == target


def convert(array, target=None, dtype=None, copy: bool = False):
    """`array` moved to `target` and/or cast to floating `dtype` (non-floating data keeps its dtype)."""
    out = array if target is None else to_device(array, target)
    if dtype is not None and is_floating(out.dtype):
        xp = namespace(out)
        wanted = xp.dtype(dtype)
        if out.dtype != wanted or (copy and out is array):
            return xp.astype(out, wanted)
    if copy and out is array:
        return namespace(out).astype(out, out.dtype)
    return out


def copy_into(target, value) -> None:
    """Overwrite `target` in place with `value` (any library or device), cast to the target's dtype."""
    if type(target) is np.ndarray:
        np.copyto(target, to_numpy(value), casting="unsafe")
    else:
        target[...] = convert(value, device_of(target), target.dtype)


def parse_to_args(args: tuple, kwargs: dict, where: str) -> tuple:
    """(device or None, dtype or None) from `to()`'s arguments: to(device), to(dtype), to(device, dtype),
    to(other_tensor), or the keywords device=, dtype= (non_blocking= and copy= are accepted)."""
    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "copy"}
    if unknown:
        raise TypeError(f"{where}() got unexpected keyword arguments {sorted(unknown)}")
    target, dtype = kwargs.get("device"), kwargs.get("dtype")
    if len(args) > 2:
        raise TypeError(f"{where}() takes at most 2 positional arguments (device, dtype), got {len(args)}")
    for arg in args:
        if hasattr(arg, "creator") and hasattr(arg, "data"):  # to(other): its device and dtype
            target, dtype = device_of(arg.data), arg.data.dtype
        elif is_device_like(arg):
            if target is not None:
                raise TypeError(f"{where}(): two devices given ({target!r} and {arg!r})")
            target = arg
        else:
            if dtype is not None:
                raise TypeError(f"{where}(): two dtypes given ({dtype!r} and {arg!r})")
            dtype = arg
    return (None if target is None else as_target(target)), dtype


def move(obj, target):
    """`obj` with every array and Tensor in it on `target`: nested tuples, lists and dicts keep their shape."""
    if hasattr(obj, "creator") and hasattr(obj, "data"):
        return tensor_to(obj, target)
    if isinstance(obj, (np.ndarray, np.generic)) or is_array(obj):
        return to_device(obj, target)
    if isinstance(obj, dict):
        return type(obj)((k, move(v, target)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        items = [move(v, target) for v in obj]
        return type(obj)(items) if not hasattr(obj, "_fields") else type(obj)(*items)
    return obj


def tensor_to(t, target):
    """Tensor `t` on `target`: `t` itself when it is there already; recorded (so gradients flow back) when it
    requires grad."""
    if on_device(t.data, target):
        return t
    from ..autograd import mode
    from ..autograd.tensor import Tensor  # here: tensor.py imports this module

    if t.requires_grad and mode.is_grad_enabled():
        return ToDevice(as_target(target))(t)
    return Tensor(to_device(t.data, target))


class ToDevice(Function):
    """y = x copied to another device.  dy/dx = 1: the gradient is copied back to x's device."""

    symbol = "to"

    def __init__(self, device):
        """The target `device`."""
        self.device = device

    def forward(self, x):
        """x's data on the target device (the source device is kept for backward)."""
        self.source = device_of(x)
        return to_device(x, self.device)

    def backward(self, gy):
        """gx = gy, copied back to x's device."""
        if self.xp.differentiable:  # under create_graph: a recorded copy back
            return ToDevice(self.source)(gy)
        return to_device(gy, self.source)


__all__ = ["device", "device_of", "to_device", "on_device", "convert", "copy_into", "move", "tensor_to",
           "parse_to_args", "is_device_like", "is_cupy", "is_array"]
