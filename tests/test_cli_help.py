"""The CLI's surface: --version, python -m graphgrad, help with defaults and choices, --threads, epoch lines."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import graphgrad
from graphgrad.cli import main

sys.path.insert(0, str(Path(__file__).parent))
from test_cli_args import run  # noqa: E402


def test_version_and_python_dash_m():
    status, out, _ = run(["--version"])
    assert status == 0 and out.strip() == f"graphgrad {graphgrad.__version__}"
    done = subprocess.run([sys.executable, "-m", "graphgrad", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == f"graphgrad {graphgrad.__version__}"
    done = subprocess.run([sys.executable, "-m", "graphgrad", "train", "--seed", "-1"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.count("\n") == 1


def test_help_shows_defaults_and_choices():
    status, out, _ = run(["train", "--help"])
    assert status == 0
    flat = " ".join(out.split())
    assert "{twolayer,mlp,cnn,deepcnn}" in flat and "{sgd,momentum,adagrad,rmsprop,adam,adamw}" in flat
    assert "(default: 100)" in flat and "(default: runs/mnist)" in flat and "(default: twolayer)" in flat
    status, out, _ = run(["eval", "--help"])
    assert status == 0 and "Rebuild the model" in " ".join(out.split())


@pytest.mark.parametrize("argv, message", [
    (["--model", "resnet"], "argument --model: invalid choice: 'resnet'"),
    (["--optimizer", "lbfgs"], "argument --optimizer: invalid choice: 'lbfgs'"),
    (["--threads", "0"], "--threads must be at least 1, got 0"),
])
def test_choices_and_threads_are_checked(data_dir, tmp_path, argv, message):
    status, _, err = run(["train", "--data", str(data_dir), "--out", str(tmp_path / "r"), "--iters", "1", *argv])
    assert status == 2 and message in err and err.count("\n") == 1


def test_threads_limits_blas(data_dir, tmp_path, monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl", reason="threadpoolctl (the train extra) is not installed")
    seen = []
    real = threadpoolctl.threadpool_limits

    def spy(limits=None, user_api=None):
        seen.append((limits, user_api))
        return real(limits=limits, user_api=user_api)

    monkeypatch.setattr(threadpoolctl, "threadpool_limits", spy)
    argv = ["train", "--data", str(data_dir), "--batch-size", "20", "--iters", "2", "--quiet"]
    assert run([*argv, "--out", str(tmp_path / "a"), "--threads", "2"])[0] == 0
    assert run([*argv, "--out", str(tmp_path / "b")])[0] == 0
    assert seen == [(2, "blas"), (1, "blas")]  # one BLAS thread unless asked


def test_epoch_lines_count_epochs_and_show_test_loss(data_dir, tmp_path):
    status, out, err = run(["train", "--data", str(data_dir), "--out", str(tmp_path / "r"), "--batch-size", "20",
                            "--iters", "25"])
    lines = [line for line in out.splitlines() if line.startswith("epoch")]
    assert status == 0 and [line.split()[1] for line in lines] == ["1/3", "2/3", "3/3"]
    assert all("train loss" in l and "train acc" in l and "test loss" in l and "test acc" in l for l in lines)
    assert "2.5" not in lines[-1].split()[1] and "iter 25/25" in lines[-1]
    assert "it/s" not in err  # not a terminal: no per-frame progress bar


def test_every_example_flag_has_help_and_shows_its_default():
    import ast

    examples = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))
    flags = 0
    for path in examples:
        for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
                continue
            keywords = {k.arg: k.value for k in call.keywords}
            if call.func.attr == "add_argument":
                flags += 1
                assert "help" in keywords, f"{path.name}:{call.lineno}: {ast.unparse(call.args[0])} has no help"
            if call.func.attr == "ArgumentParser":
                shown = keywords.get("formatter_class")
                assert shown is not None and ast.unparse(shown).endswith("ArgumentDefaultsHelpFormatter"), \
                    f"{path.name}:{call.lineno}: help does not show the defaults"
    assert flags >= 20
    done = subprocess.run([sys.executable, str(examples[0].parent / "static_mnist.py"), "--help"],
                          capture_output=True, text=True, timeout=120)
    flat = " ".join(done.stdout.split())
    assert done.returncode == 0 and "size of the hidden layer (default: 100)" in flat


def test_the_package_metadata_describes_graphgrad():
    import re
    import tomllib

    root = Path(__file__).parent.parent
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["authors"] and len(project["keywords"]) >= 5
    assert project["license"] == "MIT" and (root / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert "Programming Language :: Python :: 3 :: Only" in project["classifiers"]
    # every extra the README tells users to install exists
    readme = (root / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\.\[(\w+(?:-\w+)?)\]", readme)) | set(re.findall(r"graphgrad\[(\w+(?:-\w+)?)\]", readme))
    assert {"train", "viz", "onnx", "dev", "mpi", "docs"} <= named <= set(project["optional-dependencies"])


def test_without_matplotlib_the_summary_does_not_list_curves(data_dir, tmp_path, monkeypatch):
    args = ["train", "--data", str(data_dir), "--batch-size", "20", "--iters", "10"]
    status, out, _ = run(args + ["--out", str(tmp_path / "with")])
    assert status == 0 and f"curves: {tmp_path / 'with' / 'curves.png'}" in out
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    status, out, err = run(args + ["--out", str(tmp_path / "without")])
    assert status == 0 and not (tmp_path / "without" / "curves.png").exists()
    assert "no curves.png" in out + err and "curves:" not in out
    assert f"metrics: {tmp_path / 'without' / 'metrics.csv'}" in out
