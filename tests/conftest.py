"""Shared test fixtures: the optional PyTorch oracle, float64 numerical gradients."""
from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import settings

# CI replays the same examples every run (a red build is reproducible); local runs keep exploring.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "default")

try:
    import torch
except ImportError:  # the oracle is optional; CI installs it
    torch = None


@pytest.fixture
def torch_oracle():
    """The torch module, or a skip when PyTorch is not installed."""
    if torch is None:
        pytest.skip("PyTorch is not installed (pip install torch==2.13.0)")
    return torch


def numeric_grad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of scalar f at float64 array x (x is perturbed in place, then restored)."""
    g = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + eps
        hi = f(x)
        x[i] = old - eps
        lo = f(x)
        x[i] = old
        g[i] = (hi - lo) / (2 * eps)
    return g
