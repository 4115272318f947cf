"""SyncBatchNorm: batch norm whose statistics are those of the whole global batch, over all ranks.

Built from graphgrad's ops and one differentiable all-reduce, so backward follows by the chain
rule. The all-reduce's backward is written in DistributedDataParallel's convention: rank r's
gradients are averaged with weight w_r = n_r / N (its share of the global batch), so the
gradient rank r must hold for its input is the global one divided by w_r:
gx_r = (sum over ranks r' of w_r' gy_r') / w_r. With it, a network with SyncBatchNorm trained on
N ranks under DistributedDataParallel gets the gradients of the single-process network with
BatchNorm1d/BatchNorm2d on the whole batch (tested to 1e-12, uneven shares included).
"""
from __future__ import annotations

import math

import numpy as np

import graphgrad

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..nn.module import Module
from ..nn.normalization import BatchNorm1d
from .comm import all_reduce


class _AllReduceSum(Function):
    """y = the sum of x over the ranks; gx = (sum over ranks of w·gy) / w, w this rank's share of the batch."""

    def __init__(self, share: float):
        self.share = share

    def forward(self, x):
        return all_reduce(x)

    def backward(self, gy):
        if isinstance(gy, Tensor):
            raise RuntimeError("SyncBatchNorm: backward with create_graph=True is not supported "
                               "(its gradient needs an all-reduce)")
        total = all_reduce(gy * self.share)
        return total / self.share if self.share else np.zeros_like(total)


class SyncBatchNorm(BatchNorm1d):
    """BatchNorm1d/2d with the mean and variance of the global batch, all-reduced over the MPI ranks.

    Takes (N, C), (N, C, L) and (N, C, H, W) inputs. Same parameters, buffers and state_dict as
    BatchNorm1d/2d (a checkpoint loads into either). In training each forward costs three small
    all-reduces (the sample count, the sums, the squared deviations), and backward two more; every
    rank must run it on every step, also with an empty share. In eval mode it normalises by the
    running statistics.
    """

    ranks, layout = (2, 3, 4), "(N, {c}), (N, {c}, L) or (N, {c}, H, W)"

    @classmethod
    def convert_sync_batchnorm(cls, module: Module) -> Module:
        """`module` with every BatchNorm1d/2d in it replaced by a SyncBatchNorm holding the same
        parameters and buffers (so an optimizer built on them keeps working); returns the new root."""
        if isinstance(module, BatchNorm1d) and not isinstance(module, cls):
            synced = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats)
            for name, value in list(module._parameters.items()):
                synced.register_parameter(name, value)
            for name, value in list(module._buffers.items()):
                synced.register_buffer(name, value)
            synced.train(module.training)
            return synced
        children = list(module.named_children())
        for name, child in children:  # every child again, in order (setting one moves it to the end)
            setattr(module, name, cls.convert_sync_batchnorm(child))
        return module

    def forward(self, x) -> Tensor:
        """x normalised by statistics over every rank's batch (training) or by the running ones."""
        if not self.training and self.track_running_stats:
            return super().forward(x)
        data = x.data if isinstance(x, Tensor) else np.asarray(x)
        if data.ndim not in self.ranks or data.shape[1] != self.num_features:
            raise ValueError(f"SyncBatchNorm({self.num_features}): expected input of shape "
                             f"{self.layout.format(c=self.num_features)}, got {data.shape}")
        axes = (0, *range(2, data.ndim))
        rows = int(all_reduce(np.array(len(data), dtype=np.int64)))
        count = rows * math.prod(data.shape[2:])
        if count < 2:
            raise ValueError(f"SyncBatchNorm: training needs more than one value per channel over all ranks, "
                             f"got {count}")
        share = len(data) / rows
        mean = _AllReduceSum(share)(graphgrad.sum(x, axis=axes, keepdims=True)) / count
        centred = x - mean
        var = _AllReduceSum(share)(graphgrad.sum(centred * centred, axis=axes, keepdims=True)) / count
        out = centred / graphgrad.sqrt(var + self.eps)
        if self.track_running_stats:
            self.num_batches_tracked += 1
            m = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
            self.running_mean *= 1 - m
            self.running_mean += m * mean.data.reshape(-1)
            self.running_var *= 1 - m
            self.running_var += m * var.data.reshape(-1) * (count / (count - 1))
        shape = (1, self.num_features) + (1,) * (data.ndim - 2)
        if self.weight is not None:
            out = out * self.weight.reshape(shape) + self.bias.reshape(shape)
        return out
