"""ShardedDataset: each rank gathers only its share of every global batch.

Every rank builds the same DataLoader (same seed, same `batch_size` = the global batch) over a
`ShardedDataset`; the loader draws the same global batch of indices everywhere, and each rank
gathers only its contiguous share of them (sizes differ by at most one). So the global batches,
the epoch boundaries and the loader's checkpointed state do not depend on the number of
processes: a run gives the same parameters on 1, 2 or 3 processes (up to summation order) and
can be resumed on a different number. This is what `graphgrad train --distributed` uses;
`DistributedSampler` is PyTorch's other scheme (each rank owns a part of the dataset).
"""
from __future__ import annotations

import numpy as np


class ShardedDataset:
    """`dataset` seen by rank `rank` of `num_replicas`: `ds[indices]` returns that rank's share of `indices`."""

    batched = True  # ds[indices] gathers a whole batch: the DataLoader's vectorised path

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None):
        """A view of `dataset` whose batches are this rank's contiguous share of each global batch."""
        if num_replicas is None or rank is None:
            from .comm import init

            world = init()
            num_replicas = world.Get_size() if num_replicas is None else num_replicas
            rank = world.Get_rank() if rank is None else rank
        if num_replicas < 1 or not 0 <= rank < num_replicas:
            raise ValueError(f"ShardedDataset: need 0 <= rank < num_replicas, got rank={rank}, "
                             f"num_replicas={num_replicas}")
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)

    def __len__(self) -> int:
        return len(self.dataset)

    def share(self, indices) -> np.ndarray:
        """This rank's contiguous part of the index array or slice `indices` (the first ranks get one more)."""
        if isinstance(indices, slice):
            indices = np.arange(*indices.indices(len(self.dataset)))
        indices = np.asarray(indices)
        if indices.ndim != 1:
            raise TypeError(f"ShardedDataset: a batch is a 1-d array or slice of indices, got {indices.shape}")
        return np.array_split(indices, self.num_replicas)[self.rank]

    def __getitem__(self, indices):
        return self.dataset[self.share(indices)]
