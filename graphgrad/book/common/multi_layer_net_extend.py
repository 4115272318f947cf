"""The book's `common.multi_layer_net_extend`."""
from ..networks import MultiLayerNetExtend  # noqa: F401

__all__ = ["MultiLayerNetExtend"]
