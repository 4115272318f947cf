"""dtype names as PyTorch spells them (`graphgrad.float32`, `graphgrad.long`, ...), and their resolution.

A dtype is a NumPy dtype; names, NumPy types, Python types and PyTorch-style names all resolve to one.
"""
from __future__ import annotations

import numpy as np

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)  # noqa: A001  (PyTorch's names)
float64 = double = np.dtype(np.float64)
int8, uint8, int16 = np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16)
int32 = int = np.dtype(np.int32)  # noqa: A001
int64 = long = np.dtype(np.int64)
bool = np.dtype(np.bool_)  # noqa: A001
complex64, complex128 = np.dtype(np.complex64), np.dtype(np.complex128)

NAMES = ("float16", "half", "float32", "float", "float64", "double", "int8", "uint8", "int16", "int32", "int",
         "int64", "long", "bool", "complex64", "complex128")
_BY_NAME = {name: globals()[name] for name in NAMES}
default_dtype = float32


def resolve_dtype(dtype) -> np.dtype:
    """A NumPy dtype for `dtype`: a dtype, a name ('float32', 'long', 'torch.int64'), or a Python type."""
    if isinstance(dtype, np.dtype):
        return dtype
    if isinstance(dtype, str):
        key = dtype.removeprefix("torch.")
        if key in _BY_NAME:
            return _BY_NAME[key]
    import builtins

    if dtype is builtins.float:
        return default_dtype
    if dtype is builtins.int:
        return int64
    if dtype is builtins.bool:
        return bool
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"not a dtype: {dtype!r} (use e.g. graphgrad.float32, 'float64' or graphgrad.long)") from None


def get_default_dtype() -> np.dtype:
    """The dtype Python floats and float factories produce (float32, as in PyTorch)."""
    return default_dtype
