"""Parameter: a leaf tensor that a Module registers as trainable."""
from __future__ import annotations

import numpy as np

from ..backend import as_array
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
