"""The CLI refuses bad arguments, settings and files with exit status 2 and one line: never a traceback."""
from __future__ import annotations

import contextlib
import io as stdio
import sys
from pathlib import Path

import numpy as np
import pytest

import graphgrad as gg
from graphgrad.cli import main
from graphgrad.datasets import write_idx
from graphgrad.datasets.mnist import IDX_NAMES

sys.path.insert(0, str(Path(__file__).parent))


def run(argv) -> tuple[int, str, str]:
    """main(argv) in-process: (status, stdout, stderr); SystemExit (argparse) counts as a status."""
    out, err = stdio.StringIO(), stdio.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exit:
            status = exit.code
    return status, out.getvalue(), err.getvalue()


def assert_refused(argv, message=None, command=None):
    status, _, err = run(argv)
    lines = [line for line in err.strip().splitlines() if not line.startswith("mnist: ")]
    assert status == 2, (argv, err)
    assert len(lines) == 1 and "Traceback" not in err, err
    # argparse reports arguments no sub-command knows as the top-level program's
    assert lines[0].startswith((f"graphgrad {command or argv[0]}: error: ", "graphgrad: error: ")), lines[0]
    if message is not None:
        assert message in lines[0], lines[0]
    return lines[0]


def train_args(data_dir, out, *extra):
    return ["train", "--data", str(data_dir), "--out", str(out), "--batch-size", "20", "--iters", "3",
            "--quiet", *extra]


