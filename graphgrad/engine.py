"""The backward engine: reverse topological order, gradient accumulation, graph freeing.

Iterative throughout (no recursion), so a chain of 100,000 operations backpropagates. Each
function runs its backward once, after every consumer of its outputs has sent its gradient.
"""
from __future__ import annotations

import numpy as np

from . import mode
from .backend import sum_to
from .function import Function, check_finite

FREED_GRAPH = (
    "trying to backward through the graph a second time: {op} already freed its saved arrays "
    "after the first backward. Pass retain_graph=True to the first backward() (or autograd.grad) "
    "if you need to backpropagate through the same graph twice."
)


def topological_order(roots) -> list[Function]:
    """Functions reachable from `roots`, each after the functions that produced its inputs."""
    order, seen = [], set()
    stack = [(t.creator, False) for t in roots if t.creator is not None]
    while stack:
        fn, expanded = stack.pop()
        if expanded:
            order.append(fn)
            continue
        if fn in seen:
            continue
        seen.add(fn)
        stack.append((fn, True))
        for t in fn.inputs:
            if t.creator is not None and t.creator not in seen:
                stack.append((t.creator, False))
    return order


def run_backward(roots, root_grads, retain_graph=False, create_graph=False, capture=None):
    """Backpropagate `root_grads` from `roots`.

    Without `capture`, gradients accumulate into `.grad` of leaves (and of tensors that called
    `retain_grad()`). With `capture` (a list of tensors), their gradients are returned instead
    and no `.grad` is touched.
    """
    from .tensor import Tensor

    grads, leaves = {}, {}
    for r, g in zip(roots, root_grads):
        _accumulate(grads, id(r), g)
        if r.creator is None:
            leaves[id(r)] = r
    wanted = {id(t): t for t in capture} if capture is not None else None
    found = {}

    with mode.set_grad_enabled(create_graph):
        for fn in reversed(topological_order(roots)):
            outs = [ref() for ref in fn.outputs]
            gys = [grads.pop(id(o), None) if o is not None else None for o in outs]
            if all(g is None for g in gys):
                continue
            if fn.released:
                raise RuntimeError(FREED_GRAPH.format(op=type(fn).__name__))
            for o, g in zip(outs, gys):
                if o is not None and g is not None:
                    if wanted is not None and id(o) in wanted:
                        found[id(o)] = g
                    elif wanted is None and o.retains_grad:
                        _store_grad(o, g, create_graph)
            gys = [np.zeros_like(fn.outputs[i]().data) if g is None else g for i, g in enumerate(gys)]
            gxs = _call_backward(fn, gys, outs, create_graph)
            if mode.anomaly:
                check_finite(fn, "backward", gxs)
            for t, gx, need in zip(fn.inputs, gxs, fn.needs_input_grad):
                if not need or gx is None:
                    continue
                if create_graph and not isinstance(gx, Tensor):
                    gx = Tensor(gx)
                if gx.shape != t.shape:
                    gx = sum_to(gx, t.shape)
                _accumulate(grads, id(t), gx)
                if t.creator is None:
                    leaves[id(t)] = t
            if not retain_graph:
                fn.__dict__.clear()
                fn.released = True

    if wanted is not None:
        for key in wanted:
            if key in leaves:
                found[key] = grads[key]
        return [found.get(id(t)) for t in capture]
    for key, t in leaves.items():
        if t.requires_grad:
            _store_grad(t, grads[key], create_graph)
    return None


def _accumulate(grads: dict, key: int, g) -> None:
    prev = grads.get(key)
    grads[key] = g if prev is None else prev + g


def _store_grad(t, g, create_graph: bool) -> None:
    """Add `g` into `t.grad` (a new array each time: gradients are never modified in place)."""
    from .tensor import Tensor

    if not isinstance(g, Tensor):
        g = Tensor(g)
    elif not create_graph:
        g = g.detach()
    if t.grad is None:
        t.grad = g
    elif create_graph:
        t.grad = t.grad + g
    else:
        t.grad = Tensor(t.grad.data + g.data)


def _call_backward(fn: Function, gys, outs, create_graph: bool) -> tuple:
    """Run fn.backward; under create_graph, on Tensors so that the gradients are differentiable."""
    if not create_graph:
        gxs = fn.backward(*gys)
        return gxs if isinstance(gxs, tuple) else (gxs,)
    from .functions import tensor_ops
    from .tensor import Tensor

    # Show backward the recorded Tensors in place of the arrays it saved (matched by identity).
    live = {id(t.data): t for t in fn.inputs}
    live.update({id(o.data): o for o in outs if o is not None})
    saved = dict(fn.__dict__)
    for key, value in saved.items():
        if id(value) in live:
            fn.__dict__[key] = live[id(value)]
    fn.xp = tensor_ops
    try:
        gxs = fn.backward(*[g if isinstance(g, Tensor) else Tensor(g) for g in gys])
    finally:
        fn.__dict__.clear()
        fn.__dict__.update(saved)
    return gxs if isinstance(gxs, tuple) else (gxs,)
