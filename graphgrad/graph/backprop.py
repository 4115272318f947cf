"""Training gradients of a static graph: one reverse sweep of vector-Jacobian products.

For a scalar loss the dense Jacobians of jacobi.py are never needed: each operation's backward
turns the gradient of its output into gradients of its inputs, on whole mini-batches at once.
The sweep is planned once per (target, variables) and graph structure: which operations lie
between the variables and the target, which of their inputs need a gradient, in what order. A
run is then a tight loop calling each Function's backward on arrays.
"""
from __future__ import annotations

import numpy as np

from ..backend import shared_ones, sum_to
from .node import Node, Operation, _evaluate


class _Plan:
    """The operations on paths from `variables` to `target`, in reverse order, with their input needs."""

    def __init__(self, target: Node, variables: tuple):
        order = target.graph.order(target)
        live = {id(v) for v in variables}
        steps = []
        for node in order:
            if isinstance(node, Operation):
                needs = tuple([id(p) in live for p in node.parents])
                if True in needs:
                    live.add(id(node))
                    steps.append((node, node.function, node.parents, needs))
        steps.reverse()
        self.order, self.steps = order, steps


def gradients(target: Node, variables, grad=None) -> list[np.ndarray]:
    """d target / d each variable, as arrays shaped like the variables (batched VJPs, no Jacobians).

    `target` must be a scalar unless `grad` (d something / d target, shaped like it) is given.
    """
    variables = tuple(variables)
    graph = target.graph
    key = (id(target), tuple([id(v) for v in variables]))
    plan = graph._plans.get(key)
    if plan is None:  # checked once per plan: a cached plan's variables were checked when it was made
        for v in variables:
            if getattr(v, "graph", None) is not graph:
                raise ValueError(
                    f"gradients: {getattr(v, 'name', v)!r} is not a node of the graph of target {target.name!r}"
                )
        plan = graph._plans[key] = _Plan(target, variables)
    if target._value is None:
        _evaluate(plan.order)
    value = target._value
    if grad is None:
        if value.size != 1:
            raise ValueError(
                f"gradients: target {target.name!r} has shape {value.shape}, not a scalar; reduce it "
                f"(e.g. .mean()) or pass grad= shaped like it"
            )
        grad = shared_ones(value)
    elif np.shape(grad) != value.shape:
        raise ValueError(f"gradients: grad has shape {np.shape(grad)}, target {target.name!r} has {value.shape}")
    grads = {id(target): grad if type(grad) is np.ndarray and grad.dtype == value.dtype
             else np.asarray(grad, dtype=value.dtype)}
    for node, fn, parents, needs in plan.steps:
        g = grads.pop(id(node), None)
        if g is None:
            continue
        fn.needs_input_grad = needs
        gxs = fn.backward(g)
        if type(gxs) is not tuple:
            gxs = (gxs,)
        for p, gx, need in zip(parents, gxs, needs):
            if not need or gx is None:
                continue
            shape = p._value.shape
            if gx.shape != shape:
                gx = sum_to(gx, shape)
            k = id(p)
            prev = grads.get(k)
            grads[k] = gx if prev is None else prev + gx  # a new array: gradients may alias
    return [grads.get(id(v), None) if id(v) in grads else np.zeros_like(v.forward()) for v in variables]