@pytest.mark.parametrize("extra, message", [
    (["--seed", "-1"], "--seed must be between 0 and 2**63-1, got -1"),
    (["--seed", str(2**64)], "--seed must be between 0 and 2**63-1"),
    (["--model", "mlp", "--hidden", "1000000000"], "would need about"),
    (["--model", "mlp", "--hidden", "50000,50000,50000"], "use smaller --hidden sizes"),
    (["--lr", "inf"], "--lr must be a positive finite number, got inf"),
    (["--lr", "nan"], "--lr must be a positive finite number, got nan"),
    (["--lr", "1e308"], "training diverged"),
    (["--weight-init-std", "nan"], "--weight-init-std must be a finite number >= 0, got nan"),
    (["--weight-init-std", "inf"], "--weight-init-std must be a finite number >= 0, got inf"),
    (["--min-test-accuracy", "nan"], "--min-test-accuracy must be between 0 and 1, got nan"),
    (["--min-test-accuracy", "2"], "--min-test-accuracy must be between 0 and 1"),
    (["--checkpoint-every", "0"], "--checkpoint-every must be at least 1, got 0"),
    (["--seed", "1.5"], "argument --seed: invalid int value: '1.5'"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_settings_are_refused_in_one_line(data_dir, tmp_path, extra, message):
    assert_refused(train_args(data_dir, tmp_path / "run", *extra), message)


def test_lr_1e308_stops_with_one_line_and_saves_no_nan(data_dir, tmp_path):
    line = assert_refused(train_args(data_dir, tmp_path / "run", "--lr", "1e308"))
    assert "lower the learning rate" in line and "--lr 1e+308" in line
    assert not (tmp_path / "run" / "checkpoint.npz").exists()


def test_out_that_is_a_file_or_cannot_be_created(data_dir, tmp_path):
    (tmp_path / "file").write_text("x")
    assert_refused(train_args(data_dir, tmp_path / "file"), "is a file; give a directory")
    assert_refused(train_args(data_dir, tmp_path / "file" / "sub"), "cannot create --out")


def test_an_existing_run_needs_resume_or_overwrite(data_dir, tmp_path):
    out = tmp_path / "run"
    assert run(train_args(data_dir, out))[0] == 0
    before = gg.load(out / "checkpoint.npz")["model"]["0.weight"]
    assert_refused(train_args(data_dir, out, "--seed", "3"), "already holds a run (checkpoint.npz, metrics.csv")
    np.testing.assert_array_equal(gg.load(out / "checkpoint.npz")["model"]["0.weight"], before)
    assert_refused(train_args(data_dir, out, "--resume", "--overwrite"), "give one of them")
    assert run(train_args(data_dir, out, "--seed", "3", "--overwrite"))[0] == 0
    assert gg.load(out / "checkpoint.npz")["meta"]["seed"] == 3


def test_resume_with_other_settings_lists_all_of_them(data_dir, tmp_path):
    out = tmp_path / "run"
    assert run(train_args(data_dir, out, "--lr", "0.1"))[0] == 0
    line = assert_refused(train_args(data_dir, out, "--lr", "0.5", "--seed", "4", "--resume"))
    assert "lr=0.1 (this run: 0.5)" in line and "seed=0 (this run: 4)" in line
    status, stdout, _ = run(["train", "--data", str(data_dir), "--out", str(out), "--batch-size", "20",
                             "--iters", "6", "--lr", "0.1", "--resume"])
    assert status == 0 and f"resuming from {out / 'checkpoint.npz'} at iteration 3 (epoch 1, batch 3 of 10)" in stdout


def test_labels_out_of_range_are_refused_before_training(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    d = tmp_path / "mnist"
    d.mkdir()
    for split, n in (("train", 40), ("test", 10)):
        t = (np.arange(n) % 10).astype(np.uint8)
        t[-1] = 12
        write_idx(d / (IDX_NAMES[split][0] + ".gz"), np.zeros((n, 28, 28), np.uint8))
        write_idx(d / (IDX_NAMES[split][1] + ".gz"), t)
    assert_refused(train_args(d, tmp_path / "run"), "holds label 12 at index 39; labels must lie in 0..9")  # the IDX reader checks first
    assert not (tmp_path / "run" / "checkpoint.npz").exists()


def tamper(out, how):
    path = out / "checkpoint.npz"
    state = gg.load(path)
    if how == "list":
        state = [1, 2, 3]
    elif how == "int":
        state = 7
    elif how == "iteration-float":
        state["iteration"] = 2.5
    elif how == "iteration-text":
        state["iteration"] = "3"
    elif how == "iteration-negative":
        state["iteration"] = -1
    elif how == "rng-garbage":
        state["loader"]["generator"] = {"bit_generator": "PCG64", "state": {"state": -1, "inc": "x"}}
    elif how == "rng-not-dict":
        state["loader"]["generator"] = 5
    elif how == "batches-done":
        state["loader"]["batches_done"] = 10**6
    elif how == "model-list":
        state["model"] = [1]
    elif how == "model-shapes":
        state["model"]["0.weight"] = np.zeros((3, 3), np.float32)
    elif how == "optimizer-empty":
        state["optimizer"] = {}
    elif how == "progress":
        state["epoch_progress"] = {"loss_sum": "x"}
    elif how == "history":
        state["history"] = [1, 2]
    elif how == "huge-architecture":
        state["meta"]["architecture"] = [784, 10**9, 10]
    elif how == "architecture-text":
        state["meta"]["architecture"] = "784-50-10"
    gg.save(state, path)


TAMPERING = ["list", "int", "iteration-float", "iteration-text", "iteration-negative", "rng-garbage", "rng-not-dict",
             "batches-done", "model-list", "model-shapes", "optimizer-empty", "progress", "history",
             "huge-architecture", "architecture-text"]


@pytest.mark.parametrize("how", TAMPERING)
def test_resume_and_eval_of_a_tampered_checkpoint_are_one_line(data_dir, tmp_path, how):
    out = tmp_path / "run"
    assert run(train_args(data_dir, out))[0] == 0
    tamper(out, how)
    resume = ["train", "--data", str(data_dir), "--out", str(out), "--batch-size", "20", "--iters", "6",
              "--quiet", "--resume"]
    if how in ("rng-garbage", "rng-not-dict", "batches-done", "optimizer-empty", "progress"):  # not needed by eval
        assert run(["eval", "--checkpoint", str(out), "--data", str(data_dir), "--quiet"])[0] == 0
    else:
        assert_refused(["eval", "--checkpoint", str(out), "--data", str(data_dir)])
    assert_refused(resume, "cannot resume")


def test_a_size_bomb_checkpoint_is_refused(data_dir, tmp_path):
    from test_io_atomic import _bomb

    out = tmp_path / "run"
    out.mkdir()
    _bomb(out / "checkpoint.npz", (10**10,))
    assert_refused(["eval", "--checkpoint", str(out), "--data", str(data_dir)], "declares shape (10000000000,)")


def test_graph_command_bad_input(tmp_path):
    (tmp_path / "x.txt").write_text("def f(): pass")
    (tmp_path / "folder").mkdir()
    (tmp_path / "broken.py").write_text("def f(:\n")
    (tmp_path / "raises.py").write_text("def f():\n    raise RuntimeError('nope')\n")
    assert_refused(["graph", f"{tmp_path / 'x.txt'}:f", "--dot", "-"], "is not a Python file")
    assert_refused(["graph", f"{tmp_path / 'broken.py'}:f", "--dot", "-"], "running")
    assert_refused(["graph", f"{tmp_path / 'raises.py'}:f", "--dot", "-"], "raised RuntimeError: nope")
    line = assert_refused(["graph", "apple", "--html", str(tmp_path / "missing" / "a.html")], "does not exist")
    assert ".tmp" not in line
    assert_refused(["graph", "apple", "--dot", str(tmp_path / "folder")], "it is a folder")
    assert_refused(["graph", "apple", "--dot", "-", "--max-nodes", "0"], "--max-nodes must be at least 1, got 0")
    assert_refused(["graph", "apple", "--dot", "-", "--max-nodes", "2"], "")
    assert not [p for p in tmp_path.rglob("*.tmp")]


# ---- fuzz: generated bad command lines ---------------------------------------------------------

BAD_TRAIN = {
    "--model": ["resnet", "", "MLP"], "--optimizer": ["lbfgs", "", "Adam"],
    "--lr": ["-1", "0", "nan", "inf", "-inf", "abc", "", "1e309", "0x10", "1e308"],
    "--lr-schedule": ["warmup", ""], "--batch-size": ["0", "-5", "1.5", "abc", "99999999"],
    "--sampling": ["bootstrap", ""], "--epochs": ["0", "-1", "2.5", "x"], "--iters": ["0", "-3", "1e3"],
    "--seed": ["-1", str(2**64), "x", "1.0"], "--dtype": ["float16", "int32", ""],
    "--weight-init-std": ["nan", "inf", "-0.1", "x"], "--min-test-accuracy": ["nan", "1.5", "-0.1", "x"],
    "--checkpoint-every": ["0", "-1", "x"],
}
BAD_HIDDEN = ["0", "1000000000", "64,x", "", ",", "-5", "64,,64", "1e3", "3000000,3000000"]
GOOD_TRAIN = {"--optimizer": ["adam", "momentum"], "--lr": ["0.01"], "--seed": ["1"], "--dtype": ["float64"],
              "--lr-schedule": ["cosine"], "--sampling": ["replacement"], "--checkpoint-every": ["2"]}
BAD_GRAPH = [["nosuchexample", "--dot", "-"], ["apple"], ["apple", "--max-nodes", "0", "--dot", "-"],
             ["apple", "--max-nodes", "-3", "--dot", "-"], ["apple", "--max-nodes", "x", "--dot", "-"],
             ["x.txt:f", "--dot", "-"], ["nofile.py:f", "--dot", "-"], ["apple", "--svg", "out.bmp"],
             ["apple", "--html", "missing/a.html"], ["apple", "--dot", "."], ["apple", "--bogus"], []]


def fuzz_cases(rng: np.random.Generator, data_dir: Path, tmp: Path, n: int):
    """n command lines, each with at least one bad value; yields (argv, description)."""
    for i in range(n):
        kind = rng.choice(["train", "train", "train", "mlp", "graph", "eval", "toplevel"])
        if kind == "graph":
            yield ["graph", *BAD_GRAPH[rng.integers(len(BAD_GRAPH))]]
            continue
        if kind == "eval":
            target = rng.choice([str(tmp / "nowhere"), str(tmp / "file.txt"), str(tmp), ""])
            yield ["eval", "--checkpoint", str(target), "--data", str(data_dir)]
            continue
        if kind == "toplevel":
            yield [rng.choice(["", "nosuchcommand", "--bogus", "-x"])]
            continue
        argv = ["train", "--data", str(data_dir), "--out", str(tmp / f"run{i}"), "--iters", "2", "--quiet",
                "--batch-size", "20"]
        flags = list(BAD_TRAIN)
        for flag in rng.choice(flags, size=rng.integers(1, 4), replace=False):
            argv += [flag, str(rng.choice(BAD_TRAIN[flag]))]
        if kind == "mlp":
            argv += ["--model", "mlp", "--hidden", str(rng.choice(BAD_HIDDEN))]
        for flag in rng.choice(list(GOOD_TRAIN), size=rng.integers(0, 3), replace=False):
            if flag not in argv:
                argv += [flag, str(rng.choice(GOOD_TRAIN[flag]))]
        if rng.random() < 0.1:
            argv += ["--resume", "--overwrite"] if rng.random() < 0.5 else ["--epochs", "2"]
        yield argv


def fuzz(data_dir: Path, tmp: Path, n: int = 300, seed: int = 0) -> dict:
    """Run n generated bad command lines in-process; count tracebacks and exit statuses other than 2."""
    (tmp / "file.txt").write_text("not a checkpoint")
    counts = {"runs": 0, "tracebacks": 0, "wrong_status": 0, "not_one_line": 0}
    failures = []
    for argv in fuzz_cases(np.random.default_rng(seed), data_dir, tmp, n):
        counts["runs"] += 1
        try:
            status, _, err = run(argv)
        except Exception as exc:  # noqa: BLE001 - an escaped exception is exactly what we count
            counts["tracebacks"] += 1
            failures.append((argv, repr(exc)))
            continue
        lines = [line for line in err.strip().splitlines() if not line.startswith("mnist: ")]
        if "Traceback" in err:
            counts["tracebacks"] += 1
            failures.append((argv, err))
        elif status != 2:
            counts["wrong_status"] += 1
            failures.append((argv, status, err))
        elif len(lines) != 1:
            counts["not_one_line"] += 1
            failures.append((argv, err))
    counts["failures"] = failures[:5]
    return counts


def test_fuzzed_bad_command_lines_are_refused_with_status_2_and_one_line(data_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    counts = fuzz(data_dir, tmp_path, n=300)
    assert counts == {"runs": 300, "tracebacks": 0, "wrong_status": 0, "not_one_line": 0, "failures": []}


if __name__ == "__main__":  # the figures for the report: python tests/test_cli_args.py [N]
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["XDG_CACHE_HOME"] = str(tmp / "cache")
        os.chdir(tmp)
        rng = np.random.default_rng(0)
        d = tmp / "mnist"
        d.mkdir()
        for split, n in (("train", 200), ("test", 50)):
            write_idx(d / (IDX_NAMES[split][0] + ".gz"), rng.integers(0, 255, (n, 28, 28)).astype(np.uint8))
            write_idx(d / (IDX_NAMES[split][1] + ".gz"), rng.integers(0, 10, n).astype(np.uint8))
        print(fuzz(d, tmp, n=int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
