"""Datasets, samplers and the DataLoader, in PyTorch's form (also importable as `graphgrad.utils.data`)."""
from .collate import default_collate
from .dataset import Dataset, Subset, TensorDataset, random_split
from .device import to_device
from .loader import DataLoader
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler
from .worker import WorkerInfo, get_worker_info

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "BatchSampler", "default_collate", "DataLoader", "get_worker_info", "WorkerInfo",
           "to_device"]
