"""Ready-made datasets: MNIST and Fashion-MNIST (torchvision's form and a vectorised one), their
IDX reader, verified cache and downloads, and torchvision-style image `transforms`."""
from . import transforms
from .cache import cache_dir
from .idx import read_idx, write_idx
from .mnist import DatasetUnavailable, load_arrays
from .vision import MNIST, FashionMNIST

__all__ = ["MNIST", "FashionMNIST", "DatasetUnavailable", "load_arrays", "read_idx", "write_idx", "cache_dir",
           "transforms"]
