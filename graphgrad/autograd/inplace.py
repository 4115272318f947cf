"""In-place operations and version counters.

`x.add_(y)`, `x -= y`, `x.zero_()`, ... write into the tensor's own storage (so every view of it
sees the change) and advance that storage's version counter. Views share their base's counter
(a version is kept per root storage, as PyTorch shares one counter among views). Every recorded
op notes `epoch`, the global count of in-place writes at the time; backward checks an op only when
a write happened after it was recorded, so the usual step pays one comparison per op.

Under grad mode an in-place op on a tensor in a graph is recorded like its out-of-place form: the
tensor's previous value moves to a fresh copy (which its former creator now outputs), and the
tensor becomes the output of the new op. Ops recorded earlier that still hold the tensor raise
the "modified by an inplace operation" error at backward instead of routing gradients wrongly.

`Storage` is the ndarray subclass a leaf that requires grad keeps its data in, so that PyTorch's
`.data` idioms (`p.data.copy_(w)`, `p.data.zero_()`, `p.data -= lr * p.grad`) work on the raw
array itself; as in PyTorch, writes through `.data` are not tracked by the version counter.
"""
from __future__ import annotations

import weakref

import numpy as np

from . import function, mode
from ..backend import as_array

LEAF_ERROR = "a leaf Variable that requires grad is being used in an in-place operation."
MODIFIED = (
    "one of the variables needed for gradient computation has been modified by an inplace operation: "
    "{what} of {op} (shape {shape}) was modified in place after {op} was recorded (it is at version {version}). "
    "Hint: clone() the tensor before modifying it in place, or use the out-of-place op."
)
_versions: dict = {}  # id(root storage) -> [version, in-place write count at its last write, weakref to root]


def _root(a):
    base = getattr(a, "base", None)
    while base is not None and isinstance(base, np.ndarray):
        a, base = base, base.base
    return a


def version(a) -> int:
    """How many times the storage of array `a` was written in place."""
    entry = _versions.get(id(_root(a)))
    return 0 if entry is None or entry[2]() is None else entry[0]


def bump(a) -> None:
    """Record an in-place write into `a`'s storage."""
    function.inplace_writes += 1
    root = _root(a)
    entry = _versions.get(id(root))
    if entry is None or entry[2]() is not root:
        try:
            ref = weakref.ref(root, lambda _, key=id(root): _versions.pop(key, None))
        except TypeError:  # an array type without weak references: keep it alive with its entry
            ref = (lambda r=root: r)
        entry = _versions[id(root)] = [0, 0, ref]
    entry[0] += 1
    entry[1] = function.inplace_writes


def check_versions(fn) -> None:
    """Raise PyTorch's error if `fn` saved an array written in place after `fn` was recorded, or holds an
    input that a later in-place op turned into another op's output."""
    epoch = fn.epoch
    for s in fn.saved or ():
        if s is None or not hasattr(s, "shape"):
            continue
        entry = _versions.get(id(_root(s)))
        if entry is not None and entry[1] > epoch and entry[2]() is _root(s):
            raise RuntimeError(MODIFIED.format(what="a tensor it saved", op=type(fn).__name__,
                                               shape=tuple(s.shape), version=entry[0]))
    for i, t in enumerate(fn.inputs):
        c = t.creator
        if c is not None and c.epoch > epoch:
            raise RuntimeError(MODIFIED.format(what=f"input {i}", op=type(fn).__name__, shape=t.shape,
                                               version=version(t.data)))


def apply(t, f, name: str, args: tuple, kwargs: dict):
    """`t` modified in place to `f(t, *args, **kwargs)` (the out-of-place op); returns `t`."""
    recording = mode.state.grad_enabled
    if recording and t.requires_grad and t.creator is None:
        raise RuntimeError(LEAF_ERROR + f" ({name} on a leaf of shape {t.shape}; wrap the update in "
                                        f"`with graphgrad.no_grad():` or use the out-of-place op)")
    if recording and (t.requires_grad or any(getattr(a, "requires_grad", False) for a in args)):
        return _recorded(t, f, name, args, kwargs)
    write(t, f(t, *args, **kwargs), name)
    return t


