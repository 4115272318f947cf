"""Global autograd switches: gradient recording (`no_grad`) and NaN/Inf detection (`detect_anomaly`)."""
from __future__ import annotations

import contextlib

grad_enabled = True
anomaly = False


def is_grad_enabled() -> bool:
    """True when operations on tensors are being recorded for backward."""
    return grad_enabled


@contextlib.contextmanager
def set_grad_enabled(enabled: bool):
    """Turn graph recording on or off inside the block."""
    global grad_enabled
    before, grad_enabled = grad_enabled, enabled
    try:
        yield
    finally:
        grad_enabled = before


def no_grad():
    """Context manager: operations inside build no graph (inference, parameter updates)."""
    return set_grad_enabled(False)


def enable_grad():
    """Context manager: record operations again inside a `no_grad` block."""
    return set_grad_enabled(True)


@contextlib.contextmanager
def detect_anomaly():
    """Raise at the first forward or backward that produces NaN or Inf, naming the op."""
    global anomaly
    before, anomaly = anomaly, True
    try:
        yield
    finally:
        anomaly = before
