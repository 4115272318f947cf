"""Convolution layers: Conv1d, Conv2d and ConvTranspose2d (PyTorch's arguments and initialisation)."""
from __future__ import annotations

import math

import numpy as np

from ..autograd.tensor import Tensor
from ..ops.conv import Conv1d as _Conv1dOp, Conv2d as _Conv2dOp, ConvTranspose2d as _ConvTranspose2dOp, pair
from . import init
from .module import Module
from .parameter import Parameter


def _init_weight_and_bias(layer: Module, weight_shape: tuple, fan_in: int, bias: bool, dtype, generator) -> None:
    """PyTorch's default: weight kaiming_uniform(a=√5), i.e. U(±1/√fan_in), and bias U(±1/√fan_in)."""
    rng = init.get_generator(generator)
    layer.weight = Parameter(np.empty(weight_shape, dtype=dtype))
    init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=rng)
    if bias:
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        layer.bias = Parameter(np.empty(weight_shape[0] if not layer.transposed else weight_shape[1] * layer.groups,
                                        dtype=dtype))
        init.uniform_(layer.bias, -bound, bound, rng)
    else:
        layer.register_parameter("bias", None)


class _ConvNd(Module):
    spatial, transposed, op = 2, False, _Conv2dOp

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", dtype=None, generator=None):
        super().__init__()
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported, got {padding_mode!r}; "
                             f"pad explicitly with graphgrad.pad(x, pad, mode) first")
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels {in_channels} and out_channels {out_channels} must be "
                             f"divisible by groups={groups}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair(name, "kernel_size", kernel_size, self.spatial)
        self.stride, self.dilation = stride, dilation
        self.padding = padding
        dtype = np.dtype(dtype or np.float32)
        receptive = math.prod(self.kernel_size)
        if self.transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
            fan_in = out_channels // groups * receptive  # PyTorch's fan_in of the (in, out/g, k...) weight
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
            fan_in = in_channels // groups * receptive
        _init_weight_and_bias(self, shape, fan_in, bias, dtype, generator)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}")
        if self.dilation != 1:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + f", bias={self.bias is not None}"


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation) of (N, in_channels, H, W) inputs, PyTorch's Conv2d.

    weight (out_channels, in_channels/groups, kh, kw) and bias start as U(±1/√fan_in), PyTorch's
    default; pass `generator` (seed or numpy Generator) to make them reproducible, `dtype` for float64.
    """

    def forward(self, x) -> Tensor:
        """Apply the layer to a batch (see the class docstring)."""
        op = self.op(self.stride, self.padding, self.dilation, self.groups)
        return op(x, self.weight) if self.bias is None else op(x, self.weight, self.bias)


class Conv1d(Conv2d):
    """1-D convolution of (N, in_channels, L) inputs, PyTorch's Conv1d (weight (out, in/groups, k))."""

    spatial, op = 1, _Conv1dOp


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution (the gradient of Conv2d w.r.t. its input), PyTorch's ConvTranspose2d.

    weight is (in_channels, out_channels/groups, kh, kw); `output_padding` adds rows/columns at the
    end of the output to pick among the sizes a strided Conv2d maps to the same size.
    """

    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros", dtype=None,
                 generator=None):
        """PyTorch's constructor arguments (see the class docstring)."""
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, dtype, generator)
        self.output_padding = output_padding

    def forward(self, x) -> Tensor:
        """Apply the layer to a batch (see the class docstring)."""
        op = _ConvTranspose2dOp(self.stride, self.padding, self.output_padding, self.groups, self.dilation)
        return op(x, self.weight) if self.bias is None else op(x, self.weight, self.bias)
