"""Training: the `fit` loop, its History, evaluation metrics and atomic checkpoints."""
from ..io import CheckpointError
from .checkpoint import load_checkpoint, save_checkpoint
from .history import History
from .interrupt import Interrupted
from .loop import Diverged, fit
from .metrics import accuracy, confusion_matrix, evaluate, predict

__all__ = ["fit", "History", "evaluate", "predict", "accuracy", "confusion_matrix",
           "save_checkpoint", "load_checkpoint", "CheckpointError", "Interrupted", "Diverged"]
