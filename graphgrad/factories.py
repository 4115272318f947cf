"""Tensor factories with PyTorch's names and defaults, and the global random generator (`manual_seed`).

Sizes are given as PyTorch does (`zeros(2, 3)` or `zeros((2, 3))`); floating results default to
float32, integer ones (`arange(5)`, `randint`) to int64. Random factories draw from one global
NumPy generator that `manual_seed` resets, or from the `generator` passed.
"""
from __future__ import annotations

import numpy as np

from .autograd.tensor import Tensor, as_tensor
from .dtypes import default_dtype, int64, resolve_dtype

_generator = np.random.default_rng(0)  # seeded, as PyTorch's default generator: runs repeat


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed graphgrad's global random generator (random factories, initialisers, dropout, shuffling)."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def default_generator() -> np.random.Generator:
    """The global random generator."""
    return _generator


def _size(size) -> tuple:
    if len(size) == 1 and not isinstance(size[0], (int, np.integer)):
        size = tuple(size[0])
    for n in size:
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"size must be non-negative integers, got {size}")
    return tuple(int(n) for n in size)


def _make(arr: np.ndarray, requires_grad: bool) -> Tensor:
    return Tensor(arr, requires_grad=requires_grad)


def _float(dtype) -> np.dtype:
    return default_dtype if dtype is None else resolve_dtype(dtype)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros (float32 unless `dtype`)."""
    return _make(np.zeros(_size(size), dtype=_float(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return _make(np.ones(_size(size), dtype=_float(dtype)), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor (zeros in graphgrad, so that nothing depends on stale memory)."""
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with `fill_value` (its dtype follows the value: float32, int64 or bool)."""
    if dtype is None:
        dtype = np.bool_ if isinstance(fill_value, bool) else int64 if isinstance(fill_value, int) else default_dtype
    return _make(np.full(_size((size,)) if not isinstance(size, (int, np.integer)) else (int(size),), fill_value,
                         dtype=resolve_dtype(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Values from start (0) up to, not including, end, by step: int64 for integer arguments, else float32."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        dtype = int64 if all(isinstance(v, (int, np.integer)) for v in (start, end, step)) else default_dtype
    dtype = resolve_dtype(dtype)
    n = max(int(np.ceil((end - start) / step)), 0)
    return _make((start + step * np.arange(n, dtype=np.float64)).astype(dtype) if dtype.kind == "f"
                 else np.arange(start, end, step, dtype=dtype), requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced values from start to end, both included."""
    return _make(np.linspace(start, end, steps).astype(_float(dtype)), requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, dtype=None, requires_grad: bool = False) -> Tensor:
    """`steps` values from base**start to base**end, evenly spaced in the exponent."""
    return _make(np.logspace(start, end, steps, base=base).astype(_float(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """The n×m identity matrix."""
    return _make(np.eye(n, m, dtype=_float(dtype)), requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Samples of U[0, 1)."""
    return _make((generator or _generator).random(_size(size)).astype(_float(dtype)), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Samples of N(0, 1)."""
    return _make((generator or _generator).standard_normal(_size(size)).astype(_float(dtype)), requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None) -> Tensor:
    """Integers drawn uniformly from [low, high) (`randint(high, size)` counts from 0); int64."""
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if size is None:
        raise TypeError("randint: give the size, e.g. randint(0, 10, (3,))")
    return Tensor((generator or _generator).integers(low, high, _size((size,))).astype(
        int64 if dtype is None else resolve_dtype(dtype)))


def randperm(n: int, *, generator=None, dtype=None, device=None) -> Tensor:
    """A random permutation of 0..n-1 (int64)."""
    return Tensor((generator or _generator).permutation(n).astype(int64 if dtype is None else resolve_dtype(dtype)))


def _like(x, dtype):
    x = x if isinstance(x, Tensor) else as_tensor(x)
    return tuple(x.shape), (x.dtype if dtype is None else resolve_dtype(dtype))


def zeros_like(x, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Zeros shaped (and typed, unless `dtype`) like x."""
    shape, dtype = _like(x, dtype)
    return _make(np.zeros(shape, dtype=dtype), requires_grad)


def ones_like(x, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Ones shaped like x."""
    shape, dtype = _like(x, dtype)
    return _make(np.ones(shape, dtype=dtype), requires_grad)


def empty_like(x, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """An uninitialised (zero) tensor shaped like x."""
    return zeros_like(x, dtype=dtype, requires_grad=requires_grad)


def full_like(x, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """`fill_value` everywhere, shaped and typed like x."""
    shape, dtype = _like(x, dtype)
    return _make(np.full(shape, fill_value, dtype=dtype), requires_grad)


def rand_like(x, dtype=None, generator=None, requires_grad: bool = False) -> Tensor:
    """Samples of U[0, 1) shaped like x."""
    shape, dtype = _like(x, dtype)
    return _make((generator or _generator).random(shape).astype(dtype), requires_grad)


def randn_like(x, dtype=None, generator=None, requires_grad: bool = False) -> Tensor:
    """Samples of N(0, 1) shaped like x."""
    shape, dtype = _like(x, dtype)
    return _make((generator or _generator).standard_normal(shape).astype(dtype), requires_grad)


def randint_like(x, low, high=None, dtype=None, generator=None) -> Tensor:
    """Integers from [low, high) shaped like x."""
    if high is None:
        low, high = 0, low
    shape, dtype = _like(x, dtype)
    return Tensor((generator or _generator).integers(low, high, shape).astype(dtype))


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with the NumPy array (its dtype kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def is_tensor(x) -> bool:
    """True for a graphgrad Tensor."""
    return isinstance(x, Tensor)


def numel(x) -> int:
    """Number of elements of x."""
    return as_tensor(x).numel()


__all__ = ["manual_seed", "default_generator", "zeros", "ones", "empty", "full", "arange", "linspace", "logspace",
           "eye", "rand", "randn", "randint", "randperm", "zeros_like", "ones_like", "empty_like", "full_like",
           "rand_like", "randn_like", "randint_like", "from_numpy", "as_tensor", "is_tensor", "numel"]
