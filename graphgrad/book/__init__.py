"""The textbook's names, for readers running its chapter code unchanged.

The book's layers are graphgrad's own ops: `MulLayer` is `Mul`, with the same
`forward(x, y)` / `backward(dout) -> (dx, dy)` interface the engine uses.
"""
from ..ops.arithmetic import Add as AddLayer
from ..ops.arithmetic import Mul as MulLayer
from .gradient import gradient_check, numerical_gradient
from .layers import Affine, Relu, Sigmoid, SoftmaxWithLoss
from .mnist import load_mnist
from .networks import MultiLayerNet, TwoLayerNet

__all__ = [
    "AddLayer", "MulLayer", "Affine", "MultiLayerNet", "Relu", "Sigmoid", "SoftmaxWithLoss", "TwoLayerNet",
    "gradient_check", "load_mnist", "numerical_gradient",
]
