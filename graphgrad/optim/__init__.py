"""Optimizers and learning-rate schedules; the update math itself lives in `graphgrad.optim.updates`."""
from . import lr_scheduler, updates
from .lr_scheduler import CosineAnnealingLR, ExponentialLR, LRScheduler, StepLR
from .optimizer import Optimizer
from .optimizers import SGD, AdaGrad, Adagrad, Adam, AdamW, RMSProp, RMSprop

__all__ = [
    "SGD", "AdaGrad", "Adagrad", "Adam", "AdamW", "CosineAnnealingLR", "ExponentialLR", "LRScheduler",
    "Optimizer", "RMSProp", "RMSprop", "StepLR", "lr_scheduler", "updates",
]
