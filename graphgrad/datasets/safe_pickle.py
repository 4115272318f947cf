"""An unpickler that rebuilds NumPy arrays and nothing else, for the one pickled dataset we read.

Pickle can call any importable function while loading; this one resolves only the few names
NumPy's array pickles use and refuses every other, so a hostile file cannot run code.
"""
from __future__ import annotations

import io
import pickle

import numpy as np

# ndarray.__reduce__ names its own reconstruct function: reach it without a private import path.
_reconstruct = np.empty(0).__reduce__()[0]



def _latin1_bytes(text: str, encoding: str = "latin1") -> bytes:
    """What Python 3 protocol-2 pickles call to rebuild bytes; only the latin-1 form is accepted."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise pickle.UnpicklingError(f"refusing _codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,  # pickles written by NumPy 1.x
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,  # pickles written by NumPy 2.x
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_bytes,  # array bytes in protocol-2 pickles written by Python 3
}


class ArrayOnlyUnpickler(pickle.Unpickler):
    """Unpickler whose only reachable globals are NumPy's array and dtype reconstruction."""

    def find_class(self, module: str, name: str):
        """Only what a pickled NumPy array needs; anything else is refused."""
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: this file may only contain NumPy arrays"
            ) from None


def load_arrays(data: bytes):
    """Unpickle `data` (Python 2 pickles included), allowing only NumPy arrays in tuples and lists."""
    result = ArrayOnlyUnpickler(io.BytesIO(data), encoding="latin1").load()
    _check_plain(result)
    return result


def _check_plain(obj) -> None:
    """Refuse arrays of Python objects: they could smuggle in anything the array holds."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, (tuple, list)):
            stack.extend(item)
        elif isinstance(item, np.ndarray):
            if item.dtype.hasobject:
                raise pickle.UnpicklingError("refusing an array of Python objects: only numeric arrays are allowed")
        elif not isinstance(item, (int, float, str, bytes, type(None))):
            raise pickle.UnpicklingError(f"refusing a {type(item).__name__}: only NumPy arrays are allowed")
