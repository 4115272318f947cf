"""examples/article/: the article's MNIST listing runs as a reader runs it (short, on MNIST-shaped synthetic data)."""
from __future__ import annotations

import os
import re
import subprocess
import sys

from test_book_scripts import data_env  # noqa: F401  (the synthetic IDX files in $GRAPHGRAD_DATA)

ARTICLE = os.path.join(os.path.dirname(__file__), os.pardir, "examples", "article")


def test_mnist_neurons_listing_trains_sample_by_sample(data_env):  # noqa: F811
    done = subprocess.run([sys.executable, os.path.join(ARTICLE, "mnist_neurons.py"), "--train", "600", "--test", "200",
                           "--hidden", "30", "--learning-rate", "0.01"],
                          env=data_env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    accuracy = float(re.search(r"^epoch: 1, accuracy: ([0-9.]+)$", done.stdout, re.M).group(1))
    assert re.search(r"^epoch: 1, loss: [0-9.]+, [0-9.]+ s per 1,000 samples$", done.stdout, re.M)
    assert accuracy > 0.5, done.stdout  # ten classes: chance is 0.1


def test_speed_script_reports_both_apis():
    done = subprocess.run([sys.executable, os.path.join(ARTICLE, "speed.py"), "--samples", "32", "--rounds", "1"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "article's listing (neurons):" in done.stdout and "graphgrad.graph, own API:" in done.stdout
