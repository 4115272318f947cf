"""Optimizers and learning-rate schedules; the update math itself lives in `graphgrad.optim.updates`."""
from . import lr_scheduler, updates
from .lr_scheduler import (CosineAnnealingLR, ExponentialLR, LambdaLR, LinearLR, LRScheduler, MultiStepLR, OneCycleLR,
                           ReduceLROnPlateau, SequentialLR, StepLR)
from .optimizer import Optimizer
from .optimizers import SGD, AdaGrad, Adagrad, Adam, AdamW, RMSProp, RMSprop

__all__ = [
    "SGD", "AdaGrad", "Adagrad", "Adam", "AdamW", "CosineAnnealingLR", "ExponentialLR", "LambdaLR", "LinearLR",
    "LRScheduler", "MultiStepLR", "OneCycleLR", "Optimizer", "ReduceLROnPlateau", "RMSProp", "RMSprop",
    "SequentialLR", "StepLR", "lr_scheduler", "updates",
]
