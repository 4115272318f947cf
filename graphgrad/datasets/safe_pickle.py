"""Read pickles of plain NumPy arrays without running the pickle machine: no call, no import.

Pickle can call any importable function while loading, and even NumPy's own constructors
crash on hostile state (`dtype.__setstate__` with a forged tuple segfaults). So this module
never hands a file's values to `pickle` or to NumPy's constructors: `pickletools.genops`
decodes the opcodes, a small stack machine here understands the few that NumPy array pickles
use (protocols 2 to 5, written by Python 2 or 3, NumPy 1 or 2), and each array is built by
`np.frombuffer` from a dtype out of a short allow-list, a validated shape and raw bytes whose
length matches. Anything else raises `ArrayPickleError`, one class with a one-line message.
"""
from __future__ import annotations

import pickle
import pickletools
from typing import Any

import numpy as np

DTYPES = {name: np.dtype(name) for name in ("<f4", "<f8", "<i4", "<i8", "|u1", "|i1", "|b1")}
MAX_DIMS = 32
MAX_DEPTH = 8  # tuples and lists nested inside each other


class ArrayPickleError(pickle.UnpicklingError, ValueError):
    """The data is not a pickle of plain NumPy arrays in tuples and lists (or is damaged)."""


class _Global:
    """One of the few names an array pickle may mention; it stands in for the real object."""

    def __init__(self, name: str):
        self.name = name


RECONSTRUCT, NDARRAY, DTYPE, ENCODE, FROMBUFFER, BYTES = (
    _Global(n) for n in ("_reconstruct", "ndarray", "dtype", "_codecs.encode", "_frombuffer", "bytes"))
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): RECONSTRUCT,  # pickles written by NumPy 1.x
    ("numpy._core.multiarray", "_reconstruct"): RECONSTRUCT,  # and by NumPy 2.x
    ("numpy", "ndarray"): NDARRAY,
    ("numpy", "dtype"): DTYPE,
    ("_codecs", "encode"): ENCODE,  # bytes in protocol-2 pickles written by Python 3
    ("numpy.core.numeric", "_frombuffer"): FROMBUFFER,  # protocol 5
    ("numpy._core.numeric", "_frombuffer"): FROMBUFFER,
    ("__builtin__", "bytes"): BYTES,  # b"" in protocol-2 pickles (the data of an empty array)
    ("builtins", "bytes"): BYTES,
}


class _DtypeSpec:
    """`dtype(name, False, True)` awaiting its BUILD state (byte order); `dtype` is set after."""

    def __init__(self, name: str):
        self.name, self.dtype = name, None


class _ArraySpec:
    """`_reconstruct(ndarray, (0,), b'b')` awaiting its BUILD state; `array` is set after."""

    def __init__(self):
        self.array = None


_MARK = object()  # what MARK pushes: the start of a TUPLE's, LIST's or APPENDS's items


def load_arrays(data: bytes, name: str = "pickle") -> Any:
    """The tuples and lists of NumPy arrays pickled in `data`; arrays are read-only views of it.

    Raises ArrayPickleError, naming `name`, the byte offset and the reason, for anything else.
    """
    machine = _Machine(len(data))
    op = pos = None
    try:
        for op, arg, pos in pickletools.genops(data):  # it stops after STOP, and raises without one
            machine.step(op.name, arg)
        return _materialise(machine.result, _Budget(machine.ops))
    except ArrayPickleError as err:
        where = f" (at byte {pos}, {op.name})" if op is not None else ""
        raise ArrayPickleError(f"{name}: not a plain NumPy-array pickle: {err}{where}") from None
    except (ValueError, DeprecationWarning) as err:  # pickletools: unknown opcode, truncated
        # argument, bad text; its escape decoding warns on odd bytes (an exception under -W error)
        raise ArrayPickleError(f"{name}: not a plain NumPy-array pickle: damaged or truncated ({err})") from None


