"""The textbook's activation and loss functions on arrays (`common.functions`).

The activations run graphgrad's own ops on arrays (`Sigmoid().forward(x)`), and the two
derivatives the book offers (`sigmoid_grad`, `relu_grad`) are those ops' backward: one
definition of each derivative, shared with the engine and the book's layers.
"""
from __future__ import annotations

import numpy as np

from ..ops.activations import ReLU as _ReLUOp
from ..ops.activations import Sigmoid as _SigmoidOp
from ..ops.activations import Softmax as _SoftmaxOp

__all__ = [
    "identity_function", "step_function", "sigmoid", "sigmoid_grad", "relu", "relu_grad", "softmax",
    "sum_squared_error", "mean_squared_error", "cross_entropy_error", "softmax_loss",
]


def _float(x) -> np.ndarray:
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def identity_function(x):
    """y = x (the output activation of a regression network)."""
    return x


def step_function(x) -> np.ndarray:
    """y = 1 where x > 0, else 0, as integers."""
    return np.array(np.asarray(x) > 0, dtype=int)


def sigmoid(x) -> np.ndarray:
    """y = 1 / (1 + e⁻ˣ), elementwise."""
    return _SigmoidOp().forward(_float(x))


def sigmoid_grad(x) -> np.ndarray:
    """dσ/dx = σ(x)(1 - σ(x)): the Sigmoid op's backward with an upstream gradient of ones."""
    op = _SigmoidOp()
    y = op.forward(_float(x))
    return op.backward(np.ones_like(y))


def relu(x) -> np.ndarray:
    """y = max(0, x), elementwise."""
    return _ReLUOp().forward(_float(x))


def relu_grad(x) -> np.ndarray:
    """d relu/dx = 1 where x > 0, else 0: the ReLU op's backward, as the book's Relu layer (its relu_grad listing says 1 at 0)."""
    op = _ReLUOp()
    y = op.forward(_float(x))
    return op.backward(np.ones_like(y))


def softmax(x) -> np.ndarray:
    """eˣ / Σ eˣ over the last axis (a vector, or each row of a batch), computed stably."""
    return _SoftmaxOp(-1).forward(_float(x))


def sum_squared_error(y, t) -> float:
    """E = ½ Σ (y - t)², the book's squared error (summed over every element)."""
    y, t = np.asarray(y), np.asarray(t)
    if y.shape != t.shape:
        raise ValueError(f"sum_squared_error: y of shape {y.shape} and t of shape {t.shape} must have the same shape")
    return 0.5 * float(np.sum((y - t) ** 2))


mean_squared_error = sum_squared_error  # the name the book's text uses for the same ½Σ(y - t)²


def _labels(y: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities or scores as (N, C), class numbers as (N,)) from any label form the book accepts."""
    if y.ndim == 1:
        y = y.reshape(1, -1)
        t = t.reshape(1, -1) if t.size == y.size else t.reshape(1)
    if t.shape == y.shape:
        return y, t.argmax(axis=1)
    if t.ndim == 2 and t.shape[1] == 1:
        t = t.reshape(-1)
    if t.shape != (y.shape[0],) or t.dtype.kind not in "iub":
        raise ValueError(
            f"cross_entropy_error: labels of shape {t.shape} (dtype {t.dtype}) do not fit outputs of shape {y.shape}; "
            f"pass one-hot rows of shape {y.shape} or class numbers of shape ({y.shape[0]},)"
        )
    return y, t.astype(np.intp)


def cross_entropy_error(y, t) -> float:
    """E = -(1/N) Σₙ log(yₙ[tₙ] + 1e-7) for probabilities y; t one-hot or class numbers, (N,) or (N, 1)."""
    y, t = _labels(np.asarray(y), np.asarray(t))
    n = y.shape[0]
    return float(-np.sum(np.log(y[np.arange(n), t] + 1e-7)) / n)


def softmax_loss(x, t) -> float:
    """cross_entropy_error(softmax(x), t): the loss of scores x."""
    return cross_entropy_error(softmax(x), t)
