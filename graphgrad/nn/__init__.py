"""Neural-network building blocks: Module, Parameter, layers, losses, initialisers, functional forms."""
from . import functional, init, utils
from .activations import ELU, GELU, Mish, ReLU6, SELU, SiLU, Softplus, Hardtanh
from .containers import ModuleDict, ModuleList, ParameterList
from .embedding import Embedding
from .hooks import RemovableHandle
from .conv import Conv1d, Conv2d, ConvTranspose2d
from .layers import (
    Affine, Dropout, Dropout2d, Flatten, Identity, LeakyReLU, Linear, LogSoftmax, ReLU, Sequential, Sigmoid, Softmax, Tanh,
)
from .losses import (
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss,
    SoftmaxWithLoss,
)
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .parameter import Parameter
from .pooling import (
    AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d, Unflatten, ZeroPad2d,
)

__all__ = [
    "Affine", "BCEWithLogitsLoss", "BatchNorm1d", "CrossEntropyLoss", "Dropout", "Flatten", "Identity",
    "LayerNorm", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "Module", "NLLLoss", "Parameter", "ReLU",
    "Sequential", "Sigmoid", "Softmax", "SoftmaxWithLoss", "Tanh", "functional", "init",
    # convolutional networks
    "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "AvgPool1d", "AvgPool2d", "BatchNorm2d", "Conv1d", "Conv2d",
    "ConvTranspose2d", "Dropout2d", "MaxPool1d", "MaxPool2d", "Unflatten", "ZeroPad2d",
    # PyTorch's activations, losses, containers, embedding, hooks and utilities
    "ELU", "GELU", "Hardtanh", "Mish", "ReLU6", "SELU", "SiLU", "Softplus",
    "BCELoss", "HuberLoss", "KLDivLoss", "L1Loss", "SmoothL1Loss",
    "ModuleDict", "ModuleList", "ParameterList", "Embedding", "RemovableHandle", "utils",
]
