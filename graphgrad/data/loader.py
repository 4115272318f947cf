"""DataLoader: minibatches gathered with one vectorised indexing per batch, reproducibly shuffled."""
from __future__ import annotations

import math

import numpy as np

from ..autograd.tensor import Tensor
from .dataset import Dataset


class DataLoader:
    """Iterate over `dataset` in batches of `batch_size`, yielding a tuple of Tensors per batch.

    With `shuffle=True` each epoch draws a permutation from one `numpy.random.Generator`
    (seeded by `seed`), so a run is reproducible; with `replacement=True` as well, every batch
    is instead drawn uniformly with replacement (the textbook's `np.random.choice(n, batch_size)`;
    an epoch is then `len(loader)` such batches). `state_dict()` captures where the loader is,
    including part-way through an epoch, and `load_state_dict()` continues from there exactly.
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, seed: int | None = None, generator=None, replacement: bool = False):
        """Batches of `batch_size` from `dataset`, shuffled (or drawn with replacement) by a seeded Generator."""
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if replacement and not shuffle:
            raise ValueError("DataLoader: replacement=True draws random batches, so it needs shuffle=True")
        if len(dataset) == 0:
            raise ValueError("DataLoader: the dataset is empty")
        if drop_last and batch_size > len(dataset):
            raise ValueError(
                f"DataLoader: batch_size {batch_size} is larger than the dataset ({len(dataset)} "
                f"samples) and drop_last=True would leave no batch; use a smaller batch_size"
            )
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.replacement = replacement
        self.drop_last = drop_last
        self.generator = generator if generator is not None else np.random.default_rng(seed)
        self._resume = None  # (generator state at the epoch's start, batches already done)
        self._epoch_state = None
        self._batches_done = 0

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        if self._resume is not None:
            state, skip = self._resume
            self._resume = None
            self.generator.bit_generator.state = state
        else:
            skip = 0
        # Record the generator before this epoch's permutation, so a checkpoint can redraw it.
        self._epoch_state = self.generator.bit_generator.state
        order = None
        if self.replacement:  # every batch full, each index drawn independently
            order = self.generator.integers(0, len(self.dataset), size=len(self) * self.batch_size)
        elif self.shuffle:
            order = self.generator.permutation(len(self.dataset))
        return self._batches(order, skip)

    def _batches(self, order, skip: int):
        n, bs = len(self.dataset), self.batch_size
        for b in range(skip, len(self)):
            start = b * bs
            index = order[start:start + bs] if order is not None else slice(start, min(start + bs, n))
            batch = self.dataset[index]
            self._batches_done = b + 1
            yield tuple([Tensor(x) for x in batch]) if isinstance(batch, tuple) else Tensor(batch)
        self._batches_done = 0
        self._epoch_state = None

    def state_dict(self) -> dict:
        """Where the loader stands: the generator state at this epoch's start and batches done (JSON-safe)."""
        if self._epoch_state is not None and 0 < self._batches_done < len(self):
            return {"generator": self._epoch_state, "batches_done": self._batches_done}
        return {"generator": self.generator.bit_generator.state, "batches_done": 0}

    def load_state_dict(self, state: dict) -> None:
        """Continue from `state`: the next iteration redraws that epoch's order and skips the batches done."""
        done = int(state.get("batches_done", 0))
        if not 0 <= done <= len(self):
            raise ValueError(f"DataLoader.load_state_dict: batches_done={done} but an epoch has {len(self)}")
        self._resume = (state["generator"], done)
        self._epoch_state = None
        self._batches_done = 0
