"""graphgrad's functions as static-graph builders, and the seed text's names for them.

Every function of the op library (`graphgrad.exp`, `graphgrad.sum`, `graphgrad.linear`, ...) is
here too, with a `name=` for the node it builds; the op classes' declarations are the only list.
Called on nodes, the library's functions already build nodes; these also accept inputs that are
not nodes yet (numbers, arrays, eager tensors) and make them Constants, so a graph can start from
anything. `apply` builds a node from any Function subclass, including your own.
"""
from __future__ import annotations

import builtins
import sys

from .. import ops as _library
from .node import Constant, Node, Operation, pending_name


def apply(function_class: type, *inputs, name: str | None = None, **config) -> Operation:
    """An Operation node computing `function_class(**config)` of `inputs` (non-nodes become Constants)."""
    graph = next((x.graph for x in inputs if isinstance(x, Node)), None)
    parents = tuple(x if isinstance(x, Node) else Constant(x, graph=graph) for x in inputs)
    return Operation(function_class, *parents, config=config, name=name)


def graph_function(f):
    """`f` (a library function) as a node builder: a first input that is no node becomes a Constant."""

    def build(*args, name: str | None = None, **kwargs):
        if args and not _has_node(args):
            first = args[0]
            if isinstance(first, (list, tuple)) and first:
                args = ([Constant(first[0])] + list(first[1:]),) + args[1:]
            else:
                args = (Constant(first),) + args[1:]
        if name is not None:
            pending_name.append(name)
        try:
            return f(*args, **kwargs)
        finally:
            if name is not None and pending_name and pending_name[-1] == name:
                pending_name.pop()  # an op that built no Operation leaves no name behind

    build.__name__ = build.__qualname__ = f.__name__
    build.__doc__ = f.__doc__
    build.__wrapped__ = f
    return build


def _has_node(args) -> bool:
    for a in args:
        if isinstance(a, Node) or (isinstance(a, (list, tuple)) and builtins.any(isinstance(i, Node) for i in a)):
            return True
    return False


PUBLIC: dict = {}  # every node-building function by name (graphgrad.graph re-exports them all)


def _publish(name: str, f) -> None:
    PUBLIC[name] = f
    setattr(sys.modules[__name__], name, f)
    package = sys.modules.get(__package__)
    if package is not None and hasattr(package, "Graph"):  # a user's op defined after import
        setattr(package, name, f)


for _name, _f in _library.FUNCTIONS.items():
    _publish(_name, graph_function(_f))
_publish("swapaxes", graph_function(_library.swapaxes))
_library._listeners.append(lambda op, f: [_publish(n, graph_function(f)) for n in (op.name, *op.aliases)])


def dot(x, y, name=None):
    """The text's Dot: matrix (or vector) product, as `x @ y`."""
    return matmul(x, y, name=name)  # noqa: F821  (generated above)


def vectorize(*xs, name=None):
    """The text's Vectorize: its inputs as one vector, stacked along a new last axis.

    Scalars give a vector of length len(xs); per-sample scores of shape (N,) give (N, len(xs)).
    """
    return stack(list(xs), axis=-1, name=name)  # noqa: F821


# ---- the seed text's names ----------------------------------------------------------------------
TEXT_NAMES = {
    "Add": "add", "Dot": "dot", "MatMul": "matmul", "Multiply": "mul", "Logistic": "sigmoid", "ReLU": "relu",
    "SoftMax": "softmax", "Reshape": "reshape", "Concat": "concatenate", "Vectorize": "vectorize",
    "CrossEntropyWithSoftMax": "cross_entropy",
}
PUBLIC.update(apply=apply, dot=dot, vectorize=vectorize)
for _text, _name in TEXT_NAMES.items():
    _publish(_text, PUBLIC[_name])