class _Machine:
    """The subset of the pickle virtual machine that array pickles need; nothing is ever called."""

    def __init__(self, data_len: int):
        self.stack: list = []
        self.memo: dict[int, Any] = {}
        self.result = None
        self.ops = 0
        self.bytes_left = data_len  # str -> bytes conversions may not produce more than the file

    def pop(self):
        if not self.stack or self.stack[-1] is _MARK:
            raise ArrayPickleError("stack underflow")
        return self.stack.pop()

    def pop_mark(self) -> list:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i] is _MARK:
                items = self.stack[i + 1:]
                del self.stack[i:]
                return items
        raise ArrayPickleError("no MARK on the stack")

    def top(self):
        if not self.stack or self.stack[-1] is _MARK:
            raise ArrayPickleError("empty stack")
        return self.stack[-1]

    def step(self, op: str, arg) -> None:
        self.ops += 1
        push = self.stack.append
        if op in ("PROTO", "FRAME"):
            pass
        elif op in _CONSTANTS:
            push(_CONSTANTS[op])
        elif op in ("BININT", "BININT1", "BININT2", "LONG1"):
            push(arg)
        elif op in ("SHORT_BINSTRING", "BINSTRING", "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8",
                    "SHORT_BINBYTES", "BINBYTES", "BINBYTES8", "BYTEARRAY8"):
            push(arg)
        elif op == "MARK":
            push(_MARK)
        elif op in ("BINPUT", "LONG_BINPUT"):
            self.memo[arg] = self.top()
        elif op == "MEMOIZE":
            self.memo[len(self.memo)] = self.top()
        elif op in ("BINGET", "LONG_BINGET"):
            if arg not in self.memo:
                raise ArrayPickleError(f"memo entry {arg} was never stored")
            push(self.memo[arg])
        elif op == "GLOBAL":
            push(_resolve(*arg.split(" ", 1)) if " " in arg else _resolve(arg, ""))
        elif op == "STACK_GLOBAL":
            attr, module = self.pop(), self.pop()
            if not (isinstance(module, str) and isinstance(attr, str)):
                raise ArrayPickleError("STACK_GLOBAL needs two strings")
            push(_resolve(module, attr))
        elif op == "EMPTY_TUPLE":
            push(())
        elif op in ("TUPLE1", "TUPLE2", "TUPLE3"):
            n = int(op[-1])
            items = [self.pop() for _ in range(n)][::-1]
            push(tuple(items))
        elif op == "TUPLE":
            push(tuple(self.pop_mark()))
        elif op == "EMPTY_LIST":
            push([])
        elif op == "LIST":
            push(self.pop_mark())
        elif op in ("APPEND", "APPENDS"):
            items = [self.pop()] if op == "APPEND" else self.pop_mark()
            target = self.top()
            if not isinstance(target, list):
                raise ArrayPickleError(f"{op} to a {type(target).__name__}, not a list")
            target.extend(items)
        elif op == "REDUCE":
            args, func = self.pop(), self.pop()
            if not isinstance(func, _Global) or not isinstance(args, tuple):
                raise ArrayPickleError(f"REDUCE of a {type(func).__name__}: only the allowed names can be called")
            push(self.call(func, args))
        elif op == "BUILD":
            state = self.pop()
            self.build(self.top(), state)
        elif op == "STOP":
            self.result = self.pop()
            if self.stack:
                raise ArrayPickleError(f"{len(self.stack)} values left on the stack at STOP")
        else:
            raise ArrayPickleError(f"opcode {op} is not used by NumPy array pickles")

    def call(self, func: _Global, args: tuple):
        """What REDUCE of an allowed name produces, from arguments checked to be the expected ones."""
        if func is RECONSTRUCT:
            if len(args) == 3 and args[0] is NDARRAY and args[1] == (0,) and args[2] in ("b", b"b"):
                return _ArraySpec()
        elif func is DTYPE:
            if len(args) == 3 and isinstance(args[0], str) and _is(args[1], 0) and _is(args[2], 1):
                return _DtypeSpec(args[0])
        elif func is ENCODE:
            if len(args) == 2 and isinstance(args[0], str) and args[1] in ("latin1", "latin-1"):
                return self.to_bytes(args[0])
        elif func is BYTES:
            if args == ():
                return b""
        elif func is FROMBUFFER:
            if len(args) == 4 and args[3] in ("C", "F"):
                spec = _ArraySpec()
                spec.array = _array(args[0], args[1], args[2], args[3] == "F", self)
                return spec
        else:  # ndarray itself is only ever an argument of _reconstruct
            raise ArrayPickleError(f"{func.name} cannot be called")
        raise ArrayPickleError(f"unexpected arguments for {func.name}: {_describe(args)}")

    def build(self, target, state) -> None:
        """BUILD: the dtype's byte order, or the array's shape, dtype, order and bytes."""
        if isinstance(target, _DtypeSpec) and target.dtype is None:
            if not (isinstance(state, tuple) and len(state) == 8 and _is(state[0], 3)
                    and state[2:] == (None, None, None, -1, -1, 0) and isinstance(state[1], str)):
                raise ArrayPickleError(f"dtype state {_describe(state)} is not that of a plain numeric dtype")
            code = state[1] + target.name
            if code not in DTYPES:
                raise ArrayPickleError(f"dtype {code!r} is not allowed (allowed: {', '.join(DTYPES)})")
            target.dtype = DTYPES[code]
        elif isinstance(target, _ArraySpec) and target.array is None:
            if not (isinstance(state, tuple) and len(state) == 5 and _is(state[0], 1)
                    and type(state[3]) in (int, bool) and state[3] in (0, 1)):
                raise ArrayPickleError(f"array state {_describe(state)} is not (1, shape, dtype, fortran, data)")
            _, shape, dtype, fortran, raw = state
            target.array = _array(raw, dtype, shape, bool(fortran), self)
        else:
            raise ArrayPickleError(f"BUILD of a {type(target).__name__} (only a new dtype or array takes a state)")

    def to_bytes(self, text: str) -> bytes:
        if len(text) > self.bytes_left:
            raise ArrayPickleError("the arrays' data would exceed the size of the file (repeated references)")
        self.bytes_left -= len(text)
        try:
            return text.encode("latin-1")
        except UnicodeEncodeError:
            raise ArrayPickleError("array data given as text with characters beyond latin-1") from None


