"""DataLoader: PyTorch's, with a vectorised path for datasets that gather whole batches.

Two ways to make a batch, chosen by the dataset. A batched dataset (`batched = True`:
`TensorDataset`, graphgrad's MNIST, a `Subset` of them) is indexed once per batch with the
batch's index array, a slice of the epoch's permutation (a 60,000-sample MNIST epoch of
100-sample batches costs about 45 ms of gathering). Any other dataset is read one sample at a
time, `dataset[i]`, and `collate_fn` (default: `default_collate`) makes the batch; with
`num_workers > 0` worker processes do that in parallel (`graphgrad.data.worker`). A `collate_fn`
of one's own always gets the list of samples, as in PyTorch.
"""
from __future__ import annotations

import copy
import itertools
import math

import numpy as np

from ..autograd.tensor import Tensor
from ..nn.init import get_generator
from .collate import default_collate
from .device import to_device
from .sampler import RandomSampler, SequentialSampler, epoch_order
from .worker import WorkerPool


class DataLoader:
    """Iterate over `dataset` in batches of `batch_size`, PyTorch's arguments and meaning.

    With `shuffle=True` each epoch draws a permutation from one `numpy.random.Generator`
    (`generator=`, or seeded by `seed`, else by the default generator of `nn.init.manual_seed`),
    so a run is reproducible; with `replacement=True` as well,
    every batch is instead drawn uniformly with replacement (the textbook's
    `np.random.choice(n, batch_size)`; an epoch is then `len(loader)` such batches). A `sampler`
    (an iterable of indices with a length, such as `graphgrad.distributed.DistributedSampler`) sets
    the order instead of `shuffle`; a `batch_sampler` yields whole batches of indices instead.
    `num_workers > 0` fetches batches in that many worker processes (`timeout`, `worker_init_fn`,
    `multiprocessing_context`, `prefetch_factor` and `persistent_workers` as PyTorch's).
    `state_dict()` captures where the loader is, including part-way through an epoch, and
    `load_state_dict()` continues from there exactly (the loader's own generator; a sampler's
    generator of its own is not saved). With `device=` ('cuda', ...) every batch is moved whole
    to that device; `pin_memory` is accepted and does nothing (see `graphgrad.data.device`).
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool = False, sampler=None,
                 batch_sampler=None, num_workers: int = 0, collate_fn=None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None, multiprocessing_context=None,
                 generator=None, *, prefetch_factor: int | None = None, persistent_workers: bool = False,
                 seed: int | None = None, replacement: bool = False, device=None):
        """Batches of `batch_size` from `dataset` (see the class docstring)."""
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler is mutually exclusive with batch_size, shuffle, sampler "
                                 "and drop_last")
            batch_size = None
        elif isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if replacement and not shuffle:
            raise ValueError("DataLoader: replacement=True draws random batches, so it needs shuffle=True")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: a sampler sets the order itself; leave shuffle=False")
        _check_workers(num_workers, timeout, prefetch_factor, persistent_workers)
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle, self.replacement, self.drop_last = shuffle, replacement, drop_last
        if generator is None and seed is None:  # as torch.manual_seed does, nn.init.manual_seed fixes the order
            seed = int(get_generator(None).integers(2 ** 63))
        self.generator = generator if isinstance(generator, np.random.Generator) else np.random.default_rng(
            seed if generator is None else generator)
        n = len(batch_sampler if batch_sampler is not None else sampler if sampler is not None else dataset)
        if n == 0:
            raise ValueError("DataLoader: the dataset is empty")
        if drop_last and batch_size > n:
            raise ValueError(
                f"DataLoader: batch_size {batch_size} is larger than the dataset ({n} "
                f"samples) and drop_last=True would leave no batch; use a smaller batch_size"
            )
        if sampler is None and batch_sampler is None:
            if not shuffle:
                sampler = SequentialSampler(dataset)
            else:  # an epoch of replacement draws fills every batch of the epoch
                count = (n // batch_size if drop_last else math.ceil(n / batch_size)) * batch_size
                sampler = RandomSampler(dataset, replacement, count if replacement else None, generator=self.generator)
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.collate_fn = default_collate if collate_fn is None else collate_fn
        self._own_collate = collate_fn is not None
        self.num_workers, self.timeout, self.worker_init_fn = int(num_workers), timeout, worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = (2 if num_workers else None) if prefetch_factor is None else int(prefetch_factor)
        self.persistent_workers = persistent_workers
        self.device, self.pin_memory = device, pin_memory  # batches moved whole to `device`; see data/device.py
        # Worker seeds: a stream of their own, so that workers never change the shuffling order.
        self._worker_seeds = np.random.default_rng(copy.deepcopy(self.generator).integers(2 ** 63))
        self._pool = None  # the persistent workers
        self._resume = None  # (generator state at the epoch's start, batches already done)
        self._epoch_state = None
        self._batches_done = 0

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler)
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
        batches = itertools.islice(self._index_batches(), skip, None)
        # Asked each epoch: a dataset's transform set after the loader was made must not be skipped.
        batched = bool(getattr(self.dataset, "batched", False)) and not self._own_collate
        fetch = _Fetch(self.dataset, batched, self.collate_fn)
        if self.num_workers == 0:
            return self._deliver(map(fetch, batches), skip)
        pool = self._pool
        if pool is None:
            pool = WorkerPool(fetch, self.dataset, self.num_workers, int(self._worker_seeds.integers(2 ** 62)),
                              self.worker_init_fn, self.multiprocessing_context, self.timeout, self.prefetch_factor)
            if self.persistent_workers:
                self._pool = pool
        return self._deliver(pool.imap(batches), skip, None if self.persistent_workers else pool)

    def _index_batches(self):
        """This epoch's batches of indices: slices when in order, else slices of the epoch's index array."""
        if self.batch_sampler is not None:
            return (np.asarray(batch, dtype=np.intp) for batch in self.batch_sampler)
        in_order = type(self.sampler) is SequentialSampler and self.sampler.data_source is self.dataset
        order = None if in_order else epoch_order(self.sampler)  # drawn now, right after the recorded state
        n, bs = len(self.sampler), self.batch_size
        starts = range(0, len(self) * bs, bs)
        if order is None:
            return (slice(start, min(start + bs, n)) for start in starts)
        return (order[start:start + bs] for start in starts)

    def _deliver(self, batches, skip: int, pool: WorkerPool | None = None):
        try:
            for done, batch in enumerate(batches, start=skip + 1):
                self._batches_done = done
                yield batch if self.device is None else to_device(batch, self.device)
            self._batches_done = 0
            self._epoch_state = None
        finally:
            if pool is not None:
                pool.shutdown()

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

    def __del__(self):
        if getattr(self, "_pool", None) is not None:
            self._pool.shutdown()


class _Fetch:
    """One batch from its indices: one gather from a batched dataset, else per sample and collated."""

    def __init__(self, dataset, batched: bool, collate_fn):
        self.dataset, self.batched, self.collate_fn = dataset, batched, collate_fn
        self.current = None  # the sample being read, for a worker's error message

    def __call__(self, indices):
        if self.batched:
            batch = self.dataset[indices]
            return tuple([Tensor(x) for x in batch]) if isinstance(batch, tuple) else Tensor(batch)
        if isinstance(indices, slice):
            indices = range(indices.start, indices.stop)
        samples = []
        for i in indices:
            self.current = int(i)
            samples.append(self.dataset[self.current])
        self.current = None
        return self.collate_fn(samples)

    def where(self, indices) -> str:
        """Which part of fetching `indices` failed, in words."""
        if self.current is not None:
            return f"on dataset index {self.current}"
        indices = list(range(indices.start, indices.stop) if isinstance(indices, slice) else indices)
        shown = ", ".join(str(int(i)) for i in indices[:8]) + (", ..." if len(indices) > 8 else "")
        return f"{'gathering' if self.batched else 'collating'} the batch of dataset indices [{shown}]"


def _check_workers(num_workers, timeout, prefetch_factor, persistent_workers) -> None:
    if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) or num_workers < 0:
        raise ValueError(f"DataLoader: num_workers must be a non-negative integer, got {num_workers!r}")
    if timeout < 0:
        raise ValueError(f"DataLoader: timeout must be >= 0 seconds, got {timeout}")
    if prefetch_factor is not None and num_workers == 0:
        raise ValueError("DataLoader: prefetch_factor needs num_workers > 0 (it counts batches each worker "
                         "fetches ahead); leave it None")
    if prefetch_factor is not None and prefetch_factor < 1:
        raise ValueError(f"DataLoader: prefetch_factor must be >= 1, got {prefetch_factor}")
    if persistent_workers and num_workers == 0:
        raise ValueError("DataLoader: persistent_workers=True needs num_workers > 0")
