"""Datasets and the minibatch loader: `Dataset`, `TensorDataset`, `DataLoader`."""
from .dataset import Dataset, TensorDataset
from .loader import DataLoader

__all__ = ["Dataset", "TensorDataset", "DataLoader"]
