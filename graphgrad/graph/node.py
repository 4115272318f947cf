"""Nodes of a static graph: Variables that hold values and Operations that compute them lazily.

An Operation wraps one of graphgrad's Functions (the same class the eager engine records) and
calls its `forward` on the parents' arrays. Values are cached: `forward()` computes only what is
missing, parents first, and `Variable.set_value` forgets exactly the values downstream of it.
"""
from __future__ import annotations

import numpy as np

from ..autograd import mode
from ..backend import as_array, is_floating
from ..autograd.function import NODE_TYPES, Function
from ..autograd.tensor import Tensor
from .graph import Graph, get_default_graph
from .jacobi import chain_jacobian, local_jacobian


class Node:
    """A vertex of a static graph: knows its parents, children, name, value and memoised Jacobian."""

    __array_ufunc__ = None  # `ndarray op node` defers to the node's reflected operator
    op_name = "Node"
    matrix_api = False  # the article's column-vector API: `value` is an np.matrix (see Variable)
    _value = None
    _tensor = None  # the value as a Tensor: an Operation's is recorded by the eager engine
    _jacobi = None
    _jacobi_key = None

    def __init__(self, *parents: "Node", name: str | None = None, graph: Graph | None = None):
        """A node of `graph` (the parents', else the default graph) computed from `parents`, named `name`."""
        graph = _common_graph(self, parents, graph)
        self.graph = graph
        self.parents = tuple(parents)
        self.children: list[Node] = []
        for p in dict.fromkeys(parents):  # once per distinct parent
            p.children.append(self)
        self.name = graph.add_node(self, name)

    # ---- values -----------------------------------------------------------------------
    @property
    def value(self) -> np.ndarray | None:
        """The node's current value, or None when it has not been computed since its inputs changed.

        In the article's column-vector API (`matrix_api`) it is an np.matrix view, as the article's
        framework returns (`.A1`, `[0, 0]`, `*` as the matrix product); the graph computes on ndarrays.
        """
        v = self._value
        if self.matrix_api and v is not None and v.ndim <= 2:
            return (v if v.ndim == 2 else v.reshape(1, -1)).view(np.matrix)  # a view: no copy, no deprecation warning
        return v

    @property
    def shape(self) -> tuple | None:
        """Shape of the current value (None before it is computed)."""
        return None if self._value is None else self._value.shape

    def forward(self) -> np.ndarray:
        """Compute this node's value if it is missing, computing only the missing ancestors first."""
        if self._value is None:
            _evaluate(self.graph.order(self))
        return self._value

    def reset_value(self, recursive: bool = True) -> None:
        """Forget this node's value and (recursive) every value computed from it."""
        self.graph.value_version += 1
        if not isinstance(self, Variable):
            self._value = None
        if recursive:
            _invalidate_children(self)

    # ---- Jacobians --------------------------------------------------------------------
    def backward(self, result: "Node") -> np.ndarray:
        """d result / d self as a dense (result.size, self.size) matrix, memoised in `self.jacobi`."""
        return chain_jacobian(self, result)

    @property
    def jacobi(self) -> np.ndarray | None:
        """The Jacobian found by the last `backward(result)`, or None if values changed since."""
        if self._jacobi is None or self._jacobi_key[1] != self.graph.value_version:
            return None
        return self._jacobi

    def _store_jacobi(self, jac: np.ndarray, key: tuple) -> None:
        self._jacobi, self._jacobi_key = jac, key

    # Operators and op methods (`node + 2`, `node.exp()`, `node.sum(axis)`) are installed from the
    # op library's declarations below; any graphgrad function called on a node builds a node.
    @property
    def T(self) -> "Operation":
        """All axes reversed: a transpose node of this one."""
        return _ops().transpose(self)

    @classmethod
    def __graphgrad_function__(cls, fn: Function, inputs: tuple) -> "Operation":
        """The Operation node computing op `fn` of `inputs` (called by Function on node inputs)."""
        graph = next(x.graph for x in inputs if isinstance(x, Node))
        parents = tuple(x if isinstance(x, Node) else _constant(x, graph) for x in inputs)
        return Operation(fn, *parents)

    def __repr__(self) -> str:
        shape = "no value" if self._value is None else f"shape {self._value.shape}"
        return f"<{type(self).__name__} {self.name!r}: {self.op_name}, {shape}>"


