"""The textbook's numerical gradients (central differences, h = 1e-4) and its gradient-check table."""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..autograd.gradcheck import central_differences

__all__ = ["numerical_gradient", "numerical_gradient_2d", "gradient_check"]

H = 1e-4  # the book's step


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """(f(x + h) - f(x - h)) / 2h for each element of x (any shape), h = 1e-4; x is perturbed in place and restored."""
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(
            f"numerical_gradient: x must be a float ndarray (it is perturbed in place), got "
            f"{type(x).__name__}{' of dtype ' + str(x.dtype) if isinstance(x, np.ndarray) else ''}; "
            f"pass np.array(..., dtype=float)"
        )
    return central_differences(lambda: f(x), x, H).astype(x.dtype, copy=False)


def numerical_gradient_2d(f: Callable[[np.ndarray], float], X: np.ndarray) -> np.ndarray:
    """The gradient of f at each row of X (a 2-D X is a batch of points), or at X itself when X is 1-D."""
    if X.ndim == 1:
        return numerical_gradient(f, X)
    return np.stack([numerical_gradient(f, row) for row in X])


def gradient_check(network, x: np.ndarray, t: np.ndarray) -> dict[str, float]:
    """Mean |numerical - backprop| gradient for each of the network's parameters (the book's W1/b1/W2/b2 table)."""
    numerical = network.numerical_gradient(x, t)
    backprop = network.gradient(x, t)
    return {key: float(np.mean(np.abs(backprop[key] - numerical[key]))) for key in numerical}
