"""The textbook's numerical gradient (central differences, h = 1e-4) and its gradient-check table."""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..autograd.gradcheck import central_differences


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """(f(x + h) - f(x - h)) / 2h for each element of x, h = 1e-4; x is perturbed in place and restored."""
    return central_differences(lambda: f(x), x, 1e-4)


def gradient_check(network, x: np.ndarray, t: np.ndarray) -> dict[str, float]:
    """Mean |numerical - backprop| gradient for each of the network's parameters (the book's W1/b1/W2/b2 table)."""
    numerical = network.numerical_gradient(x, t)
    backprop = network.gradient(x, t)
    return {key: float(np.mean(np.abs(backprop[key] - numerical[key]))) for key in numerical}