def write(t, value, name: str, cast: str = "same_kind") -> None:
    """Store `value` into t's storage (broadcast to t's shape), advancing its version."""
    src = _raw(value)
    dst = t.data
    if not hasattr(src, "shape"):
        src = as_array(src)
    if tuple(src.shape) != tuple(dst.shape):
        try:
            shape = np.broadcast_shapes(tuple(src.shape), tuple(dst.shape))
        except ValueError:
            shape = tuple(src.shape)
        if shape != tuple(dst.shape):
            raise RuntimeError(f"{name}: output with shape {list(dst.shape)} doesn't match the broadcast shape {list(shape)}")
    if src.dtype != dst.dtype and not np.can_cast(src.dtype, dst.dtype, cast):
        raise RuntimeError(f"{name}: result type {src.dtype} can't be cast to the desired output type {dst.dtype}")
    if src is not dst:
        if isinstance(dst, np.ndarray):
            np.copyto(dst, src, casting="unsafe")
        else:
            dst[...] = src
    bump(dst)


def _recorded(t, f, name: str, args: tuple, kwargs: dict):
    """The in-place op recorded in the graph: t's previous value becomes a copy, t the new op's output."""
    from .tensor import Tensor

    old = object.__new__(Tensor)
    old.__dict__.update(t.__dict__)
    old.data = t.data.copy() if not isinstance(t.data, Storage) else np.array(t.data)
    c = t.creator
    if c is not None:
        c.outputs = tuple([weakref.ref(old) if r() is t else r for r in c.outputs])
        if c.saved:
            c.saved = tuple([old.data if s is t.data else s for s in c.saved])
    r = f(old, *[old if a is t else a for a in args], **kwargs)  # x.mul_(x) multiplies the old values
    write(t, r, name)
    fn = r.creator
    if fn is not None:
        t.creator, t.requires_grad = fn, True
        fn.outputs = tuple([weakref.ref(t) if o() is r else o for o in fn.outputs])
        if fn.saved:
            fn.saved = tuple([t.data if s is r.data else s for s in fn.saved])
        fn.epoch = function.inplace_writes
    return t


class Storage(np.ndarray):
    """The ndarray a trainable leaf keeps its data in: NumPy's array plus PyTorch's in-place `.data` methods."""

    __array_priority__ = -1.0  # results of mixed arithmetic are plain ndarrays

    def __array_wrap__(self, array, context=None, return_scalar=False):
        """Results of arithmetic on it are plain arrays (only its views and the array itself are Storage)."""
        array = array.view(np.ndarray)
        return array[()] if return_scalar else array

    def copy_(self, src):
        """Copy `src` (an array or Tensor, broadcast) into this array."""
        np.copyto(self, np.asarray(_raw(src)), casting="unsafe")
        return self

    def zero_(self):
        """Set every element to 0."""
        self[...] = 0
        return self

    def fill_(self, value):
        """Set every element to `value`."""
        self[...] = _raw(value)
        return self

    def add_(self, other, alpha=1):
        """self += alpha * other."""
        np.add(self, _raw(other) * alpha if alpha != 1 else _raw(other), out=self, casting="same_kind")
        return self

    def sub_(self, other, alpha=1):
        """self -= alpha * other."""
        np.subtract(self, _raw(other) * alpha if alpha != 1 else _raw(other), out=self, casting="same_kind")
        return self

    def mul_(self, other):
        """self *= other."""
        np.multiply(self, _raw(other), out=self, casting="same_kind")
        return self

    def div_(self, other):
        """self /= other."""
        np.divide(self, _raw(other), out=self, casting="same_kind")
        return self

    def clamp_(self, min=None, max=None):  # noqa: A002  (PyTorch's names)
        """Limit every element to [min, max]."""
        np.clip(self, min, max, out=self)
        return self

    def normal_(self, mean=0.0, std=1.0, generator=None):
        """Fill with samples of N(mean, std²) from graphgrad's global generator."""
        from ..factories import default_generator

        self[...] = (generator or default_generator()).normal(mean, std, self.shape)
        return self

    def uniform_(self, a=0.0, b=1.0, generator=None):
        """Fill with samples of U(a, b) from graphgrad's global generator."""
        from ..factories import default_generator

        self[...] = (generator or default_generator()).uniform(a, b, self.shape)
        return self

    def numpy(self) -> np.ndarray:
        """This array as a plain ndarray (shared)."""
        return self.view(np.ndarray)

    def __iadd__(self, other):
        return super().__iadd__(_raw(other))

    def __isub__(self, other):
        return super().__isub__(_raw(other))

    def __imul__(self, other):
        return super().__imul__(_raw(other))

    def __itruediv__(self, other):
        return super().__itruediv__(_raw(other))


