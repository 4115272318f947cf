"""graphgrad and graphgrad.onnx import without the optional onnx package being loaded."""
from __future__ import annotations

import subprocess
import sys


def test_importing_graphgrad_does_not_import_onnx():
    code = ("import sys, graphgrad, graphgrad.onnx, graphgrad.cli; graphgrad.cli.build_parser(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('onnx', 'onnxruntime', 'torch')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_missing_onnx_names_what_to_install(monkeypatch):
    import graphgrad.onnx as gonnx
    import pytest

    monkeypatch.setitem(sys.modules, "onnx", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"pip install -e '\.\[onnx\]'"):
        gonnx.load("model.onnx")
