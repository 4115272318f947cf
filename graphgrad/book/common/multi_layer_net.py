"""The book's `common.multi_layer_net`."""
from ..networks import MultiLayerNet  # noqa: F401

__all__ = ["MultiLayerNet"]
