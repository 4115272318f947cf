"""`graphgrad train --model cnn|deepcnn` on a small fake MNIST: learning, checkpoints, resume, eval."""
from __future__ import annotations

import numpy as np
import pytest

from graphgrad.cli import main
from graphgrad.train import load_checkpoint
from graphgrad.train.models import deep_cnn, simple_cnn


def train(data_dir, out, *extra):
    return main(["train", "--data", str(data_dir), "--out", str(out), "--batch-size", "20", "--quiet", *extra])


def test_simple_cnn_learns_and_resumes_exactly(data_dir, tmp_path, capsys):
    full, part = tmp_path / "full", tmp_path / "part"
    assert train(data_dir, full, "--model", "cnn", "--optimizer", "adam", "--epochs", "2",
                 "--min-test-accuracy", "0.8") == 0
    assert train(data_dir, part, "--model", "cnn", "--optimizer", "adam", "--epochs", "1") == 0
    assert train(data_dir, part, "--model", "cnn", "--optimizer", "adam", "--epochs", "2", "--resume") == 0
    a, b = load_checkpoint(full), load_checkpoint(part)
    assert a["meta"]["model"] == "cnn" and a["iteration"] == b["iteration"] == 20
    for key in a["model"]:
        np.testing.assert_array_equal(a["model"][key], b["model"][key])
    capsys.readouterr()
    assert main(["eval", "--checkpoint", str(full), "--data", str(data_dir), "--quiet"]) == 0
    assert "(cnn 784-conv30x5x5-pool2-100-10, iteration 20)" in capsys.readouterr().out


def test_deep_cnn_trains_a_few_steps_and_evaluates(data_dir, tmp_path, capsys):
    out = tmp_path / "deep"
    assert train(data_dir, out, "--model", "deepcnn", "--optimizer", "adam", "--iters", "4") == 0
    assert load_checkpoint(out)["iteration"] == 4
    assert main(["eval", "--checkpoint", str(out), "--data", str(data_dir), "--quiet"]) == 0
    assert train(data_dir, out, "--model", "cnn", "--iters", "6", "--resume") == 2  # another model: refused
    assert "cannot resume" in capsys.readouterr().err


def test_the_textbook_architectures():
    simple = simple_cnn(0)
    assert sum(p.numel() for p in simple.parameters()) == 30 * 25 + 30 + 4320 * 100 + 100 + 100 * 10 + 10
    deep = deep_cnn(0)
    convs = [m for m in deep if type(m).__name__ == "Conv2d"]
    assert [c.out_channels for c in convs] == [16, 16, 32, 32, 64, 64]
    assert [type(m).__name__ for m in deep].count("MaxPool2d") == 3
    assert [type(m).__name__ for m in deep].count("Dropout") == 2
    deep.eval()
    import graphgrad as gg

    assert deep(gg.tensor(np.zeros((2, 784), np.float32))).shape == (2, 10)
