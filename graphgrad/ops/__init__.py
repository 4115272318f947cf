"""The op library: one Function class per op, one family a module, and the surface derived from them.

`graphgrad.exp(x)`, `x.exp()`, `x + y`, `graphgrad.graph.exp(node)` and `node + 2` all come from
the declarations on the op classes (see `surface.py`); nothing here is listed twice.
"""
from __future__ import annotations

import sys

import numpy as np

from ..backend import namespace
from . import activations, arithmetic, attention, indexing, linalg, linear, losses, math  # noqa: F401  (they register their ops)
from . import reductions, reshaping, shape, sorting, texts  # noqa: F401
from . import conv, padding, pooling  # noqa: F401  (convolutional networks' ops)
from ..autograd.function import NEW_OP_HOOKS
from .surface import build, make_function, make_method, make_operators, public_ops
from .shape import ScatterAdd

FUNCTIONS, MEMBERS = build()
globals().update(FUNCTIONS)
_installed: list = []  # classes given the op methods (Tensor, Node): a later op is added to them too


def install_methods(cls: type) -> None:
    """Give `cls` (Tensor, the static graph's Node) every op method and operator."""
    for name, member in MEMBERS.items():
        setattr(cls, name, member)
    _installed.append(cls)


def add_op(op: type) -> None:
    """Add the surface of an op class defined after graphgrad was imported (a user's own op)."""
    if not op.__dict__.get("name"):
        return
    names = (op.name, *op.aliases)
    for name in names:
        taken = FUNCTIONS.get(name)
        if taken is not None and getattr(taken, "_op", None) is not op:
            raise ValueError(f"{op.__qualname__}: the op name {name!r} is already taken by another op")
    f = make_function(op)
    f._op = op
    members = {}
    if op.method:
        for name in ((op.name if op.method is True else op.method), *op.aliases):
            members[name] = make_method(name, f)
    if op.operator:
        members.update(make_operators(op, f))
    for name in names:
        FUNCTIONS[name] = f
        setattr(sys.modules[__name__], name, f)
        top = sys.modules.get("graphgrad")
        if top is not None and getattr(top, "_ops_exported", False):
            setattr(top, name, f)
    MEMBERS.update(members)
    for cls in _installed:
        for name, member in members.items():
            setattr(cls, name, member)
    for hook in _listeners:
        hook(op, f)


_listeners: list = []  # called with (op class, function) for every op added later (graphgrad.graph)
NEW_OP_HOOKS.append(add_op)


