"""Datasets and the minibatch loader: `Dataset`, `TensorDataset`, `DataLoader`, `to_device`."""
from .dataset import Dataset, TensorDataset
from .device import to_device
from .loader import DataLoader

__all__ = ["Dataset", "TensorDataset", "DataLoader", "to_device"]
