"""Real `graphgrad train` processes stopped at random (SIGKILL, SIGINT, SIGTERM, a kill inside each write
step), then resumed: every run resumes, ends bit-identical to one left alone, loses no saved progress
and leaves no temporary file.

`python tests/test_train_interrupted_runs.py 64` prints the figures for many runs; the test runs a few.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import graphgrad as gg
from graphgrad.datasets import write_idx
from graphgrad.datasets.mnist import IDX_NAMES

# The command, with every completed checkpoint's iteration logged, and optionally a SIGKILL at the
# n-th call of one of atomic_write's steps.
DRIVER = """
import os, signal, sys
from graphgrad import io
import graphgrad.train.loop as loop
real_save = loop.save_checkpoint
def logged(out, state):
    path = real_save(out, state)
    with open(os.environ["GG_SAVE_LOG"], "a") as f:
        f.write(f"{state['iteration']}\\n")
    return path
loop.save_checkpoint = logged
if os.environ.get("GG_KILL"):
    step, when, n = os.environ["GG_KILL"].split(":")
    real, calls = getattr(io, step), []
    def killed(*args):
        calls.append(1)
        if when == "after":
            real(*args)
        if len(calls) == int(n):
            os.kill(os.getpid(), signal.SIGKILL)
        if when == "before":
            real(*args)
    setattr(io, step, killed)
from graphgrad.cli import main
sys.exit(main(sys.argv[1:]))
"""
SETTINGS = ["--batch-size", "1", "--epochs", "3", "--optimizer", "adam", "--checkpoint-every", "37", "--quiet"]
STEPS = [f"{step}:{when}" for step in ("_write", "_fsync", "_rename", "_fsync_dir") for when in ("before", "after")]
STATUS = {"SIGINT": 130, "SIGTERM": 143, "SIGKILL": -9}


def fake_mnist(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for split, n in (("train", 200), ("test", 50)):
        t = rng.integers(0, 10, n).astype(np.uint8)
        x = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        x[np.arange(n), t * 2 + 4] = 255
        write_idx(folder / (IDX_NAMES[split][0] + ".gz"), x)
        write_idx(folder / (IDX_NAMES[split][1] + ".gz"), t)
    return folder


def command(data: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-c", DRIVER, "train", "--data", str(data), "--out", str(out), *SETTINGS, *extra]


def logged(log: Path) -> int:
    """The iteration of the last checkpoint the run finished writing (-1: none yet)."""
    lines = log.read_text().split() if log.exists() else []
    return int(lines[-1]) if lines else -1


def one_run(kind: str, data: Path, out: Path, rng: np.random.Generator, reference: dict, env: dict) -> dict:
    """Start, interrupt as `kind` says, resume; return what happened."""
    log = out.parent / f"{out.name}.log"
    env = dict(env, GG_SAVE_LOG=str(log))
    kill = {"GG_KILL": f"{kind[5:]}:{rng.integers(1, 30)}"} if kind.startswith("kill@") else {}
    proc = subprocess.Popen(command(data, out), env=dict(env, **kill), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    if not kind.startswith("kill@"):
        deadline = time.time() + 60
        while logged(log) < 0 and proc.poll() is None and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.25))  # the run takes seconds: the signal lands mid-run
        proc.send_signal(getattr(signal, kind))
    stdout, stderr = proc.communicate(timeout=120)
    before = logged(log)  # every save the process completed before it died
    result = {"kind": kind, "interrupted": proc.returncode != 0, "traceback": "Traceback" in stderr}
    expected_status = STATUS["SIGKILL"] if kind.startswith("kill@") else STATUS[kind]
    result["status_ok"] = proc.returncode in (0, expected_status)
    if kind in ("SIGINT", "SIGTERM") and proc.returncode == expected_status:
        result["said_once"] = stderr.count("interrupted") == 1 and "--resume" in stderr
    try:
        after = gg.load(out / "checkpoint.npz")["iteration"]
    except (OSError, gg.CheckpointError):
        after = -1
    result["lost"] = after < before  # a completed save is gone or damaged
    result["saved_where_stopped"] = kind in ("SIGINT", "SIGTERM") and f"at iteration {after} " in stderr
    resume = subprocess.run(command(data, out, "--resume" if after >= 0 else "--overwrite"), env=env,
                            capture_output=True, text=True, timeout=120)
    result["resumed"] = resume.returncode == 0
    try:
        final = gg.load(out / "checkpoint.npz")["model"]
        result["identical"] = all(np.array_equal(final[k], reference[k]) for k in reference)
    except (OSError, gg.CheckpointError):
        result["identical"] = False
    result["leftovers"] = len([p for p in out.iterdir() if p.name.endswith(".tmp")])
    return result


def interrupted_runs(n: int, seed: int = 0, folder: Path | None = None) -> dict:
    """n interrupted-and-resumed runs, cycling through the kinds of interruption; the counts."""
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        tmp = Path(tmp)
        env = dict(os.environ, XDG_CACHE_HOME=str(tmp / "cache"), GRAPHGRAD_NO_PROGRESS="1")
        data = fake_mnist(tmp / "mnist")
        assert subprocess.run(command(data, tmp / "alone"), env=dict(env, GG_SAVE_LOG=str(tmp / "alone.log")),
                              capture_output=True).returncode == 0
        reference = gg.load(tmp / "alone" / "checkpoint.npz")["model"]
        kinds = ["SIGKILL", "SIGINT", "SIGTERM"] + [f"kill@{s}" for s in STEPS]
        rng = np.random.default_rng(seed)
        results = [one_run(kinds[i % len(kinds)], data, tmp / f"run{i}", rng, reference, env) for i in range(n)]
    return {
        "runs": n,
        "interrupted": sum(r["interrupted"] for r in results),
        "resumed": sum(r["resumed"] for r in results),
        "bit_identical": sum(r["identical"] for r in results),
        "progress_lost": sum(r["lost"] for r in results),
        "leftover_files": sum(r["leftovers"] for r in results),
        "tracebacks": sum(r["traceback"] for r in results),
        "wrong_status": sum(not r["status_ok"] for r in results),
        "signal_saved_where_it_stopped": f"{sum(r['saved_where_stopped'] for r in results)}/"
                                         f"{sum(r['kind'] in ('SIGINT', 'SIGTERM') and r['interrupted'] for r in results)}",
        "said_once": sum(r.get("said_once", True) for r in results),
    }


def test_random_interruptions_of_the_real_command_resume_bit_identical(tmp_path):
    counts = interrupted_runs(6, folder=tmp_path)  # SIGKILL, SIGINT, SIGTERM and three write-step kills
    assert counts["resumed"] == counts["bit_identical"] == counts["said_once"] == 6, counts
    assert counts["progress_lost"] == counts["leftover_files"] == counts["tracebacks"] == 0, counts
    saved, signalled = counts["signal_saved_where_it_stopped"].split("/")
    assert counts["wrong_status"] == 0 and saved == signalled, counts


if __name__ == "__main__":
    started = time.perf_counter()
    print(interrupted_runs(int(sys.argv[1]) if len(sys.argv) > 1 else 64))
    print(f"{time.perf_counter() - started:.0f} s")
