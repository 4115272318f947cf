"""Dataset: indexable samples; TensorDataset: aligned arrays indexed together, a whole batch at once."""
from __future__ import annotations

import numpy as np


class Dataset:
    """Base class: `len(ds)` samples, and `ds[indices]` returns a whole batch for an index array.

    Subclasses implement `__getitem__` so that an integer array of indices gathers all those
    samples in one vectorised step; the DataLoader never asks for samples one by one.
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__()")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(indices)")


class TensorDataset(Dataset):
    """Samples are rows of one or more arrays (or Tensors) with the same first dimension."""

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
