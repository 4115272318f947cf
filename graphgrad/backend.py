"""Array backend and dtype policy: NumPy runs the math; floats default to float32."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

xp = np
default_float = np.float32


def as_array(data, dtype=None) -> np.ndarray:
    """Turn `data` into an ndarray: Python floats become float32, NumPy data keeps its dtype."""
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    if isinstance(data, (np.ndarray, np.generic)):
        return np.asarray(data)
    arr = np.asarray(data)
    if arr.dtype == np.float64:
        arr = arr.astype(default_float)
    return arr


def sum_to(g, shape: tuple):
    """Sum a broadcast gradient back to `shape` (works on arrays and on Tensors)."""
    if g.shape == shape:
        return g
    if g.shape[1:] == shape:  # the bias case: sum over the batch axis
        return g.sum(axis=0)
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    )
    return g.sum(axis=axes, keepdims=True).reshape(shape)


def row_reducible(x: np.ndarray) -> np.ndarray:
    """`x` (N, C), or a column-major copy of it when that reduces along axis 1 faster.

    NumPy reduces a row-major array along its last axis one row at a time, which for short rows
    costs more than the arithmetic; a column-major copy is reduced in C vectorised passes down its
    columns instead (measured here: a 100x10 row max in 1.6 us instead of 4.5; a whole softmax with
    cross-entropy 0.7x the time at 100x10, 0.3x at 1000x10). Long rows keep their order.
    """
    n, c = x.shape
    return np.asfortranarray(x) if n >= 32 and c <= 32 else x


_ONES: dict = {}


def shared_ones(like: np.ndarray):
    """Ones shaped and typed like `like`, cached and read-only: the seed gradient of a backward pass
    (safe to share because gradients are never modified in place). For a scalar loss it is a
    NumPy scalar, whose arithmetic skips the ufunc machinery a 0-d array goes through (10x faster)."""
    if like.ndim == 0:
        return like.dtype.type(1)
    key = (like.shape, like.dtype)
    one = _ONES.get(key)
    if one is None:
        one = _ONES[key] = np.ones_like(like)
        one.flags.writeable = False
    return one


def scatter_add(shape: tuple, index, values: np.ndarray) -> np.ndarray:
    """Zeros of `shape` with `values` added at `index`; repeated indices accumulate."""
    out = np.zeros(shape, dtype=values.dtype)
    if _hits_each_element_once(index):
        out[index] = values
    else:
        np.add.at(out, index, values)
    return out


def _hits_each_element_once(index) -> bool:
    """True for ints, slices, None, Ellipsis and boolean masks: no element can repeat."""
    items = index if isinstance(index, tuple) else (index,)
    return all(
        i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice))
        or (isinstance(i, np.ndarray) and i.dtype == bool)
        for i in items
    )


def broadcast_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    """`g` repeated to `shape`, as a new writable array (cheaper than np.broadcast_to for small arrays)."""
    out = np.empty(shape, dtype=g.dtype)
    out[...] = g
    return out


# The few functions a backward needs beyond operators and methods. On the fast path they are
# NumPy's; under create_graph the engine swaps in graphgrad's own (see functions/__init__.py).
array_ops = SimpleNamespace(
    exp=np.exp, log=np.log, broadcast_to=broadcast_to, sum_to=sum_to, scatter_add=scatter_add
)
