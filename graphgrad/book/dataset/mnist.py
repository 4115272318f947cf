"""The book's `dataset.mnist`: `load_mnist(normalize, flatten, one_hot_label)` on graphgrad's MNIST loader."""
from ..mnist import load_mnist  # noqa: F401

__all__ = ["load_mnist"]
