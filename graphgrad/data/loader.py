"""DataLoader: minibatches gathered with one vectorised indexing per batch, reproducibly shuffled."""
from __future__ import annotations

import math

import numpy as np

from ..autograd.tensor import Tensor
from .dataset import Dataset
from .device import to_device


class DataLoader:
    """Iterate over `dataset` in batches of `batch_size`, yielding a tuple of Tensors per batch.

    With `shuffle=True` each epoch draws a permutation from one `numpy.random.Generator`
    (seeded by `seed`), so a run is reproducible; with `replacement=True` as well, every batch
    is instead drawn uniformly with replacement (the textbook's `np.random.choice(n, batch_size)`;
    an epoch is then `len(loader)` such batches). A `sampler` (an iterable of indices with a
    length, such as `graphgrad.distributed.DistributedSampler`) sets the order instead of
    `shuffle`. `state_dict()` captures where the loader is,
    including part-way through an epoch, and `load_state_dict()` continues from there exactly.
    With `device=` ('cuda', ...) every batch is moved whole to that device; `pin_memory` is accepted
    and does nothing (see `graphgrad.data.device`).
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, seed: int | None = None, generator=None, replacement: bool = False,
                 sampler=None, device=None, pin_memory: bool = False):
        """Batches of `batch_size` from `dataset`, shuffled (or drawn with replacement) by a seeded Generator."""
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if replacement and not shuffle:
            raise ValueError("DataLoader: replacement=True draws random batches, so it needs shuffle=True")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: a sampler sets the order itself; leave shuffle=False")
        n = len(sampler) if sampler is not None else len(dataset)
        if n == 0:
            raise ValueError("DataLoader: the dataset is empty")
        if drop_last and batch_size > n:
            raise ValueError(
                f"DataLoader: batch_size {batch_size} is larger than the dataset ({n} "
                f"samples) and drop_last=True would leave no batch; use a smaller batch_size"
            )
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.replacement = replacement
        self.drop_last = drop_last
        self.sampler = sampler
        self.device, self.pin_memory = device, pin_memory  # batches moved whole to `device`; see data/device.py
        self.generator = generator if generator is not None else np.random.default_rng(seed)
        self._resume = None  # (generator state at the epoch's start, batches already done)
        self._epoch_state = None
        self._batches_done = 0

    def __len__(self) -> int:
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
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
        if self.sampler is not None:
            order = np.fromiter(self.sampler, dtype=np.intp, count=len(self.sampler))
        elif self.replacement:  # every batch full, each index drawn independently
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
            batch = tuple([Tensor(x) for x in batch]) if isinstance(batch, tuple) else Tensor(batch)
            yield batch if self.device is None else to_device(batch, self.device)
        self._batches_done = 0
        self._epoch_state = None

    def state_dict(self) -> dict:
        """Where the loader stands: the generator state at this epoch's start and batches done (JSON-safe)."""
        if self._epoch_state is not None and 0 < self._batches_done < len(self):
            return {"generator": self._epoch_state, "batches_done": self._batches_done}
        return {"generator": self.generator.bit_generator.state, "batches_done": 0}

    def load_state_dict(self, state: dict) -> None:
        """Continue from `state`: the next iteration redraws that epoch's order and skips the batches done."""
        if not isinstance(state, dict) or "generator" not in state:
            raise ValueError(
                f"DataLoader.load_state_dict: expected a dict with 'generator', got {type(state).__name__}")
        done = state.get("batches_done", 0)
        if isinstance(done, bool) or not isinstance(done, (int, np.integer)) or not 0 <= done <= len(self):
            raise ValueError(f"DataLoader.load_state_dict: batches_done={done!r} but an epoch has {len(self)} batches")
        probe = type(self.generator.bit_generator)()
        try:  # a garbage state must fail here, not at the next epoch
            probe.state = state["generator"]
        except Exception as err:
            raise ValueError(
                f"DataLoader.load_state_dict: the generator state is not a valid "
                f"{type(probe).__name__} state ({type(err).__name__}: {err})"
            ) from None
        self._resume = (probe.state, int(done))
        self._epoch_state = None
        self._batches_done = 0
