"""The textbook's names, for readers running its chapter code unchanged.

Every module of the book's `common/` and `dataset/` packages is here under the same path
(`graphgrad.book.common.layers`, `graphgrad.book.dataset.mnist`, ...), and everything is also
importable from `graphgrad.book` itself, with the chapter 7-8 networks (SimpleConvNet,
DeepConvNet). The layers are graphgrad's own ops: `MulLayer` is `Mul`, with the same
`forward(x, y)` / `backward(dout) -> (dx, dy)` interface the engine uses.
"""
from ..ops.arithmetic import Add as AddLayer
from ..ops.arithmetic import Mul as MulLayer
from .convnets import DeepConvNet, SimpleConvNet
from .functions import (
    cross_entropy_error, identity_function, mean_squared_error, relu, relu_grad, sigmoid, sigmoid_grad, softmax,
    softmax_loss, step_function, sum_squared_error,
)
from .gradient import gradient_check, numerical_gradient, numerical_gradient_2d
from .layers import Affine, BatchNormalization, Convolution, Dropout, Pooling, Relu, Sigmoid, SoftmaxWithLoss
from .mnist import load_mnist
from .networks import MultiLayerNet, MultiLayerNetExtend, TwoLayerNet
from .optimizer import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop
from .trainer import Trainer
from .util import col2im, conv_output_size, im2col, shuffle_dataset, smooth_curve

__all__ = [
    "AddLayer", "MulLayer", "Affine", "BatchNormalization", "Convolution", "Dropout", "Pooling", "Relu", "Sigmoid",
    "SoftmaxWithLoss", "TwoLayerNet", "MultiLayerNet", "MultiLayerNetExtend", "SimpleConvNet", "DeepConvNet",
    "SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam", "Trainer",
    "identity_function", "step_function", "sigmoid", "sigmoid_grad", "relu", "relu_grad", "softmax",
    "sum_squared_error", "mean_squared_error", "cross_entropy_error", "softmax_loss",
    "numerical_gradient", "numerical_gradient_2d", "gradient_check", "load_mnist",
    "smooth_curve", "shuffle_dataset", "conv_output_size", "im2col", "col2im",
]