def _is(value, number: int) -> bool:
    """`value` is the int or bool `number` (Python 2 pickles write False and True as 0 and 1)."""
    return type(value) in (int, bool) and value == number


_CONSTANTS = {"NONE": None, "NEWTRUE": True, "NEWFALSE": False}


def _resolve(module: str, name: str) -> _Global:
    try:
        return _ALLOWED[(module, name)]
    except KeyError:
        raise ArrayPickleError(
            f"refusing to load {_describe(f'{module}.{name}')}: this file may only contain NumPy arrays") from None


def _array(raw, dtype, shape, fortran: bool, machine: _Machine) -> np.ndarray:
    """A read-only array viewing `raw`, after checking dtype, shape and length agree."""
    if not (isinstance(dtype, _DtypeSpec) and dtype.dtype is not None):
        raise ArrayPickleError(f"array dtype is a {type(dtype).__name__}, not a dtype that was given its state")
    if not (isinstance(shape, tuple) and len(shape) <= MAX_DIMS
            and all(type(d) is int and 0 <= d < 2**63 for d in shape)):
        raise ArrayPickleError(f"array shape {_describe(shape)} is not a tuple of at most {MAX_DIMS} sizes >= 0")
    if isinstance(raw, str):
        raw = machine.to_bytes(raw)
    if not isinstance(raw, (bytes, bytearray)):
        raise ArrayPickleError(f"array data is a {type(raw).__name__}, not bytes")
    count = 1
    for d in shape:
        count *= d
    if count * dtype.dtype.itemsize != len(raw):
        raise ArrayPickleError(
            f"array of shape {shape} and dtype {dtype.dtype.str} needs {count * dtype.dtype.itemsize} "
            f"bytes but the file holds {len(raw)}")
    flat = np.frombuffer(raw, dtype=dtype.dtype)
    flat.flags.writeable = False
    return flat.reshape(shape, order="F" if fortran else "C")


class _Budget:
    """Visits allowed while walking the result: a file cannot describe more nodes than opcodes."""

    def __init__(self, ops: int):
        self.left = ops

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise ArrayPickleError("the result shares structure more often than the file has opcodes")


def _materialise(obj, budget: _Budget, depth: int = 0):
    """Replace array specs by their arrays; only tuples and lists may hold them."""
    budget.spend()
    if isinstance(obj, _ArraySpec):
        if obj.array is None:
            raise ArrayPickleError("an array was never given its shape and data (no BUILD)")
        return obj.array
    if isinstance(obj, (tuple, list)):
        if depth >= MAX_DEPTH:
            raise ArrayPickleError(f"tuples and lists nested deeper than {MAX_DEPTH} levels")
        return type(obj)(_materialise(item, budget, depth + 1) for item in obj)
    raise ArrayPickleError(f"the file holds a {type(obj).__name__}: only NumPy arrays in tuples and lists are allowed")


def _describe(value, depth: int = 0) -> str:
    """A short, safe description of a decoded value for error messages (no huge or deep reprs)."""
    if isinstance(value, tuple):
        if depth >= 2:
            return "(...)"
        inner = ", ".join(_describe(v, depth + 1) for v in value[:8])
        return f"({inner}{', ...' if len(value) > 8 else ''})"
    if isinstance(value, (int, float, bool, type(None))):
        text = repr(value)
        return text if len(text) <= 24 else text[:20] + "..."
    if isinstance(value, (str, bytes, bytearray)):
        return repr(value[:40]) + ("..." if len(value) > 40 else "")
    return type(value).__name__.lstrip("_")
