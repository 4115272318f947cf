"""Data-parallel training over MPI (mpi4py, Open MPI): the same result on N processes as on one.

Optional: needs `pip install -e '.[mpi]'` and an MPI library; mpi4py is imported by
`init()` (which every function here calls), so importing this package costs nothing.
See docs/distributed.md.
"""
from .comm import abort, all_reduce, barrier, broadcast_parameters, init, is_main, rank, world_size
from .ddp import DistributedDataParallel
from .sampler import DistributedSampler
from .shard import ShardedDataset
from .sync_batchnorm import SyncBatchNorm

__all__ = ["init", "rank", "world_size", "is_main", "barrier", "all_reduce", "broadcast_parameters", "abort",
           "DistributedDataParallel", "DistributedSampler", "ShardedDataset", "SyncBatchNorm"]
