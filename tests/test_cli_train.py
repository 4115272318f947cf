"""`graphgrad train` / `graphgrad eval` on a small fake MNIST: outputs, resume after interruption, bad input."""
from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from graphgrad.cli import main
from graphgrad.train import load_checkpoint


def train(data_dir, out, *extra):
    return main(["train", "--data", str(data_dir), "--out", str(out), "--batch-size", "20", *extra])


def params(out):
    return load_checkpoint(out)["model"]


def test_train_writes_everything_and_eval_reads_it(data_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert train(data_dir, out, "--epochs", "3", "--optimizer", "adam", "--lr", "0.01") == 0
    captured = capsys.readouterr()
    lines = [l for l in captured.out.splitlines() if l.startswith("epoch")]
    assert len(lines) == 3 and all("train loss" in l and "test acc" in l and l.endswith("s") for l in lines)
    assert "test accuracy" in captured.out and "curves.png" in captured.out
    assert "it/s" not in captured.err  # not a terminal: no tqdm bar in logs (fit(progress=True) forces one)
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert len(rows) == 3 and float(rows[-1]["test_accuracy"]) > 0.8
    assert (out / "curves.png").stat().st_size > 1000
    state = load_checkpoint(out)
    assert state["meta"]["architecture"] == [784, 50, 10] and state["iteration"] == 30

    assert main(["eval", "--checkpoint", str(out), "--data", str(data_dir)]) == 0
    text = capsys.readouterr().out
    assert f"test accuracy {float(rows[-1]['test_accuracy']):.4f}" in text
    matrix = [l for l in text.splitlines() if l.strip()[:1].isdigit()]
    assert len(matrix) == 10 and sum(int(v) for l in matrix for v in l.split()[1:]) == 50


def test_quiet_prints_only_the_result(data_dir, tmp_path, capsys):
    assert train(data_dir, tmp_path / "q", "--iters", "7", "--quiet") == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("test accuracy") and len(captured.out.splitlines()) == 1
    assert captured.err == ""


def test_mlp_with_hidden_sizes_and_float64(data_dir, tmp_path):
    out = tmp_path / "mlp"
    assert train(data_dir, out, "--model", "mlp", "--hidden", "32,16", "--optimizer", "momentum",
                 "--dtype", "float64", "--iters", "5", "--quiet") == 0
    state = params(out)
    assert state["0.weight"].shape == (32, 784) and state["0.weight"].dtype == np.float64
    assert state["4.weight"].shape == (10, 16)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw"])
def test_every_optimizer_trains(data_dir, tmp_path, optimizer):
    assert train(data_dir, tmp_path / optimizer, "--optimizer", optimizer, "--iters", "3", "--quiet") == 0


@pytest.mark.parametrize("schedule, sampling", [("none", "shuffle"), ("cosine", "shuffle"), ("none", "replacement")])
def test_resume_after_interruption_gives_the_uninterrupted_parameters(data_dir, tmp_path, monkeypatch, schedule,
                                                                      sampling):
    from graphgrad import optim

    def train(data_dir, out, *extra):  # every run below uses the same learning-rate schedule and sampling
        return main(["train", "--data", str(data_dir), "--out", str(out), "--batch-size", "20",
                     "--lr-schedule", schedule, "--sampling", sampling, *extra])

    assert train(data_dir, tmp_path / "full", "--epochs", "4", "--optimizer", "momentum", "--quiet") == 0
    real_step, calls = optim.SGD.step, []

    def step_then_interrupt(self, *args):
        calls.append(1)
        if len(calls) == 25:  # in the middle of the third epoch (10 steps each)
            raise KeyboardInterrupt
        return real_step(self, *args)

    monkeypatch.setattr(optim.SGD, "step", step_then_interrupt)
    part = tmp_path / "part"
    assert train(data_dir, part, "--epochs", "4", "--optimizer", "momentum", "--quiet") == 130
    assert load_checkpoint(part)["iteration"] == 20
    monkeypatch.setattr(optim.SGD, "step", real_step)
    assert train(data_dir, part, "--epochs", "4", "--optimizer", "momentum", "--quiet", "--resume") == 0
    full, resumed = params(tmp_path / "full"), params(part)
    for key in full:
        np.testing.assert_array_equal(resumed[key], full[key])
    rows = list(csv.DictReader((part / "metrics.csv").open()))
    assert [r["iteration"] for r in rows] == ["10", "20", "30", "40"]


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_on_the_real_command_then_resume(data_dir, tmp_path, signum, status):
    """SIGINT or SIGTERM to a running `graphgrad train`, then --resume: the same parameters as a run left alone."""
    # batch size 1: 200 steps an epoch, so the run is still going when the signal arrives
    args = ["train", "--data", str(data_dir), "--batch-size", "1", "--epochs", "12", "--optimizer", "adam"]
    assert main(args + ["--out", str(tmp_path / "alone"), "--quiet"]) == 0
    out = tmp_path / "stopped"
    env = dict(os.environ, GRAPHGRAD_NO_PROGRESS="1")
    cmd = [sys.executable, "-c", "import sys; from graphgrad.cli import main; sys.exit(main(sys.argv[1:]))",
           *args, "--out", str(out), "--quiet"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not (out / "checkpoint.npz").exists() and time.time() < deadline:
        time.sleep(0.02)
    time.sleep(0.05)  # into the middle of an epoch
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == status, (stdout, stderr)  # interrupted, not finished
    assert "Traceback" not in stderr and stderr.count("interrupted") == 1 and "--resume" in stderr
    stopped_at = load_checkpoint(out)["iteration"]
    assert f"at iteration {stopped_at} " in stderr and f"saved {out / 'checkpoint.npz'}" in stderr
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    assert main(args + ["--out", str(out), "--resume"]) == 0
    alone, resumed = params(tmp_path / "alone"), params(out)
    for key in alone:
        np.testing.assert_array_equal(resumed[key], alone[key])


@pytest.mark.parametrize("argv, message", [
    (["--model", "resnet"], "argument --model: invalid choice: 'resnet'"),
    (["--optimizer", "lbfgs"], "argument --optimizer: invalid choice: 'lbfgs'"),
    (["--lr", "-0.1"], "--lr must be a positive finite number, got -0.1"),
    (["--batch-size", "201"], "--batch-size 201 is larger than the training set (200 samples)"),
    (["--batch-size", "0"], "--batch-size must be at least 1"),
    (["--model", "mlp", "--hidden", "64,x"], "--hidden must be comma-separated sizes"),
    (["--dtype", "float16"], "argument --dtype: invalid choice: 'float16'"),
    (["--lr-schedule", "warmup"], "argument --lr-schedule: invalid choice: 'warmup'"),
    (["--sampling", "bootstrap"], "argument --sampling: invalid choice: 'bootstrap'"),
    (["--resume"], "cannot resume: no checkpoint in"),
])
def test_bad_input_is_one_line_and_status_2(data_dir, tmp_path, capsys, argv, message):
    assert train(data_dir, tmp_path / "bad", "--iters", "2", *argv) == 2
    *info, err = capsys.readouterr().err.strip().splitlines()
    assert err.startswith("graphgrad train: error: ") and message in err
    assert all(line.startswith("mnist: ") for line in info)  # only the data-source note precedes it


def test_resume_with_another_architecture_is_refused(data_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert train(data_dir, out, "--iters", "3", "--quiet") == 0
    capsys.readouterr()
    assert train(data_dir, out, "--model", "mlp", "--iters", "6", "--resume") == 2
    err = capsys.readouterr().err.strip()
    assert "model='twolayer' (this run: 'mlp')" in err and "\n" not in err
    assert train(data_dir, out, "--sampling", "replacement", "--iters", "6", "--resume") == 2
    err = capsys.readouterr().err.strip()
    assert "sampling='shuffle' (this run: 'replacement')" in err


@pytest.mark.parametrize("damage", ["missing", "truncated", "garbage-npz", "other-format"])
def test_eval_refuses_unreadable_checkpoints(data_dir, tmp_path, capsys, damage):
    out = tmp_path / "run"
    assert train(data_dir, out, "--iters", "3", "--quiet") == 0
    capsys.readouterr()
    ckpt = out / "checkpoint.npz"
    if damage == "missing":
        ckpt.unlink()
    elif damage == "truncated":
        ckpt.write_bytes(ckpt.read_bytes()[:-100])
    elif damage == "garbage-npz":
        ckpt.write_bytes(b"PK\x03\x04garbage")
    else:
        np.savez(ckpt, meta=np.ones(3))
    assert main(["eval", "--checkpoint", str(out), "--data", str(data_dir)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("graphgrad eval: error: ") and "\n" not in err and "Traceback" not in err


def test_missing_data_lists_the_sources_tried(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o"), "--iters", "1"]) == 2
    assert "no train-images-idx3-ubyte" in capsys.readouterr().err
