"""benchmarks/gpu_check.py's dry run on the CPU: array-api-strict's second device stands in for CuPy, so
every op of the registry is checked against NumPy on another device, and every section of the GPU
check runs; the GPU numbers themselves come only from a GPU machine."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

import graphgrad as gg
from graphgrad.testing import PYTHON_RESULTS

pytest.importorskip("array_api_strict", reason="array-api-strict (the dev extra) stands in for CuPy")
SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "gpu_check.py"


def load_script():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu_check") / "gpu_check.json"
    status = load_script().main(["--dry-run", "--json", str(out)])
    return status, json.loads(out.read_text())


def test_dry_run_writes_every_section(dry_run):
    status, report = dry_run
    assert report["dry_run"] is True and "dry run" in report["environment"]["target"]
    assert set(report) >= {"ops", "kernels", "steps", "mnist", "environment"}
    assert report["kernels"]["skipped"].startswith("the fused kernels need CuPy")
    assert report["mnist"]["exit_status"] == 0 and 0 <= report["mnist"]["test_accuracy"] <= 1


def test_every_registered_op_has_a_case(dry_run):
    _, report = dry_run
    assert report["ops"]["uncovered"] == []
    assert {r["op"] for r in report["ops"]["rows"]} | PYTHON_RESULTS >= {
        c.name for c in gg.ops.public_ops() if c.__module__.startswith("graphgrad.")}


def test_every_op_matches_numpy_on_another_device(dry_run):
    """Forward, backward and second backward in float64 at rtol 1e-10 on array-api-strict's device1."""
    _, report = dry_run
    failures = {r["op"]: r["error"] for r in report["ops"]["rows"] if not r["ok"]}
    assert not failures, failures
    assert all("grad 0" in r["checked"] for r in report["ops"]["rows"] if r["ok"] and r["differentiable"])


def test_step_rows_are_the_issues_and_every_step_runs_on_the_stand_in_device(dry_run):
    status, report = dry_run
    rows = report["steps"]["rows"]
    assert [(r["model"].split()[0], r["batch"]) for r in rows] == [("mlp", 8)] * 2 + [("SimpleConvNet", 8)] * 2 + [("DeepConvNet", 8)]
    for row in rows:
        assert "graphgrad_error" not in row and row.get("graphgrad_ms", 0) > 0 and row.get("torch_ms", 0) > 0, row
    assert status == 0


def test_without_a_gpu_the_real_check_says_why(tmp_path):
    with pytest.raises(SystemExit, match="CuPy is not installed.*--dry-run"):
        load_script().main(["--json", str(tmp_path / "x.json")])
