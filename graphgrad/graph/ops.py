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
from .node import Constant, Node, Operation, Variable, pending_name


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


def _columns(*xs) -> bool:
    """True when every input is a node of the article's column-vector API (see Variable)."""
    return builtins.all(isinstance(x, Node) and x.matrix_api for x in xs)


def dot(x, y, name=None):
    """The text's Dot: the matrix product x @ y; in the column-vector API the inner product xᵀy
    (two n x 1 columns give a 1 x 1 matrix, the article's neuron `Dot(w, x)`)."""
    if _columns(x, y):
        return matmul(transpose(x), y, name=name)  # noqa: F821  (generated above)
    return matmul(x, y, name=name)  # noqa: F821


def vectorize(*xs, name=None):
    """The text's Vectorize: its inputs as one vector, stacked along a new last axis.

    Scalars give a vector of length len(xs); per-sample scores of shape (N,) give (N, len(xs)).
    In the column-vector API the 1 x 1 inputs are stacked into one column, len(xs) x 1.
    """
    if _columns(*xs):
        fused = _fused_neurons(xs, name)
        return fused if fused is not None else concatenate(list(xs), axis=0, name=name)  # noqa: F821
    return stack(list(xs), axis=-1, name=name)  # noqa: F821


def _neuron(node):
    """(activation op or None, weight, input, bias) if `node` is [act](Add(Dot(w, x), b)) of Variables, else None."""
    act = None
    if isinstance(node, Operation) and node.function.elementwise and len(node.parents) == 1:
        act, node = node, node.parents[0]
    if not (isinstance(node, Operation) and node.op_name == "Add"):
        return None
    product, b = node.parents
    if not (isinstance(product, Operation) and product.op_name == "MatMul"):
        return None
    wt, x = product.parents
    if not (isinstance(wt, Operation) and wt.op_name == "Transpose" and isinstance(wt.parents[0], Variable)):
        return None
    w = wt.parents[0]
    if not (isinstance(b, Variable) and b.declared_shape == (1, 1) and w.declared_shape[1:] == (1,)):
        return None
    return act, w, x, b


def _fused_neurons(xs, name):
    """For neurons [act](Add(Dot(wᵢ, x), bᵢ)) sharing x and act, one StackedAffine (then act) node: the
    article's layer of separate neurons computed as one matrix product (the neuron nodes stay, unused)."""
    found = [_neuron(x) for x in xs]
    if len(xs) < 2 or builtins.any(f is None for f in found):
        return None
    acts, ws, inputs, bs = zip(*found)
    first = acts[0]
    same_act = builtins.all((a is None) == (first is None) and (a is None or (
        a.function_class is first.function_class and a.config == first.config)) for a in acts)
    if not same_act or builtins.any(x is not inputs[0] for x in inputs) or len({id(w) for w in ws}) != len(ws):
        return None
    if first is None:
        return stacked_affine(inputs[0], list(ws), list(bs), name=name)  # noqa: F821
    return Operation(first.function_class(**first.config), stacked_affine(inputs[0], list(ws), list(bs)), name=name)  # noqa: F821


def text_softmax(x, name=None):
    """The text's SoftMax: over the last axis (each row of a batch); over the column in the column-vector API."""
    return softmax(x, 0 if _columns(x) else -1, name=name)  # noqa: F821


def text_cross_entropy(logits, labels, name=None):
    """The text's CrossEntropyWithSoftMax: softmax cross-entropy of scores against labels, averaged over a batch.

    In the column-vector API the scores and the one-hot labels are n x 1 columns (read as one row
    of soft targets); the loss node's `value` is then a 1 x 1 matrix, as in the article.
    """
    if _columns(logits, labels):
        return cross_entropy(transpose(logits), transpose(labels), name=name)  # noqa: F821
    return cross_entropy(logits, labels, name=name)  # noqa: F821


# ---- the seed text's names ----------------------------------------------------------------------
PUBLIC.update(apply=apply, dot=dot, vectorize=vectorize)
TEXT_NAMES = {  # SoftMax and CrossEntropyWithSoftMax also read the article's columns (text_* above)
    "Add": PUBLIC["add"], "Dot": dot, "MatMul": PUBLIC["matmul"], "Multiply": PUBLIC["mul"],
    "Logistic": PUBLIC["sigmoid"], "ReLU": PUBLIC["relu"], "SoftMax": text_softmax, "Reshape": PUBLIC["reshape"],
    "Concat": PUBLIC["concatenate"], "Vectorize": vectorize, "CrossEntropyWithSoftMax": text_cross_entropy,
}
for _text, _f in TEXT_NAMES.items():
    _publish(_text, _f)
