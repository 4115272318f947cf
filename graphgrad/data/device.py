"""Batches on the model's device: one copy per batch array, never one per sample.

The DataLoader gathers a whole batch on the host with one vectorised index, then (with `device=`)
hands it to `to_device`, which moves each array of the batch to the device in a single transfer.
`pin_memory` is accepted for PyTorch compatibility and changes nothing: on the CPU there is
nothing to pin, and on CUDA graphgrad copies from ordinary host memory.
"""
from __future__ import annotations

from ..backend import devices


def to_device(batch, device):
    """`batch` (a Tensor, an array, or a tuple/list/dict of them) with every array on `device`."""
    return devices.move(batch, device)


__all__ = ["to_device"]