function._HOST.add(Storage)


def _raw(x):
    return x.data if hasattr(x, "creator") else x


# ---- the in-place methods, derived from the op declarations ----------------------------------

INPLACE_OPERATORS = {"add": "iadd", "sub": "isub", "mul": "imul", "div": "itruediv", "pow": "ipow",
                     "remainder": "imod", "floor_divide": "ifloordiv", "bitwise_and": "iand",
                     "bitwise_or": "ior", "bitwise_xor": "ixor", "bitwise_left_shift": "ilshift",
                     "bitwise_right_shift": "irshift", "matmul": None}


def make_inplace(name: str, f):
    """The method `name_`: `f` applied in place."""
    def method(self, *args, **kwargs):
        return apply(self, f, name + "_", args, kwargs)

    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"In-place {name}: the tensor becomes {name}(tensor, ...)."
    return method


def inplace_names(ops: list) -> dict:
    """Public names of the ops that get an in-place form `name_`: the elementwise ones and the
    ops that declare `inplace = True`."""
    out = {}
    for cls in ops:
        if cls.elementwise or cls.__dict__.get("inplace", False):
            for n in (cls.name, *cls.aliases):
                out[n] = cls
    return out


def install(tensor_cls, F) -> None:
    """Give `tensor_cls` the in-place methods and operators of every op with an in-place form."""
    names = inplace_names(F.public_ops())
    for n in names:
        setattr(tensor_cls, n + "_", make_inplace(n, F.FUNCTIONS[n]))
        op = INPLACE_OPERATORS.get(n)
        if op:
            setattr(tensor_cls, f"__{op}__", make_inplace(n, F.FUNCTIONS[n]))

    def zero_(self):
        """Set every element to 0, in place."""
        return apply(self, _filled, "zero_", (0,), {})

    def fill_(self, value):
        """Set every element to `value`, in place."""
        return apply(self, _filled, "fill_", (value,), {})

    def copy_(self, src, non_blocking: bool = False):
        """Copy `src`'s values into this tensor (broadcast, cast to its dtype), in place."""
        return apply(self, _copied, "copy_", (src,), {})

    def normal_(self, mean=0.0, std=1.0, generator=None):
        """Fill with samples of N(mean, std²), in place."""
        from ..factories import default_generator

        values = (generator or default_generator()).normal(mean, std, self.shape).astype(self.dtype)
        return apply(self, _filled, "normal_", (values,), {})

    def uniform_(self, a=0.0, b=1.0, generator=None):
        """Fill with samples of U(a, b), in place."""
        from ..factories import default_generator

        values = (generator or default_generator()).uniform(a, b, self.shape).astype(self.dtype)
        return apply(self, _filled, "uniform_", (values,), {})

    for fn in (zero_, fill_, copy_, normal_, uniform_):
        setattr(tensor_cls, fn.__name__, fn)


def _filled(t, value):
    """A constant tensor like t holding `value` (t's dtype): fill_'s result, with no gradient to t."""
    from .tensor import Tensor

    xp_value = _raw(value)
    out = np.empty(t.shape, dtype=t.dtype) if isinstance(t.data, np.ndarray) else None
    if out is None:
        from ..backend import namespace

        return Tensor(namespace(t.data).full(t.shape, xp_value, dtype=t.dtype, like=t.data))
    out[...] = xp_value
    if getattr(value, "requires_grad", False):  # fill_ with a 0-d tensor that requires grad
        return _copied(t, value)
    return Tensor(out)


def _copied(t, src):
    """copy_'s result: src broadcast to t's shape and cast to t's dtype (differentiable in src)."""
    from .. import ops
    from .tensor import Tensor

    src = src if isinstance(src, Tensor) else Tensor(as_array(src))
    out = src if src.shape == t.shape else ops.FUNCTIONS["broadcast_to"](src, t.shape)
    return out if out.dtype == t.dtype else ops.FUNCTIONS["astype"](out, t.dtype)
