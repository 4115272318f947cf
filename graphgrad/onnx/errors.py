"""The errors of ONNX export and import, and the lazy import of the optional `onnx` package."""
from __future__ import annotations

import importlib
from types import ModuleType


class ONNXError(ValueError):
    """A model cannot be exported, or a file cannot be imported; the message says why and what to do."""


class UnsupportedOperatorError(ONNXError):
    """An op (export) or ONNX operator (import) has no mapping; the message lists every one."""


def require(name: str = "onnx") -> ModuleType:
    """Import `onnx` (or `onnxruntime`) or say what to install."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ImportError(
            f"graphgrad.onnx needs the {name!r} package: pip install -e '.[onnx]' (or pip install {name})"
        ) from None
