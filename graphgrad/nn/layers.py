"""Layers: Linear (alias Affine), activations, Flatten, Dropout, Dropout2d, Identity, and the Sequential container."""
from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np

from ..ops.activations import ReLU as _ReLUOp
from ..ops.linear import Linear as _LinearOp
from ..autograd.tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class Linear(Module):
    """y = x @ weightᵀ + bias, with `weight` of shape (out_features, in_features) as in PyTorch.

    Weights and bias start as U(-1/√in, 1/√in), PyTorch's default; pass `generator` (seed or
    numpy Generator) to make them reproducible, `dtype` for float64.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None, generator=None):
        """Weight (out_features, in_features), bias (out_features,), initialised as PyTorch's; seeded by `generator`."""
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        dtype = np.dtype(dtype or np.float32)
        rng = init.get_generator(generator)
        bound = 1.0 / math.sqrt(in_features) if in_features > 0 else 0.0
        # (out, in) like PyTorch, stored column-major: x @ weight.T is then a plain BLAS product.
        self.weight = Parameter(np.empty((in_features, out_features), dtype=dtype).T)
        init.uniform_(self.weight, -bound, bound, rng)
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype=dtype))
            init.uniform_(self.bias, -bound, bound, rng)
        else:
            self.register_parameter("bias", None)

    def forward(self, x) -> Tensor:
        """x @ weightᵀ + bias over the last axis of x."""
        if self.bias is None:
            return _LinearOp()(x, self.weight)
        return _LinearOp()(x, self.weight, self.bias)  # called directly: this runs every step

    def extra_repr(self) -> str:
        """The layer's sizes and whether it has a bias, for repr()."""
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


Affine = Linear  # the textbook's name


class Identity(Module):
    """y = x."""

    def forward(self, x):
        """x itself."""
        return x


class Flatten(Module):
    """Merge axes start_dim..end_dim (by default every axis but the batch axis)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        """Flatten axes start_dim..end_dim (inclusive) into one."""
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x) -> Tensor:
        """x with axes start_dim..end_dim merged into one."""
        return F.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        """The flattened axes, for repr()."""
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class ReLU(Module):
    """y = max(x, 0)."""

    def forward(self, x) -> Tensor:
        """max(x, 0), elementwise."""
        return _ReLUOp()(x)  # the op itself, not F.relu: this runs every step


class LeakyReLU(Module):
    """y = x for x > 0, negative_slope·x otherwise."""

    def __init__(self, negative_slope: float = 0.01):
        """A ReLU that lets negative_slope × x through below 0."""
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x) -> Tensor:
        """x where x > 0, negative_slope × x elsewhere."""
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        """The negative slope, for repr()."""
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """y = 1 / (1 + e⁻ˣ)."""

    def forward(self, x) -> Tensor:
        """1 / (1 + exp(-x)), elementwise."""
        return F.sigmoid(x)


class Tanh(Module):
    """y = tanh x."""

    def forward(self, x) -> Tensor:
        """tanh(x), elementwise."""
        return F.tanh(x)


class Softmax(Module):
    """y = e^x / Σ e^x along `dim`."""

    def __init__(self, dim: int = -1):
        """Softmax over axis `dim`."""
        super().__init__()
        self.dim = dim

    def forward(self, x) -> Tensor:
        """exp(x) / Σ exp(x) along `dim`, computed stably."""
        return F.softmax(x, self.dim)

    def extra_repr(self) -> str:
        """The axis, for repr()."""
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """y = x - log Σ e^x along `dim`."""

    def forward(self, x) -> Tensor:
        """x - logsumexp(x) along `dim`."""
        return F.log_softmax(x, self.dim)


class Dropout(Module):
    """Inverted dropout: in training, zero each element with probability p and scale the rest by 1/(1-p); identity in eval."""

    def __init__(self, p: float = 0.5, generator=None):
        """Zero each element with probability p while training (inverted dropout); `generator` seeds the masks."""
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: probability p must be in [0, 1], got {p}")
        self.p = p
        # A seed becomes this layer's own stream, so each call draws a new mask.
        self.generator = init.get_generator(generator) if generator is not None else None

    def forward(self, x) -> Tensor:
        """x with a random mask applied and scaled by 1 / (1 - p) in training; x itself in eval."""
        return F.dropout(x, self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        """The drop probability, for repr()."""
        return f"p={self.p}"


class Dropout2d(Dropout):
    """Channel dropout: in training, zero each whole channel with probability p and scale the rest by 1/(1-p)."""

    def forward(self, x) -> Tensor:
        """Apply the layer to a batch (see the class docstring)."""
        return F.dropout2d(x, self.p, self.training, self.generator)


class Sequential(Module):
    """Modules applied one after another; built from modules or from an OrderedDict of named ones."""

    def __init__(self, *modules):
        """The modules to apply in order, registered as children '0', '1', ..."""
        super().__init__()
        named = modules[0].items() if len(modules) == 1 and isinstance(modules[0], OrderedDict) else (
            (str(i), m) for i, m in enumerate(modules))
        for name, module in named:
            if not isinstance(module, Module):
                raise TypeError(f"Sequential: item {name!r} is of type {type(module).__name__}, not a Module")
            self.add_module(name, module)

    def forward(self, x):
        """x through every module in order."""
        for module in self._modules.values():
            x = module(x)  # through __call__, so that the modules' hooks run
        return x

    def append(self, module: Module) -> "Sequential":
        """Add `module` at the end."""
        self.add_module(str(len(self._modules)), module)
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        return items[index][1]
