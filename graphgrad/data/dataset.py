"""Datasets in PyTorch's form: `Dataset` (per sample), `TensorDataset` (whole batches), `Subset`, `random_split`.

A dataset is anything with `len(ds)` and `ds[i]`, the i-th sample (PyTorch's map-style dataset);
the DataLoader fetches samples one by one and collates them. A dataset that sets `batched = True`
promises more: `ds[index_array]` returns the whole batch at once, as the samples stacked. The
DataLoader then gathers each batch with one vectorised index instead of a Python loop over samples
(`TensorDataset`, graphgrad's MNIST); a `Subset` is batched when its dataset is.
"""
from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np

from ..nn.init import get_generator


class Dataset:
    """Base class: `len(ds)` samples and `ds[i]` the i-th one; set `batched = True` if `ds[indices]` gathers a batch."""

    batched = False

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__()")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index)")


class TensorDataset(Dataset):
    """Samples are rows of one or more arrays (or Tensors) with the same first dimension; batched."""

    batched = True

    def __init__(self, *arrays):
        """A dataset over arrays (or tensors) that share their first axis; item i is the i-th row of each."""
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        self.arrays = tuple(a.numpy() if hasattr(a, "creator") else np.asarray(a) for a in arrays)
        n = len(self.arrays[0])
        shapes = [a.shape for a in self.arrays]
        if any(a.ndim == 0 or len(a) != n for a in self.arrays):
            raise ValueError(
                f"TensorDataset: every array needs the same number of rows, got shapes {shapes}"
            )

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index) -> tuple:
        """The rows at `index` (an int, a slice or an index array) of every array, as a tuple."""
        return tuple([a[index] for a in self.arrays])


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order: `Subset(ds, [4, 0])[1]` is `ds[0]`."""

    def __init__(self, dataset, indices: Sequence[int]):
        """A view of `dataset` restricted to `indices`."""
        self.dataset, self.indices = dataset, indices
        self._positions = np.asarray(indices, dtype=np.intp).reshape(-1)

    @property
    def batched(self) -> bool:
        """A subset of a batched dataset gathers whole batches too."""
        return bool(getattr(self.dataset, "batched", False))

    def __len__(self) -> int:
        return len(self._positions)

    def __getitem__(self, index):
        """Sample `index` of the subset; an index array or slice (batched datasets only) gathers a batch."""
        if isinstance(index, (int, np.integer)):
            return self.dataset[int(self._positions[index])]
        return self.dataset[self._positions[index]]


def random_split(dataset, lengths: Sequence[int | float], generator=None) -> list[Subset]:
    """Split `dataset` into non-overlapping random `Subset`s of the given lengths (or fractions summing to 1).

    Fractions become lengths as PyTorch's do: floor(n·f) each, the remainder handed out one by one
    from the first subset. `generator`: a numpy Generator or an int seed; None draws from the default
    generator (`graphgrad.nn.init.manual_seed`). The permutation is NumPy's, so the subsets are not
    PyTorch's for the same seed.
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1 and all(0 <= f <= 1 for f in lengths):
        sizes = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"random_split: length of split {i} is 0 ({lengths[i]} of {n} samples)", stacklevel=2)
        lengths = sizes
    if any(isinstance(v, float) and not float(v).is_integer() for v in lengths) or any(v < 0 for v in lengths):
        raise ValueError(f"random_split: lengths must be non-negative integers or fractions summing to 1, "
                         f"got {lengths}")
    lengths = [int(v) for v in lengths]
    if sum(lengths) != n:
        raise ValueError(f"random_split: the lengths {lengths} sum to {sum(lengths)}, but the dataset has {n} samples")
    order = get_generator(generator).permutation(n)
    ends = np.cumsum(lengths)
    return [Subset(dataset, order[end - size:end].tolist()) for size, end in zip(lengths, ends)]
