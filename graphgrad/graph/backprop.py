"""Training gradients of a static graph: the engine's reverse sweep, never a dense Jacobian.

A static graph's operations are recorded by the eager engine as they are evaluated (node.py), so
the gradient of a scalar target is one `run_backward` from the target's Tensor, capturing the
gradients of the asked-for nodes: batched vector-Jacobian products on whole mini-batches, the
same sweep (and the same code) as `loss.backward()`.
"""
from __future__ import annotations

import numpy as np

from ..autograd.engine import run_backward
from ..backend import is_floating, shared_ones, to_numpy
from .node import Constant, Node, Variable, _invalidate_children


def gradients(target: Node, variables, grad=None) -> list:
    """d target / d each variable, as arrays shaped like the variables (batched VJPs, no Jacobians).

    `target` must be a scalar unless `grad` (d something / d target, shaped like it) is given.
    """
    variables = tuple(variables)
    graph = target.graph
    for v in variables:
        if getattr(v, "graph", None) is not graph:
            raise ValueError(
                f"gradients: {getattr(v, 'name', v)!r} is not a node of the graph of target {target.name!r}"
            )
        if isinstance(v, Constant) and v.number is not None:
            raise ValueError(f"gradients: {v.name!r} is the number {v.number}, a constant with no gradient")
        if isinstance(v, Variable) and v._tensor is not None and not v._tensor.requires_grad \
                and is_floating(v._tensor.dtype):
            v.wants_grad = v._tensor.requires_grad = True  # an input: record what depends on it again
            _invalidate_children(v)
    value = target.forward()
    if grad is None:
        if value.size != 1:
            raise ValueError(
                f"gradients: target {target.name!r} has shape {value.shape}, not a scalar; reduce it "
                f"(e.g. .mean()) or pass grad= shaped like it"
            )
        grad = shared_ones(value)
    elif np.shape(grad) != value.shape:
        raise ValueError(f"gradients: grad has shape {np.shape(grad)}, target {target.name!r} has {value.shape}")
    else:
        grad = np.asarray(grad, dtype=value.dtype)
    out = target._tensor
    if not out.requires_grad:  # nothing trainable upstream
        return [np.zeros_like(v.forward()) for v in variables]
    found = run_backward([out], [grad], retain_graph=True, capture=[v._tensor for v in variables])
    return [np.zeros_like(v._value) if g is None else _array(g, v._value) for v, g in zip(variables, found)]


def _array(g, like) -> np.ndarray:
    """A gradient as an array shaped like its node (a scalar graph's gradient comes as a NumPy scalar)."""
    if type(g) is np.ndarray:
        return g
    return np.asarray(to_numpy(g) if hasattr(g, "__array_namespace__") and not isinstance(g, np.generic) else g).reshape(np.shape(like))
