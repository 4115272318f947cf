"""DistributedSampler: each rank's part of every epoch, as PyTorch's sampler of the same name."""
from __future__ import annotations

import math
from typing import Iterator

import numpy as np


class DistributedSampler:
    """The indices of `dataset` that rank `rank` of `num_replicas` visits this epoch.

    Each epoch draws one permutation (seeded by `seed` and the epoch set with `set_epoch(e)`, so
    every rank draws the same one), pads it by repeating its first indices up to a multiple of
    `num_replicas` (or, with `drop_last=True`, cuts off the tail instead) and gives rank r every
    num_replicas-th index starting at r. Across ranks an epoch covers every index exactly once,
    apart from the padding. Use it as `DataLoader(dataset, batch_size, sampler=sampler)` and call
    `sampler.set_epoch(epoch)` before each epoch, else every epoch repeats the first one's order.
    `num_replicas` and `rank` default to the MPI world's (`graphgrad.distributed.init()`).
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False):
        """This rank's share of `dataset`'s indices (every rank's share has the same length)."""
        if num_replicas is None or rank is None:
            from .comm import init

            world = init()
            num_replicas = world.Get_size() if num_replicas is None else num_replicas
            rank = world.Get_rank() if rank is None else rank
        if num_replicas < 1 or not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: need 0 <= rank < num_replicas, got rank={rank}, "
                             f"num_replicas={num_replicas}")
        n = len(dataset)
        if n == 0 or (drop_last and n < num_replicas):
            raise ValueError(f"DistributedSampler: {n} samples cannot be shared by {num_replicas} replicas"
                             + (" with drop_last=True" if n else ""))
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, int(seed), drop_last, 0
        self.num_samples = n // self.num_replicas if drop_last else math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose permutation the next iteration uses."""
        self.epoch = int(epoch)

    def indices(self) -> np.ndarray:
        """This rank's indices for the current epoch, in order."""
        n = len(self.dataset)
        order = np.random.default_rng([self.seed, self.epoch]).permutation(n) if self.shuffle else np.arange(n)
        if self.total_size > n:  # pad with the first indices, repeated as often as needed
            order = np.resize(order, self.total_size)
        return order[self.rank:self.total_size:self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.num_samples
