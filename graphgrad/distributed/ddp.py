"""DistributedDataParallel: the same model on every rank, gradients averaged over the global batch.

Each rank runs forward and backward on its share of the global batch; `sync_gradients()` then
all-reduces the gradients, flattened into a few large buckets (one `Allreduce` each, always in
parameter order, so that every rank receives bit-identical sums), and leaves on every rank the
gradient of the whole global batch. Shares may be uneven: rank r's gradient is weighted by its
number of samples n_r, so the result is sum_r n_r g_r / sum_r n_r, which is the single-process
gradient of a loss that is a mean over the batch (graphgrad's losses are, by default).

Overlap with backward is not done: graphgrad's engine stores a leaf's gradient the moment it is
computed and has no per-parameter hook that says "this gradient is final", so the buckets are
reduced in one explicit step after `loss.backward()`. On a few cores overlap would not pay
anyway: MPI makes progress only inside MPI calls unless it has spare cores for a progress thread.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.tensor import Tensor
from .comm import broadcast_parameters, init
from ..autograd.tensor import unwrap


class DistributedDataParallel:
    """Wrap `module` for data-parallel training: calls go to the module, `sync_gradients()` averages.

    Construction broadcasts rank 0's parameters and buffers to every rank. Every other attribute
    (`parameters()`, `state_dict()`, `train()`, `eval()`, ...) is the wrapped module's, so a
    checkpoint of a distributed run loads into a plain model and back. `BatchNorm1d` normalises
    each rank's share with that share's statistics; `SyncBatchNorm` uses the global batch's.
    """

    def __init__(self, module, bucket_cap_mb: float = 25.0):
        """Wrap `module`; gradients are averaged over the ranks in buckets of about `bucket_bytes`."""
        if not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got {bucket_cap_mb}")
        self.__dict__.update(module=module, _samples=None, _world=init())
        broadcast_parameters(module)
        self.params = [p for p in module.parameters() if p.requires_grad]
        self.buckets = _plan_buckets(self.params, bucket_cap_mb * 2**20)

    def __call__(self, *args, **kwargs):
        """Run the module; remember the batch size (leading dimension of the first argument)."""
        first = args[0] if args else None
        shape = getattr(unwrap(first), "shape", ())
        self._samples = shape[0] if shape else None
        return self.module(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["module"], name)

    @property
    def bytes_per_step(self) -> int:
        """Bytes of gradient each rank all-reduces per step (the counts add 8 per parameter, plus 8)."""
        return sum(int(flat_size) * dtype.itemsize for _, dtype, flat_size in self.buckets)

    def sync_gradients(self, samples: int | None = None) -> None:
        """Replace every parameter's gradient by the global-batch gradient; call after `loss.backward()`.

        `samples` is this rank's share of the batch (default: the batch size of the last call);
        a rank with an empty share passes 0 and contributes nothing. A parameter ends with a
        gradient on every rank if it had one on any rank, and stays None otherwise.
        """
        from mpi4py import MPI

        n = self._samples if samples is None else int(samples)
        if n is None or n < 0:
            raise ValueError(f"DistributedDataParallel.sync_gradients: samples must be a count >= 0, got {n}; "
                             f"call the model on a batch first or pass samples=<this rank's batch size>")
        # First the counts: the global batch size and which parameters any rank has a gradient for.
        local = np.array([n] + [n > 0 and p.grad is not None for p in self.params], dtype=np.float64)
        counts = np.empty_like(local)
        self._world.Allreduce(local, counts, op=MPI.SUM)
        total, has_grad = counts[0], counts[1:] > 0
        if total == 0:
            raise ValueError("DistributedDataParallel.sync_gradients: every rank has an empty batch")
        weight = n / total  # this rank's share of the mean over the global batch
        for params, dtype, flat_size in self.buckets:
            flat = np.zeros(flat_size, dtype=dtype)
            views = _views(flat, params)
            if n:
                for p, view in zip(params, views):
                    if p.grad is not None:
                        np.multiply(p.grad.data, weight, out=view)
            self._world.Allreduce(MPI.IN_PLACE, flat, op=MPI.SUM)
            for p, view in zip(params, views):
                p.grad = Tensor(view)
        for p, needed in zip(self.params, has_grad):
            if not needed:
                p.grad = None

    def __repr__(self) -> str:
        return f"DistributedDataParallel({self.module!r}, buckets={len(self.buckets)})"


def _views(flat: np.ndarray, params: list) -> list[np.ndarray]:
    """Consecutive pieces of `flat` shaped like each parameter and laid out in its memory order.

    A Linear weight is stored transposed (Fortran order); a gradient in C order would make the
    optimizer's `param -= lr * grad` walk memory across the grain (10x slower, measured).
    """
    views, start = [], 0
    for p in params:
        data = p.data
        order = "F" if data.flags.f_contiguous and not data.flags.c_contiguous else "C"
        views.append(flat[start:start + data.size].reshape(data.shape, order=order))
        start += data.size
    return views


def _plan_buckets(params: list, cap_bytes: float) -> list[tuple[list, np.dtype, int]]:
    """Consecutive parameters of one dtype grouped up to `cap_bytes`: (params, dtype, flat size) each."""
    buckets: list[tuple[list, np.dtype, int]] = []
    for p in params:
        dtype, size = p.data.dtype, p.data.size
        if buckets and buckets[-1][1] == dtype and (buckets[-1][2] + size) * dtype.itemsize <= cap_bytes:
            group, _, flat_size = buckets[-1]
            buckets[-1] = (group + [p], dtype, flat_size + size)
        else:
            buckets.append(([p], dtype, size))
    return buckets
