"""PyTorch's nn.utils for gradients and parameters: clip_grad_norm_, clip_grad_value_,
parameters_to_vector, vector_to_parameters.

Clipping gives each parameter a new gradient array (computed in the gradient's own library, on
its device) rather than writing into the old one: gradients may be shared, and not every array
library can be written in place.
"""
from __future__ import annotations

import math
from typing import Iterable

from .. import ops
from ..autograd.tensor import Tensor
from ..backend import devices, namespace


def _params(parameters) -> list:
    """A single tensor or an iterable of tensors, as a list."""
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def clip_grad_norm_(parameters: Iterable | Tensor, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale the gradients so that their total norm (as if concatenated; `norm_type` p, or inf) is at most
    `max_norm`; return the total norm before clipping. Parameters without a gradient are skipped."""
    grads = [p.grad for p in _params(parameters) if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return Tensor(0.0)
    if norm_type == math.inf:
        norms = [namespace(g.data).max(namespace(g.data).abs(g.data)) for g in grads]
        total = norms[0]
        for n in norms[1:]:
            total = namespace(total).maximum(total, n)
    else:
        total = sum(_power_sum(g.data, norm_type) for g in grads) ** (1.0 / norm_type)
    value = float(total)
    if error_if_nonfinite and not math.isfinite(value):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {value}, so they cannot "
            f"be clipped; pass error_if_nonfinite=False to clip anyway"
        )
    coef = float(max_norm) / (value + 1e-6)
    if coef < 1.0:
        for g in grads:
            g.data = g.data * coef  # a Python float keeps the gradient's dtype
    return Tensor(total)


def _power_sum(g, p: float):
    """Σ |g|^p (Σ g² for p = 2, without abs)."""
    xp = namespace(g)
    return xp.sum(g * g) if p == 2.0 else xp.sum(xp.abs(g) ** p)


def clip_grad_value_(parameters: Iterable | Tensor, clip_value: float) -> None:
    """Clip every gradient elementwise into [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    for p in _params(parameters):
        if p.grad is not None:
            g = p.grad.data
            p.grad.data = namespace(g).clip(g, -clip_value, clip_value)


def parameters_to_vector(parameters: Iterable) -> Tensor:
    """The parameters flattened and concatenated into one vector (differentiable: it is a graph of ops)."""
    params = _params(parameters)
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    _check_one_device("parameters_to_vector", params)
    return ops.concatenate([ops.reshape(p, (-1,)) for p in params], 0)


def vector_to_parameters(vec: Tensor, parameters: Iterable) -> None:
    """Copy consecutive slices of the vector `vec` into the parameters, in order (each keeps its array)."""
    params = _params(parameters)
    data = vec.data if isinstance(vec, Tensor) else vec
    if len(data.shape) != 1:
        raise TypeError(f"vector_to_parameters: expected a 1-D vector, got shape {tuple(data.shape)}")
    needed = sum(math.prod(p.shape) for p in params)
    if data.shape[0] != needed:
        raise ValueError(f"vector_to_parameters: the vector has {data.shape[0]} elements, the parameters {needed}")
    _check_one_device("vector_to_parameters", params)
    start = 0
    for p in params:
        n = math.prod(p.shape)
        devices.copy_into(p.data, namespace(data).reshape(data[start:start + n], tuple(p.shape)))
        start += n


def _check_one_device(op: str, params: list) -> None:
    where = {str(devices.device_of(p.data)) for p in params}
    if len(where) > 1:
        raise RuntimeError(
            f"{op}: the parameters are on different devices ({', '.join(sorted(where))}); move them to one"
        )
