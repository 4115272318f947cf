"""Normalisation layers: BatchNorm1d/2d (per channel, over the batch) and LayerNorm (per sample)."""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from . import functional as F
from .module import Module
from .parameter import Parameter


class BatchNorm1d(Module):
    """Normalise each of `num_features` channels by batch statistics in training, running statistics in eval.

    running = (1 - momentum)·running + momentum·batch (momentum=None: cumulative average);
    the running variance is the unbiased one, as in PyTorch.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, dtype=None):
        """Batch normalisation over the feature axis of (N, C) or (N, C, L) inputs, with PyTorch's arguments."""
        super().__init__()
        dtype = np.dtype(dtype or np.float32)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dtype))
            self.bias = Parameter(np.zeros(num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    ranks, layout = (2, 3), "(N, {c}) or (N, {c}, L)"

    def forward(self, x) -> Tensor:
        """x normalised by the batch's statistics in training (updating the running ones), else the running ones."""
        shape = np.shape(x.data if isinstance(x, Tensor) else x)
        if len(shape) not in self.ranks or shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}({self.num_features}): expected input of shape "
                f"{self.layout.format(c=self.num_features)}, got {shape}"
            )
        use_batch = self.training or not self.track_running_stats
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1  # a 0-d array, updated in place so state_dict sees it
        return F.batch_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias, training=use_batch,
            momentum=self.momentum, eps=self.eps, num_batches_tracked=self.num_batches_tracked,
        )

    def extra_repr(self) -> str:
        """The layer's settings, for repr()."""
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm2d(BatchNorm1d):
    """Normalise each of `num_features` channels of (N, C, H, W) inputs over the batch and the image.

    Running statistics, momentum, eps, affine and track_running_stats as BatchNorm1d (and PyTorch).
    """

    ranks, layout = (4,), "(N, {c}, H, W)"


class LayerNorm(Module):
    """Normalise each sample over its last axes (`normalized_shape`), then scale and shift elementwise."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, dtype=None):
        """Layer normalisation over the trailing `normalized_shape` axes, with a learnable scale and shift."""
        super().__init__()
        dtype = np.dtype(dtype or np.float32)
        self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
            self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x) -> Tensor:
        """x normalised over its trailing axes, then scaled and shifted."""
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        """The layer's settings, for repr()."""
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
