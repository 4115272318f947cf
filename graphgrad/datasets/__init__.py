"""Ready-made datasets: MNIST and Fashion-MNIST, with their IDX reader, cache and safe downloads."""
from .cache import cache_dir
from .idx import read_idx, write_idx
from .mnist import MNIST, DatasetUnavailable, FashionMNIST, load_arrays

__all__ = ["MNIST", "FashionMNIST", "DatasetUnavailable", "load_arrays", "read_idx", "write_idx", "cache_dir"]
