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


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A fake MNIST directory of IDX files: 200 training and 50 test images whose class is written into
    their brightest row (and a cache of its own, so the user's is never touched)."""
    from graphgrad.datasets import write_idx
    from graphgrad.datasets.mnist import IDX_NAMES

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("GRAPHGRAD_DATA", raising=False)
    rng = np.random.default_rng(0)
    d = tmp_path / "mnist"
    d.mkdir()
    for split, n in (("train", 200), ("test", 50)):
        t = rng.integers(0, 10, n).astype(np.uint8)
        x = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        x[np.arange(n), t * 2 + 4] = 255
        write_idx(d / (IDX_NAMES[split][0] + ".gz"), x)
        write_idx(d / (IDX_NAMES[split][1] + ".gz"), t)
    return d
