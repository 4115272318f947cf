"""`from graphgrad.utils.data import DataLoader, Dataset, ...`: PyTorch's import path for `graphgrad.data`."""
from ..data import (BatchSampler, DataLoader, Dataset, RandomSampler, Sampler, SequentialSampler, Subset,
                    SubsetRandomSampler, TensorDataset, WorkerInfo, default_collate, get_worker_info, random_split)

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "BatchSampler", "default_collate", "DataLoader", "get_worker_info", "WorkerInfo"]