class tensor_ops:
    """What backward computes with under create_graph: graphgrad's functions, under the namespace's names."""

    name, differentiable = "graphgrad", True
    exp, log, sqrt, tanh, abs = exp, log, sqrt, tanh, abs  # noqa: F821
    maximum, minimum, where, matmul = maximum, minimum, where, matmul  # noqa: F821
    sigmoid, logsumexp, mean = sigmoid, logsumexp, mean  # noqa: F821
    float32, float64, bool = np.float32, np.float64, np.bool_

    @staticmethod
    def sum(x, axis=None, keepdims=False, dtype=None):
        """graphgrad.sum(x, axis, keepdims), differentiable (`dtype` is accepted for the namespaces' common signature and ignored)."""
        return FUNCTIONS["sum"](x, axis, keepdims)

    @staticmethod
    def max(x, axis=None, keepdims=False):
        """graphgrad.amax(x, axis, keepdims): the maximum over `axis`, differentiable."""
        return FUNCTIONS["amax"](x, axis, keepdims)

    @staticmethod
    def min(x, axis=None, keepdims=False):
        """graphgrad.amin(x, axis, keepdims): the minimum over `axis`, differentiable."""
        return FUNCTIONS["amin"](x, axis, keepdims)

    @staticmethod
    def reshape(x, shape):
        """x in `shape`, differentiable."""
        return FUNCTIONS["reshape"](x, tuple(shape))

    @staticmethod
    def permute_dims(x, axes):
        """x with its axes in the order `axes`, differentiable."""
        return FUNCTIONS["permute"](x, tuple(axes))

    @staticmethod
    def broadcast_to(x, shape):
        """x broadcast to `shape`, differentiable (backward sums the repeats)."""
        return FUNCTIONS["broadcast_to"](x, tuple(shape))

    @staticmethod
    def expand_dims(x, axis):
        """x with a new axis of size 1 at `axis`, differentiable."""
        return FUNCTIONS["expand_dims"](x, axis)

    @staticmethod
    def squeeze(x, axis=None):
        """x without its size-1 axes (`axis` only, when given), differentiable."""
        return FUNCTIONS["squeeze"](x, axis)

    @staticmethod
    def concat(xs, axis=0):
        """The tensors `xs` joined along the existing `axis`, differentiable."""
        return FUNCTIONS["concatenate"](list(xs), axis)

    @staticmethod
    def stack(xs, axis=0):
        """The tensors `xs` joined along a new `axis`, differentiable."""
        return FUNCTIONS["stack"](list(xs), axis)

    @staticmethod
    def astype(x, dtype, copy=True):
        """x cast to `dtype`: recorded when x requires grad, else a constant tensor (`copy` is accepted and ignored)."""
        return FUNCTIONS["astype"](x, dtype) if getattr(x, "requires_grad", False) else _constant(
            namespace(x.data).astype(x.data, namespace(x.data).dtype(dtype)))

    @staticmethod
    def sum_to(x, shape):
        """Sum a broadcast gradient back to `shape`, differentiable (x itself when it has that shape)."""
        shape = tuple(shape)
        if tuple(x.shape) == shape:
            return x
        lead = len(x.shape) - len(shape)
        axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
        return tensor_ops.reshape(tensor_ops.sum(x, axes, True), shape)

    @staticmethod
    def scatter_add(shape, index, values):
        """zeros(shape) with `values` added at `index` (ScatterAdd: GetItem's adjoint), differentiable in values."""
        return ScatterAdd(tuple(shape), index)(values)

    @staticmethod
    def getitem(x, index):
        """x[index], differentiable."""
        return FUNCTIONS["getitem"](x, index)

    @staticmethod
    def scatter_add_along(shape, dim, index, values):
        """zeros(shape) with `values` added at `index` along `dim` (gather's adjoint), differentiable in values."""
        from .indexing import ScatterAddAlong

        return ScatterAddAlong(tuple(shape), dim)(index, values)

    @staticmethod
    def masked_product(g, m):
        """g·m, exactly 0 wherever m is 0 or False (also where g is ±inf or NaN), differentiable."""
        data = m.data if hasattr(m, "creator") else m
        boolean = "bool" in str(data.dtype)
        return FUNCTIONS["where"](_constant(data if boolean else data != 0), g if boolean else g * m,
                                  tensor_ops.zeros_like(g))

    @staticmethod
    def pick(x, t):
        """x[n, t[n]] for every row n of a 2-D x, differentiable in x (t: labels, a tensor or an array)."""
        labels = t.data if hasattr(t, "creator") else t
        return FUNCTIONS["getitem"](x, (np.arange(len(labels)), labels))

    @staticmethod
    def row_reducible(x):
        """x itself (the column-major copy NumPy's namespace may make is not needed here)."""
        return x

    # Constants: functions of values that carry no gradient.
    @staticmethod
    def sign(x):
        """sign(x) as a constant tensor (no gradient)."""
        return _constant(namespace(x.data).sign(x.data))

    @staticmethod
    def zeros_like(x):
        """Zeros of x's shape, dtype and device, as a constant tensor."""
        return _constant(namespace(x.data).zeros_like(x.data))

    @staticmethod
    def ones_like(x):
        """Ones of x's shape, dtype and device, as a constant tensor."""
        return _constant(namespace(x.data).ones_like(x.data))

    @staticmethod
    def isfinite(x):
        """True where x is neither NaN nor ±inf, as a constant tensor."""
        return _constant(namespace(x.data).isfinite(x.data))

    @staticmethod
    def arange(*args, like=None, **kw):
        """arange(*args) as a constant tensor, in `like`'s library and on its device when given (NumPy otherwise)."""
        data = like.data if hasattr(like, "creator") else like
        return _constant(namespace(data).arange(*args, like=data, **kw) if data is not None else np.arange(*args, **kw))

    @staticmethod
    def dtype(name):
        """The NumPy dtype named `name`."""
        return np.dtype(name)

    @staticmethod
    def device(x):
        """The device x's data lives on (x a Tensor or an array)."""
        data = x.data if hasattr(x, "creator") else x
        return namespace(data).device(data)


def _constant(a):
    from ..autograd.tensor import Tensor

    return Tensor(a)


for _name in FUNCTIONS:  # every other op under its own name (sin, cumsum, flip, einsum, ...)
    if not hasattr(tensor_ops, _name):
        setattr(tensor_ops, _name, staticmethod(FUNCTIONS[_name]))

__all__ = sorted(FUNCTIONS) + ["tensor_ops", "install_methods", "add_op", "public_ops"]