class Variable(Node):
    """A leaf: an input or a parameter. `set_value` gives it a value; trainable ones are optimised.

    `shape` may hold None for a size that changes between runs (the batch axis, e.g. (None, 784)).
    An int n declares a column vector n x 1: the article's column-vector API, whose nodes show
    their values as np.matrix and whose text ops (Dot, Vectorize, SoftMax,
    CrossEntropyWithSoftMax) work on columns (see graphgrad.graph.ops). `init=True` fills it with
    N(0, 0.001²) noise as the seed text does (every None counted as 1); an array gives the initial
    value directly.
    """

    op_name = "Variable"
    wants_grad = False  # set when a gradient was asked for although it is not trainable (an input)

    def __init__(self, shape, init=False, trainable: bool = True, name: str | None = None,
                 graph: Graph | None = None, rng: np.random.Generator | int | None = None,
                 dtype="float32"):
        """A leaf of `shape` (None for a free size, an int n for an n x 1 column), its initial value
        `init` (False: none yet, True: N(0, 0.001²) noise from `rng`, or an array)."""
        self.matrix_api = isinstance(shape, (int, np.integer))
        self.declared_shape = (int(shape), 1) if self.matrix_api else tuple(shape)
        self.trainable = trainable
        super().__init__(name=name, graph=graph)
        if init is True:
            gen = np.random.default_rng(rng)
            size = tuple(1 if n is None else n for n in self.declared_shape)
            self.set_value(gen.normal(0.0, 0.001, size).astype(dtype))
        elif init is not False and init is not None:
            self.set_value(init)

    def set_value(self, value) -> None:
        """Give the variable a new value (kept, not copied) and forget every value computed from it."""
        arr = value if type(value) is np.ndarray else as_array(value.data if isinstance(value, Tensor) else value)
        want = self.declared_shape
        if arr.ndim != len(want) or any(w is not None and w != n for w, n in zip(want, arr.shape)):
            raise ValueError(
                f"set_value: variable {self.name!r} has shape {_shape_text(want)}, got a value of shape "
                f"{arr.shape}; reshape the value (None in the variable's shape accepts any size)"
            )
        if self.trainable:
            if not np.issubdtype(arr.dtype, np.floating):
                raise TypeError(
                    f"set_value: trainable variable {self.name!r} needs floating-point values, got dtype "
                    f"{arr.dtype}; pass e.g. value.astype('float32'), or make it Variable(..., trainable=False)"
                )
            if not arr.flags.writeable:
                arr = arr.copy()  # optimizers update trainable values in place
        self._value = arr
        self._tensor = Tensor(arr)
        self._tensor.requires_grad = (self.trainable or self.wants_grad) and is_floating(arr.dtype)
        self.graph.value_version += 1
        _invalidate_children(self)

    @property
    def shape(self) -> tuple:
        """The value's shape, or the declared shape (None for free sizes) before a value is set."""
        return self.declared_shape if self._value is None else self._value.shape

    def forward(self) -> np.ndarray:
        """The value set with `set_value`; a clear error naming the variable when none is set."""
        if self._value is None:
            raise _missing(self)
        return self._value


class Constant(Variable):
    """A fixed, non-trainable value made from a Python number or array used in an operation.

    A Python number stays a Python number for the ops (`number`), as in eager code: `x * 0.1`
    computes in x's dtype, exactly 0.1 in a float64 graph (a float32 constant would make it
    0.1000000015) and without promoting a float32 graph.
    """

    op_name = "Constant"
    number = None  # the Python number the ops see, for a constant made from one

    def __init__(self, value, name: str | None = None, graph: Graph | None = None):
        """A constant holding `value` (a number, an array or an eager tensor's data)."""
        if isinstance(value, Tensor):
            value = value.data
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        arr = np.asarray(float(value)) if number else as_array(value)
        if arr.dtype == object:
            raise TypeError(f"Constant: {type(value).__name__} is not numeric data")
        super().__init__(arr.shape, init=arr, trainable=False, name=name, graph=graph)
        if number:
            self.number = self._tensor = float(value)  # what _evaluate hands the op
        self.matrix_api = False  # a constant follows the nodes it is combined with


