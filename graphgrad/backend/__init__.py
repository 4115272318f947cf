"""Array backends: which array library holds the data, and the namespace op math computes with.

Ops never call NumPy directly: forward and backward reach array functions through `self.xp`,
the namespace of their input arrays. `namespace(array)` finds it once per array type:
NumPy gets a table of direct NumPy calls (the fast path), any other Array-API library (CuPy,
array-api-strict, ...) its array-api-compat namespace, each with the few functions the
standard lacks (`sum_to`, `scatter_add`, ...). Under `create_graph` the engine hands backward
graphgrad's own tensor functions under the same names (see `graphgrad.ops.tensor_ops`).
"""
from __future__ import annotations

import numpy as np

from .namespaces import GenericOps, NumpyOps, is_floating, to_numpy

default_float = np.float32
numpy_ops = NumpyOps()
_BY_TYPE: dict = {np.ndarray: numpy_ops, np.float32: numpy_ops, np.float64: numpy_ops}


def namespace(x):
    """The op namespace of array `x`'s library (NumPy's fast table for ndarrays and Python numbers)."""
    ns = _BY_TYPE.get(type(x))
    if ns is None:
        ns = _BY_TYPE[type(x)] = _find(x)
    return ns


def _find(x):
    if isinstance(x, (np.ndarray, np.generic, int, float, bool, complex)):
        return numpy_ops
    try:
        import array_api_compat
    except ImportError:
        raise TypeError(
            f"graphgrad: arrays of type {type(x).__module__}.{type(x).__name__} need array-api-compat "
            f"(pip install array-api-compat)"
        ) from None
    try:
        base = array_api_compat.array_namespace(x)
    except TypeError:
        raise TypeError(
            f"graphgrad: {type(x).__name__} is not an array of any library graphgrad knows "
            f"(NumPy, CuPy or an Array-API library)"
        ) from None
    return GenericOps(base)


_F16 = np.dtype(np.float16)


def accumulator(x):
    """The dtype to accumulate x in: float32 for half precision (as PyTorch does), else None (its own)."""
    d = x.dtype
    if d is _F16:  # NumPy's built-in dtypes are singletons
        return np.float32
    return None if isinstance(d, np.dtype) else (np.float32 if str(d) == "float16" else None)


def is_numpy(x) -> bool:
    """Whether `x` is computed with NumPy (its namespace is graphgrad's NumPy one)."""
    return namespace(x) is numpy_ops


def as_array(data, dtype=None):
    """`data` as an array: arrays stay in their library and on their device; Python data becomes NumPy
    (Python floats as float32, NumPy data keeping its dtype)."""
    if hasattr(data, "__array_namespace__") and not isinstance(data, (np.ndarray, np.generic)):
        return data if dtype is None else namespace(data).astype(data, namespace(data).dtype(dtype))
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    if isinstance(data, (np.ndarray, np.generic)):
        return np.asarray(data)
    arr = np.asarray(data)
    if arr.dtype == np.float64:
        arr = arr.astype(default_float)
    return arr


def beside(host, like, dtype=None):
    """A host (NumPy) constant in the library and on the device of array `like` (itself for NumPy)."""
    host = np.asarray(host)
    xp = namespace(like)
    return xp.constant(host, like, xp.dtype(host.dtype if dtype is None else dtype))


def sum_to(g, shape: tuple):
    """Sum a broadcast gradient (an array of any library) back to `shape`."""
    if g.shape == shape:
        return g
    return namespace(g).sum_to(g, shape)


def shared_ones(like):
    """Ones shaped and typed like `like`, cached and read-only: the seed gradient of a backward pass
    (safe to share because gradients are never modified in place). For a scalar NumPy loss it is a
    NumPy scalar, whose arithmetic skips the ufunc machinery a 0-d array goes through (10x faster)."""
    return namespace(like).shared_ones(like)


def row_reducible(x):
    """`x` (N, C), or a copy laid out so that reducing along axis 1 is faster (NumPy only)."""
    return namespace(x).row_reducible(x)


def scatter_add(shape: tuple, index, values):
    """Zeros of `shape` with `values` added at `index`; repeated indices accumulate."""
    return namespace(values).scatter_add(shape, index, values)


def broadcast_to(g, shape: tuple):
    """`g` repeated to `shape`."""
    return namespace(g).broadcast_to(g, shape)


__all__ = [
    "default_float", "accumulator", "namespace", "numpy_ops", "is_numpy", "is_floating", "to_numpy", "as_array",
    "sum_to", "shared_ones", "row_reducible", "scatter_add", "broadcast_to",
]
