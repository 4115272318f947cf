"""examples/matrixslow/: MatrixSlow's examples written for graphgrad.matrixslow run as a reader runs them (short, on
MNIST-shaped synthetic data)."""
from __future__ import annotations

import os
import re
import subprocess
import sys

from test_book_scripts import data_env  # noqa: F401  (the synthetic IDX files in $GRAPHGRAD_DATA)

EXAMPLES = os.path.join(os.path.dirname(__file__), os.pardir, "examples", "matrixslow")


def test_cnn_mnist_example_trains_sample_by_sample_and_prints_matrixslows_lines(data_env):  # noqa: F811
    done = subprocess.run([sys.executable, os.path.join(EXAMPLES, "cnn_mnist.py"), "--samples", "64", "--epochs", "2",
                           "--seed", "0"], env=data_env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    steps = re.findall(r"^epoch: (\d), iteration: (\d+), loss: ([0-9.]+)$", out, re.M)
    assert [(e, i) for e, i, _ in steps] == [("1", "32"), ("1", "64"), ("2", "32"), ("2", "64")], out
    assert all(abs(float(loss) - 2.303) < 0.2 for _, _, loss in steps)  # ten classes, tiny initial weights: ~ln 10
    accuracies = re.findall(r"^epoch: (\d), accuracy: ([0-9.]+)$", out, re.M)
    assert [e for e, _ in accuracies] == ["1", "2"] and all(0 <= float(a) <= 1 for _, a in accuracies)
    assert re.search(r"^CPU time: [0-9.]+ s$", out, re.M)
