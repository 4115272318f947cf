"""MatrixSlow's layers: fc, conv and pooling, built from its operators."""
from __future__ import annotations

import numpy as np

from .core import Variable
from .ops import Add, Convolve, Logistic, MatMul, MaxPooling, ReLU, ScalarMultiply

__all__ = ["fc", "conv", "pooling"]


def _activate(node, activation):
    if activation == "ReLU":
        return ReLU(node)
    if activation == "Logistic":
        return Logistic(node)
    return node


def fc(input, input_size: int, size: int, activation):
    """A fully connected layer: activation(W·x + b) with W (size, input_size) and b (size, 1)."""
    weights = Variable((size, input_size), init=True, trainable=True)
    bias = Variable((size, 1), init=True, trainable=True)
    return _activate(Add(MatMul(weights, input), bias), activation)


def conv(feature_maps, input_shape, kernels: int, kernel_shape, activation):
    """`kernels` output maps, each the sum of one kernel per input map plus a 1 x 1 bias, then activation."""
    ones = Variable(input_shape, init=False, trainable=False)
    ones.set_value(np.ones(input_shape))
    outputs = []
    for _ in range(kernels):
        channels = [Convolve(fm, Variable(kernel_shape, init=True, trainable=True)) for fm in feature_maps]
        bias = ScalarMultiply(Variable((1, 1), init=True, trainable=True), ones)
        outputs.append(_activate(Add(Add(*channels), bias), activation))
    return outputs


def pooling(feature_maps, kernel_shape, stride):
    """Max pooling of every map."""
    return [MaxPooling(fm, size=kernel_shape, stride=stride) for fm in feature_maps]
