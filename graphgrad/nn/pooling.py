"""Pooling, padding and reshaping layers for convolutional networks (PyTorch's names and arguments)."""
from __future__ import annotations

from ..autograd.tensor import Tensor
from .. import ops
from ..ops.pooling import AvgPool1d as _AvgPool1dOp, AvgPool2d as _AvgPool2dOp
from ..ops.pooling import MaxPool1d as _MaxPool1dOp, MaxPool2d as _MaxPool2dOp, with_indices
from .module import Module


class MaxPool2d(Module):
    """The maximum over each kernel_size window of (N, C, H, W) inputs (stride defaults to kernel_size)."""

    op = _MaxPool2dOp

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False):
        """PyTorch's constructor arguments (see the class docstring)."""
        super().__init__()
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x):
        """Apply the layer to a batch (see the class docstring)."""
        op = self.op(self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode, self.return_indices)
        return with_indices(op, x)

    def extra_repr(self) -> str:
        """The layer's settings, for repr()."""
        return (f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(MaxPool2d):
    """The maximum over each kernel_size window of (N, C, L) inputs."""

    op = _MaxPool1dOp


class AvgPool2d(Module):
    """The mean over each kernel_size window of (N, C, H, W) inputs (zero padding)."""

    op = _AvgPool2dOp

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True):
        """PyTorch's constructor arguments (see the class docstring)."""
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, x) -> Tensor:
        """Apply the layer to a batch (see the class docstring)."""
        return self.op(self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)(x)

    def extra_repr(self) -> str:
        """The layer's settings, for repr()."""
        return f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, padding={self.padding}"


class AvgPool1d(AvgPool2d):
    """The mean over each kernel_size window of (N, C, L) inputs."""

    op = _AvgPool1dOp


class AdaptiveAvgPool2d(Module):
    """The mean over output_size bins of (N, C, H, W) inputs, whatever H and W are."""

    def __init__(self, output_size):
        """PyTorch's constructor arguments (see the class docstring)."""
        super().__init__()
        self.output_size = output_size

    def forward(self, x) -> Tensor:
        """Apply the layer to a batch (see the class docstring)."""
        return ops.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        """The layer's settings, for repr()."""
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(AdaptiveAvgPool2d):
    """The maximum over output_size bins of (N, C, H, W) inputs."""

    def __init__(self, output_size, return_indices: bool = False):
        """PyTorch's constructor arguments (see the class docstring)."""
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, x):
        """Apply the layer to a batch (see the class docstring)."""
        return ops.adaptive_max_pool2d(x, self.output_size, self.return_indices)


class ZeroPad2d(Module):
    """Zeros around (N, C, H, W) inputs: an int for every side, or (left, right, top, bottom)."""

    def __init__(self, padding):
        """PyTorch's constructor arguments (see the class docstring)."""
        super().__init__()
        self.padding = (padding,) * 4 if isinstance(padding, int) else tuple(padding)
        if len(self.padding) != 4:
            raise ValueError(f"ZeroPad2d: padding must be an int or (left, right, top, bottom), got {padding!r}")

    def forward(self, x) -> Tensor:
        """Apply the layer to a batch (see the class docstring)."""
        return ops.pad(x, self.padding, "constant", 0.0)

    def extra_repr(self) -> str:
        """The layer's settings, for repr()."""
        return f"{self.padding}"


class Unflatten(Module):
    """Split axis `dim` into `unflattened_size`: (N, 784) -> (N, 1, 28, 28) with Unflatten(1, (1, 28, 28))."""

    def __init__(self, dim: int, unflattened_size):
        """PyTorch's constructor arguments (see the class docstring)."""
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x) -> Tensor:
        """Apply the layer to a batch (see the class docstring)."""
        shape = tuple(x.shape)
        d = self.dim % len(shape)
        size = self.unflattened_size
        known = 1
        for n in size:
            known *= n if n != -1 else 1
        if (-1 not in size and known != shape[d]) or (-1 in size and shape[d] % known):
            raise ValueError(f"Unflatten: axis {self.dim} of size {shape[d]} (input {shape}) cannot be split "
                             f"into {size}")
        return ops.reshape(x, shape[:d] + size + shape[d + 1:])

    def extra_repr(self) -> str:
        """The layer's settings, for repr()."""
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
