"""Neural-network building blocks: Module, Parameter, layers, losses, initialisers, functional forms."""
from . import functional, init
from .layers import (
    Affine, Dropout, Flatten, Identity, LeakyReLU, Linear, LogSoftmax, ReLU, Sequential, Sigmoid, Softmax, Tanh,
)
from .losses import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss, SoftmaxWithLoss
from .module import Module
from .normalization import BatchNorm1d, LayerNorm
from .parameter import Parameter

__all__ = [
    "Affine", "BCEWithLogitsLoss", "BatchNorm1d", "CrossEntropyLoss", "Dropout", "Flatten", "Identity",
    "LayerNorm", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "Module", "NLLLoss", "Parameter", "ReLU",
    "Sequential", "Sigmoid", "Softmax", "SoftmaxWithLoss", "Tanh", "functional", "init",
]
