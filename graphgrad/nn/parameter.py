"""Parameter: a leaf tensor that a Module registers as trainable; zero_grads, shared by Module and Optimizer."""
from __future__ import annotations

import numpy as np

from ..backend import as_array, namespace
from ..autograd.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that is a module's trainable weight: requires_grad by default, found by `parameters()`."""

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        """A tensor of `data` that a Module registers as a parameter; it wants a gradient by default."""
        if data is None:
            data = np.empty(0, dtype=np.float32)
        data = data.data if isinstance(data, Tensor) else data
        super().__init__(as_array(data), requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def zero_grads(parameters, set_to_none: bool = True) -> None:
    """Set each parameter's gradient to None, or (set_to_none=False) to zeros in the same grad Tensor.

    The zeros are a new array of the grad's library and device, so no foreign array is written in place.
    """
    for p in parameters:
        g = p.grad
        if set_to_none or g is None:
            p.grad = None
        else:
            g.data = namespace(g.data).zeros_like(g.data)
