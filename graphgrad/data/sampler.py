"""Samplers, PyTorch's: the order in which a DataLoader visits a dataset's indices.

A sampler is any iterable of indices with a length (`graphgrad.distributed.DistributedSampler`
is one). Those here also give their whole epoch as one index array (`order()`), which the
DataLoader slices into batches without a Python loop. Random ones draw from `generator` (a numpy
Generator or an int seed); without one, from the default generator (`graphgrad.nn.init.manual_seed`),
each epoch afresh.
"""
from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from ..nn.init import get_generator


class Sampler:
    """Base class: `__iter__` yields the epoch's indices, `__len__` counts them."""

    def order(self) -> np.ndarray:
        """This epoch's indices as one array."""
        raise NotImplementedError(f"{type(self).__name__} must define order()")

    def __iter__(self) -> Iterator[int]:
        return iter(self.order().tolist())

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__()")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        """Visit `data_source` in order."""
        self.data_source = data_source

    def order(self) -> np.ndarray:
        """The indices in order."""
        return np.arange(len(self.data_source))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation each epoch; with `replacement=True`, `num_samples` independent uniform draws.

    Without replacement, `num_samples` beyond the dataset's length chains several permutations.
    """

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None, generator=None):
        """Shuffle `data_source`'s indices (or draw them with replacement) each epoch."""
        if num_samples is not None and (isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer))
                                        or num_samples <= 0):
            raise ValueError(f"RandomSampler: num_samples must be a positive integer, got {num_samples!r}")
        self.data_source, self.replacement, self.generator = data_source, bool(replacement), generator
        self._num_samples = num_samples

    @property
    def num_samples(self) -> int:
        """How many indices an epoch yields (the dataset's length unless given)."""
        return len(self.data_source) if self._num_samples is None else int(self._num_samples)

    def order(self) -> np.ndarray:
        """This epoch's indices, freshly drawn."""
        rng, n, count = get_generator(self.generator), len(self.data_source), self.num_samples
        if self.replacement:
            return rng.integers(0, n, size=count)
        if count == n:
            return rng.permutation(n)
        return np.concatenate([rng.permutation(n) for _ in range(-(-count // n))])[:count]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given `indices`, in a random order each epoch."""

    def __init__(self, indices: Sequence[int], generator=None):
        """Visit `indices` (positions in the dataset) shuffled."""
        self.indices, self.generator = indices, generator

    def order(self) -> np.ndarray:
        """`indices`, permuted."""
        return np.asarray(self.indices, dtype=np.intp)[get_generator(self.generator).permutation(len(self.indices))]

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Group `sampler`'s indices into lists of `batch_size` (the last one shorter unless `drop_last`)."""

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        """Batches of `batch_size` indices drawn from `sampler`."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"BatchSampler: batch_size must be a positive integer, got {batch_size!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, int(batch_size), bool(drop_last)

    def __iter__(self) -> Iterator[list[int]]:
        batch = []
        for index in self.sampler:
            batch.append(int(index))
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


def epoch_order(sampler) -> np.ndarray:
    """The epoch's indices of any sampler as one array (ours in one step, others by iterating)."""
    if isinstance(sampler, Sampler) and not isinstance(sampler, BatchSampler):
        return sampler.order()
    return np.fromiter(iter(sampler), dtype=np.intp)
