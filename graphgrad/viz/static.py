"""Drawing a static graph (graphgrad.graph): its nodes seen as the eager picture's tensors and ops.

A static `Operation` node becomes an op whose inputs are its parents' values; `Variable` and
`Constant` nodes become leaves. Values come from `forward()`; gradients from one reverse sweep
that calls each operation's Function backward on its upstream gradient, as the eager picture
does. A name scope (`with name_scope("layer1")`) becomes a group that folds into one box.
"""
from __future__ import annotations

import re

import numpy as np

from ..backend import sum_to
from .model import MAX_NODES, VizGraph, _Builder, check_size


def is_static(output) -> bool:
    """True if `output` is a node of a static graph (graphgrad.graph)."""
    from ..graph import Node

    return isinstance(output, Node)


def build_static(target, show_grads: bool = True, max_nodes: int = MAX_NODES, what: str = "viz") -> VizGraph:
    """The VizGraph of a static graph's `target` node (computed with forward() first)."""
    from ..graph import Operation

    target.forward()
    order = target.graph.order(target)
    ops = [n for n in order if isinstance(n, Operation)]
    check_size(ops, 1, max_nodes, what, group=_scope)
    seen = {}
    for n in order:
        seen[id(n)] = _Value(n, seen.get)
    records = {id(n): _Op(n, seen) for n in ops}
    for n in ops:
        seen[id(n)].creator = records[id(n)]
    return _StaticBuilder([seen[id(target)]], [records[id(n)] for n in ops], show_grads).run()


class _Value:
    """A static node's value in the shape the picture's builder reads a tensor."""

    def __init__(self, node, lookup):
        self.node, self.data = node, np.asarray(node.value)
        self.name = node.name if not _automatic(node) else None
        self.creator = None
        self.grad = None
        # a leaf carries a gradient if it holds floats (an input or a weight); labels, constants do not
        from ..graph import Constant

        self.requires_grad = np.issubdtype(self.data.dtype, np.floating) and not isinstance(node, Constant)


class _Op:
    """A static Operation in the shape of a recorded Function: inputs, outputs, backward."""

    released = False

    def __init__(self, node, values: dict):
        self.node, self.function = node, node.function
        self.inputs = tuple(values[id(p)] for p in node.parents)
        out = values[id(node)]
        self.outputs = (lambda: out,)
        self.needs_input_grad = tuple(np.issubdtype(p.data.dtype, np.floating) for p in self.inputs)

    def backward(self, *gys):
        self.function.needs_input_grad = self.needs_input_grad
        return self.function.backward(*gys)

    def __getattr__(self, name):  # constructor settings such as PowScalar's exponent `c`
        return getattr(self.__dict__["function"], name)


class _StaticBuilder(_Builder):
    """The eager builder, reading ops and groups from static nodes and backpropagating itself."""

    @staticmethod
    def op_class(fn: _Op) -> type:
        return type(fn.function)

    @staticmethod
    def group(fn: _Op) -> str | None:
        return _scope(fn.node)

    def _gradients(self) -> None:
        [root] = self.roots
        if not np.issubdtype(root.data.dtype, np.floating):
            return
        root.requires_grad = True
        grads = {id(root): np.ones_like(root.data)}
        for fn in reversed(self.fns):
            out = fn.outputs[0]()
            g = grads.get(id(out))
            if g is None:
                continue
            self.flows[fn] = flows = self._backward(fn, [g])
            for t, flow in zip(fn.inputs, flows):
                if flow is not None:
                    flow = sum_to(flow, t.data.shape)
                    grads[id(t)] = flow if id(t) not in grads else grads[id(t)] + flow
            if all(t.data.size == 1 for t in fn.inputs) and out.data.size == 1:
                self.locals[fn] = self._backward(fn, [np.ones_like(out.data)])
        self.grads = grads


def _automatic(node) -> bool:
    """True for a name the graph made up (`Mul:3`), which a label should not show."""
    return re.fullmatch(rf"{re.escape(node.op_name)}:\d+", node.name.rsplit("/", 1)[-1]) is not None


def _scope(node) -> str | None:
    """The name scope a node was made in (`layer1` for `layer1/W`), or None."""
    return node.name.rsplit("/", 1)[0] if "/" in node.name else None
