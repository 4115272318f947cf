"""graphgrad keeps freed array memory in the process (backend/allocator.py): a training step's large
temporaries reuse the heap instead of faulting in fresh pages each time."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc thresholds are Linux's")

PROBE = """
import resource, numpy as np
import graphgrad
def step():  # a step's temporaries: six 7 MB arrays alive together, then freed
    alive = [np.ones(1_730_000, dtype=np.float32) for _ in range(6)]
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(**env) -> int:
    out = subprocess.run([sys.executable, "-c", PROBE], env={**os.environ, **env}, capture_output=True, text=True,
                         check=True)
    return int(out.stdout.split()[-1])


def test_freed_arrays_are_reused_without_page_faults():
    kept, system = _faults(), _faults(GRAPHGRAD_MALLOC="system")
    assert kept < 100, kept  # 20 steps reuse the same heap memory
    assert system > 20 * 1000, system  # glibc's default: the heap trimmed, thousands of fresh 4 KB pages a step


def test_the_users_own_malloc_settings_are_left_alone(monkeypatch):
    from graphgrad.backend.allocator import keep_freed_memory

    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    assert keep_freed_memory() is False
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_")
    monkeypatch.setenv("GRAPHGRAD_MALLOC", "system")
    assert keep_freed_memory() is False
