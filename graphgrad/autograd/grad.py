"""autograd.grad: gradients of outputs with respect to chosen inputs, without `.grad`."""
from __future__ import annotations

import numpy as np

from ..backend import namespace
from .engine import run_backward
from .tensor import Tensor


def _as_tuple(x) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Return d(outputs)/d(inputs) as a tuple of Tensors (one per input), leaving `.grad` untouched."""
    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    grad_outputs = _as_tuple(grad_outputs)
    roots, seeds = [], []
    for out, g in zip(outputs, grad_outputs):
        if not out.requires_grad:
            raise RuntimeError("autograd.grad: an output does not require grad (no input of it requires grad)")
        if g is None:
            if out.numel() != 1:
                raise RuntimeError(
                    f"autograd.grad: output of shape {out.shape} is not a scalar; pass grad_outputs"
                )
            g = namespace(out.data).ones_like(out.data)
        elif not (create_graph and isinstance(g, Tensor)):
            g = g.data if isinstance(g, Tensor) else g
            g = np.asarray(g, dtype=out.dtype) if isinstance(out.data, np.ndarray) else g
        roots.append(out)
        seeds.append(Tensor(g) if create_graph and not isinstance(g, Tensor) else g)
    retain = create_graph if retain_graph is None else retain_graph
    found = run_backward(roots, seeds, retain_graph=retain, create_graph=create_graph, capture=inputs)
    result = []
    for t, g in zip(inputs, found):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    "autograd.grad: one of the inputs was not used to compute the outputs; "
                    "pass allow_unused=True to get None for it"
                )
            result.append(None)
        else:
            result.append(g if isinstance(g, Tensor) else Tensor(g))
    return tuple(result)
