"""PyTorch's `torch.utils` import paths: `graphgrad.utils.data` is `graphgrad.data`."""
from . import data

__all__ = ["data"]
