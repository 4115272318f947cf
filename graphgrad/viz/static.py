"""Drawing a static graph (graphgrad.graph): its nodes seen as the eager picture's tensors and ops.

A static `Operation` node becomes an op whose inputs are its parents' values; `Variable` and
`Constant` nodes become leaves. Values come from `forward()`; gradients from one reverse sweep
that calls each operation's Function backward on its upstream gradient, as the eager picture
does. A name scope (`with name_scope("layer1")`) becomes a group that folds into one box.
"""
from __future__ import annotations

import re

import numpy as np

from ..autograd.engine import run_backward
from ..graph.node import _invalidate_children
from .model import MAX_NODES, VizGraph, _Builder, _array, check_size


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
        """The engine's sweep from the target's recorded Tensor, as for an eager graph."""
        [root] = self.roots
        flipped = self._record_inputs()
        try:
            self._sweep(root)
        finally:
            for node in flipped:  # the graph records as before once it is drawn
                node._tensor.requires_grad = False
                _invalidate_children(node)

    def _record_inputs(self) -> list:
        """Make every float input (a Variable that is not trainable) record, so its gradient shows too."""
        from ..graph import Constant, Variable

        flipped = [v.node for v in self._tensors() if isinstance(v.node, Variable) and not isinstance(v.node, Constant)
                   and v.requires_grad and not v.node._tensor.requires_grad]
        for node in flipped:
            node._tensor.requires_grad = True
            _invalidate_children(node)
        if flipped:
            self.roots[0].node.forward()
            for v in self._tensors():
                v.data = np.asarray(v.node.value)
        return flipped

    def _sweep(self, root) -> None:
        target = root.node._tensor
        if target is None or not target.requires_grad:
            return
        root.requires_grad = True
        values = {id(v.node._tensor): v for v in self._tensors() if v.node._tensor is not None}
        wanted = [v.node._tensor for v in values.values()]
        ops = {id(fn.function): fn for fn in self.fns}

        def observe(function, gys, gxs):
            op = ops.get(id(function))
            if op is not None:
                self._observe(op, gys, gxs)

        found = run_backward([target], [np.ones_like(target.data)], retain_graph=True, capture=wanted, observe=observe)
        self.grads = {id(values[id(t)]): _array(g) for t, g in zip(wanted, found) if g is not None}
        self._local_derivatives()


def _automatic(node) -> bool:
    """True for a name the graph made up (`Mul:3`), which a label should not show."""
    return re.fullmatch(rf"{re.escape(node.op_name)}:\d+", node.name.rsplit("/", 1)[-1]) is not None


def _scope(node) -> str | None:
    """The name scope a node was made in (`layer1` for `layer1/W`), or None."""
    return node.name.rsplit("/", 1)[0] if "/" in node.name else None
