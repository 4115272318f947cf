"""Stopping a run cleanly: Ctrl-C (SIGINT) and SIGTERM end training between two steps, never inside one.

While `deferred_signals()` is active (the main thread only: Python delivers signals there), the
first SIGINT or SIGTERM only sets a flag; the loop finishes the step it is in, saves, and raises
`Interrupted`. A second signal raises at once (the previous checkpoint is still complete).
The exit status of an interrupted command is 128 + the signal's number: 130 for Ctrl-C, 143 for
SIGTERM, as shells report them.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

HANDLED = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """Training stopped by a signal; `exit_status` is what a command should exit with."""

    def __init__(self, signum: int = signal.SIGINT, message: str | None = None):
        """Stopped by signal `signum`; `message` says where and what was saved."""
        self.signum = int(signum)
        super().__init__(message or f"interrupted by {signal.Signals(self.signum).name}")

    @property
    def exit_status(self) -> int:
        """128 + the signal number (130 for SIGINT, 143 for SIGTERM)."""
        return 128 + self.signum


class StopRequest:
    """Set by the first signal (or by `request`); the training loop polls it between steps."""

    def __init__(self) -> None:
        """No stop requested yet."""
        self.signum: int | None = None

    @property
    def requested(self) -> bool:
        """True once a signal asked the run to stop."""
        return self.signum is not None

    def request(self, signum: int = signal.SIGINT) -> None:
        """Ask the loop to save and stop after the current step."""
        if self.signum is None:
            self.signum = int(signum)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def deferred_signals(enabled: bool = True):
    """Within the block SIGINT/SIGTERM set the yielded StopRequest instead of raising (see the module)."""
    stop = StopRequest()
    if not (enabled and _in_main_thread()):
        yield stop
        return

    def handler(signum, frame):
        if stop.requested:  # asked twice: stop now, inside the step if need be
            raise Interrupted(signum)
        stop.request(signum)

    previous = {s: signal.signal(s, handler) for s in HANDLED}
    try:
        yield stop
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@contextmanager
def sigterm_raises():
    """Within the block SIGTERM raises `Interrupted(SIGTERM)`, as SIGINT raises KeyboardInterrupt."""
    if not _in_main_thread():
        yield
        return

    def handler(signum, frame):
        raise Interrupted(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