class Operation(Node):
    """A node computed by a graphgrad Function of its parents: an op instance, or a Function
    subclass built as `function_class(**config)`."""

    def __init__(self, function, *parents: Node, config: dict | None = None,
                 name: str | None = None, graph: Graph | None = None):
        """The node `function(*parents)`: `function` is an op instance, or a Function class built with `config`."""
        if isinstance(function, Function):
            self.function, self.function_class = function, type(function)
        elif isinstance(function, type) and issubclass(function, Function):
            self.function_class, self.function = function, function(**dict(config or {}))
        else:
            raise TypeError(f"Operation: expected a graphgrad Function (or subclass), got {function!r}")
        self.config = self.function.config()
        self.op_name = self.function_class.__name__
        computed = [p for p in parents if not isinstance(p, Constant)]
        self.matrix_api = bool(computed) and all(p.matrix_api for p in computed)  # mixed with batch nodes: batch
        if name is None:
            name = pending_name.pop() if pending_name else None
        super().__init__(*parents, name=name, graph=graph)

    def get_jacobi(self, parent: Node) -> np.ndarray:
        """d self / d parent, shape (self.size, parent.size), computed from the Function's own backward."""
        positions = [i for i, p in enumerate(self.parents) if p is parent]
        if not positions:
            raise ValueError(f"get_jacobi: {parent.name!r} is not a parent of {self.name!r}")
        self.forward()
        values = [p._value for p in self.parents]
        return local_jacobian(self.function, values, self._value, positions)


# ---- evaluation: the tight loops over a precomputed order ----------------------------------

def _evaluate(order: list) -> None:
    """Compute every missing value in `order` (parents before children).

    Each operation runs as an eager op on its parents' Tensors, so the engine records it: the
    static graph's gradients are the engine's one reverse sweep (see backprop.py).
    """
    state = mode.state
    before, state.grad_enabled = state.grad_enabled, True
    try:
        for node in order:
            if node._value is None:
                fn = node.__dict__.get("function")
                if fn is None:
                    raise _missing(node)
                out = fn(*[p._tensor for p in node.parents])
                if type(out) is tuple:
                    raise TypeError(
                        f"forward: {node.op_name} returned {len(out)} outputs, but a static graph's operation "
                        f"has one; wrap each output in its own Function"
                    )
                node._tensor, node._value = out, out.data
    finally:
        state.grad_enabled = before


def _invalidate_children(node: Node) -> None:
    """Forget every value computed from `node` (all descendants: `reset_value(recursive=False)` may
    have left computed nodes below one without a value)."""
    seen, stack = set(), list(node.children)
    while stack:
        n = stack.pop()
        if id(n) not in seen:
            seen.add(id(n))
            n._value = None
            stack.extend(n.children)


def _missing(node: Node) -> RuntimeError:
    return RuntimeError(
        f"forward: variable {node.name!r} (shape {_shape_text(node.declared_shape)}) has no value; "
        f"call set_value(...) on it before computing anything that depends on it"
    )


def _shape_text(shape: tuple) -> str:
    return "(" + ", ".join("None" if n is None else str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _common_graph(node: Node, parents: tuple, graph: Graph | None) -> Graph:
    """The graph all parents belong to (or the default one for a leaf); mixing graphs is an error."""
    for p in parents:
        if not isinstance(p, Node):
            raise TypeError(f"{node.op_name}: parents must be graph nodes, got {type(p).__name__}")
    graphs = {id(p.graph): p.graph for p in parents}
    if graph is not None:
        graphs.setdefault(id(graph), graph)
    if len(graphs) > 1:
        names = ", ".join(f"{p.name!r}" for p in parents)
        raise ValueError(
            f"{node.op_name}: its inputs ({names}) belong to different graphs; build every node of a "
            f"computation inside the same `with Graph():` block"
        )
    return next(iter(graphs.values())) if graphs else get_default_graph()


def _constant(x, graph: Graph) -> "Constant":
    """A Constant node for a non-node input: a number, an array, or an eager tensor's value."""
    if isinstance(x, Tensor):
        x = x.data
    return Constant(x, graph=graph)


pending_name: list = []  # the name graphgrad.graph's functions give the next Operation they build


def _ops():
    from .. import ops

    return ops


_ops().install_methods(Node)
NODE_TYPES.append(Node)
