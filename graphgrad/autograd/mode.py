"""Autograd switches, per thread (as PyTorch's): gradient recording (`no_grad`) and NaN/Inf detection.

Each thread starts with recording on and anomaly detection off; a block in one thread never
changes another thread's mode, and the engine's backward switches recording off only in its own.
"""
from __future__ import annotations

import contextlib
import threading


class _State(threading.local):
    grad_enabled = True  # class defaults: every new thread starts here
    anomaly = False
    inference = False


state = _State()


def is_grad_enabled() -> bool:
    """True when operations on tensors are being recorded for backward (in this thread)."""
    return state.grad_enabled


class set_grad_enabled:
    """Turn graph recording on or off: at once when called, and back when used as a context manager exits."""

    def __init__(self, enabled: bool):
        """Set recording to `enabled` now (this thread); leaving the `with` block restores the mode before."""
        self.before, self.enabled = state.grad_enabled, bool(enabled)
        state.grad_enabled = self.enabled  # as in PyTorch: calling it sets the mode right away

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        state.grad_enabled = self.before
        return False


class _Switch(contextlib.ContextDecorator):
    """A block (or decorated function) that runs with recording set to `enabled`."""

    enabled = False

    def __enter__(self):
        self.before = state.grad_enabled
        state.grad_enabled = self.enabled
        return self

    def __exit__(self, *exc):
        state.grad_enabled = self.before
        return False


class no_grad(_Switch):
    """Context manager or decorator: operations inside build no graph (inference, parameter updates)."""

    enabled = False


class enable_grad(_Switch):
    """Context manager or decorator: record operations again inside a `no_grad` block."""

    enabled = True


class inference_mode(_Switch):
    """Like `no_grad` (graphgrad has no separate inference tensors); `inference_mode(False)` records."""

    def __init__(self, mode: bool = True):
        """`mode=True` stops recording inside the `with` block, as `no_grad` does; False leaves it on."""
        self.enabled = not mode


@contextlib.contextmanager
def detect_anomaly():
    """Raise at the first forward or backward that produces NaN or Inf, naming the op (this thread)."""
    before, state.anomaly = state.anomaly, True
    try:
        yield
    finally:
        state.anomaly = before
