"""MatrixSlow's `core`: Variable(dim, init, trainable), the default graph, and its node look-ups."""
from __future__ import annotations

import numpy as np

from ..graph import Node, default_graph, name_scope
from ..graph import Variable as _GraphVariable

__all__ = [
    "Node", "Variable", "default_graph", "name_scope", "get_node_from_graph",
    "get_trainable_variables_from_graph", "update_node_value_in_graph",
]


class Shape(tuple):
    """A shape that may also be called, as MatrixSlow's `node.shape()` is."""

    def __call__(self) -> tuple:
        return tuple(self)


class Variable(_GraphVariable):
    """A matrix-valued leaf of shape `dim` (a 2-tuple); init=True draws N(0, 0.001²) from np.random, as MatrixSlow."""

    def __init__(self, dim, init: bool = False, trainable: bool = True, **kargs):
        """MatrixSlow's constructor arguments (see the class docstring)."""
        dim = tuple(int(n) for n in dim)
        if len(dim) != 2:
            raise ValueError(f"Variable: MatrixSlow's values are matrices; dim must be (rows, columns), got {dim}")
        self.dim = dim
        super().__init__(dim, init=False, trainable=trainable, name=kargs.get("name"), graph=kargs.get("graph"),
                         dtype="float64")
        self.matrix_api = True
        if init:
            self.set_value(np.random.normal(0.0, 0.001, dim))

    @property
    def shape(self) -> Shape:
        """(rows, columns); callable as well: `w.shape()`."""
        return Shape(self.dim)

    @property
    def jacobi(self):
        """The Jacobian found by the last `backward(result)`, kept until `graph.clear_jacobi()` (MatrixSlow's rule)."""
        return self._jacobi

    def dimension(self) -> int:
        """The number of elements."""
        return self.dim[0] * self.dim[1]

    def set_value(self, value) -> None:
        """A new value of shape `dim` (a matrix, or anything np.asarray reads): every value downstream is forgotten."""
        arr = np.asarray(value, dtype=np.float64)
        if arr.shape != self.dim:
            raise ValueError(f"set_value: variable {self.name!r} has dim {self.dim}, got a value of shape {arr.shape}")
        super().set_value(np.array(arr) if not arr.flags.writeable else arr)


def get_node_from_graph(node_name: str, name_scope: str | None = None, graph=None):
    """The node called `node_name` (inside `name_scope`), or None."""
    graph = default_graph if graph is None else graph
    if name_scope:
        node_name = f"{name_scope}/{node_name}"
    return next((n for n in graph.nodes if n.name == node_name), None)


def get_trainable_variables_from_graph(node_name: str | None = None, name_scope: str | None = None, graph=None):
    """Every trainable Variable of the graph, or the one called `node_name`."""
    graph = default_graph if graph is None else graph
    if node_name is None:
        return [n for n in graph.nodes if isinstance(n, _GraphVariable) and n.trainable]
    return get_node_from_graph(node_name, name_scope, graph)


def update_node_value_in_graph(node_name: str, new_value, name_scope: str | None = None, graph=None) -> None:
    """Set the value of the Variable called `node_name`; its shape must not change."""
    node = get_node_from_graph(node_name, name_scope, graph)
    if node is None:
        raise KeyError(f"update_node_value_in_graph: no node called {node_name!r}")
    node.set_value(new_value)
