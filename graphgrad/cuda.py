"""graphgrad.cuda: whether CUDA GPUs are usable, how many, which is current, and their random seeds.

GPU arrays are CuPy arrays (the optional extra `pip install -e '.[cuda]'`). CuPy is imported
only when one of these functions is called, never by `import graphgrad`. Without CuPy or without a
GPU, `is_available()` is False and `device_count()` 0; the functions that need a GPU say why not.
"""
from __future__ import annotations

INSTALL = "pip install -e '.[cuda]'"


def _cupy():
    try:
        import cupy
    except ImportError:
        return None
    return cupy


def unavailable_reason() -> str | None:
    """Why CUDA cannot be used here (CuPy missing, no GPU found), or None when it can."""
    cp = _cupy()
    if cp is None:
        return f"CuPy is not installed ({INSTALL} installs CuPy for CUDA 12)"
    try:
        count = cp.cuda.runtime.getDeviceCount()
    except Exception as err:  # CUDARuntimeError without a driver, missing CUDA libraries, ...
        return f"CuPy is installed but found no usable CUDA GPU ({type(err).__name__}: {err})"
    if count == 0:
        return "CuPy is installed but found no CUDA GPU"
    return None


def is_available() -> bool:
    """True when CuPy is installed and sees at least one CUDA GPU."""
    return unavailable_reason() is None


def device_count() -> int:
    """The number of CUDA GPUs CuPy sees (0 without CuPy or a GPU)."""
    return 0 if unavailable_reason() is not None else _cupy().cuda.runtime.getDeviceCount()


def require(what: str):
    """The CuPy module, or a RuntimeError saying why `what` cannot run on a GPU here."""
    reason = unavailable_reason()
    if reason is not None:
        raise RuntimeError(f"{what}: CUDA is not available: {reason}")
    return _cupy()


def current_device() -> int:
    """The index of the current GPU (the one 'cuda' without an index means)."""
    return require("graphgrad.cuda.current_device()").cuda.runtime.getDevice()


def _index(device) -> int | None:
    if device is None or isinstance(device, int):
        return device
    from .backend.devices import device as make_device

    d = make_device(device)
    if d.type != "cuda":
        raise ValueError(f"graphgrad.cuda: expected a CUDA device, got {d}")
    return d.index


def synchronize(device=None) -> None:
    """Wait until every kernel queued on `device` (default: the current GPU) has finished."""
    cp = require("graphgrad.cuda.synchronize()")
    index = _index(device)
    cp.cuda.Device(cp.cuda.runtime.getDevice() if index is None else index).synchronize()


def manual_seed(seed: int) -> None:
    """Seed CuPy's random generator on the current GPU; does nothing without a GPU (as PyTorch)."""
    if is_available():
        _cupy().random.seed(int(seed))


def manual_seed_all(seed: int) -> None:
    """Seed CuPy's random generator on every GPU; does nothing without a GPU."""
    if is_available():
        cp = _cupy()
        for i in range(cp.cuda.runtime.getDeviceCount()):
            with cp.cuda.Device(i):
                cp.random.seed(int(seed))


__all__ = ["is_available", "device_count", "current_device", "synchronize", "manual_seed", "manual_seed_all",
           "unavailable_reason", "require"]
