"""The book-style scripts in examples/book/ run end to end (short versions) and show the book's kind of result.

They run as the reader runs them, in a subprocess, on MNIST-shaped synthetic data written as IDX
files into $GRAPHGRAD_DATA (CI has no MNIST download): every class is a fixed random ink pattern,
with noise, so the networks can learn it.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest

import graphgrad as gg
from graphgrad.datasets.idx import write_idx
from graphgrad.datasets.mnist import IDX_NAMES

BOOK = os.path.join(os.path.dirname(__file__), os.pardir, "examples", "book")


def synthetic_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    prototypes = np.random.default_rng(1234).random((10, 28, 28)) < 0.15
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    ink = prototypes[labels] ^ (rng.random((n, 28, 28)) < 0.05)
    return (ink * rng.integers(128, 256, (n, 28, 28))).astype(np.uint8), labels.astype(np.uint8)


@pytest.fixture(scope="module")
def data_env(tmp_path_factory):
    root = tmp_path_factory.mktemp("mnist")
    for split, n, seed in (("train", 1200, 0), ("test", 400, 1)):
        x, t = synthetic_split(n, seed)
        images, labels = IDX_NAMES[split]
        write_idx(root / images, x)
        write_idx(root / labels, t)
    env = dict(os.environ, GRAPHGRAD_DATA=str(root), XDG_CACHE_HOME=str(root / "cache"))
    return env


def run(script: str, *args: str, env: dict, cwd=None) -> str:
    done = subprocess.run([sys.executable, os.path.join(BOOK, script), *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout


def final_losses(out: str) -> dict[str, float]:
    tail = out.split("mean loss over the last 100 iterations:")[1]
    return {k: float(v) for k, v in re.findall(r"^(\S+): ([0-9.]+)$", tail, re.M)}


def test_optimizer_comparison_every_adaptive_method_beats_sgd(data_env):
    out = run("optimizer_compare_mnist.py", "--iters", "150", env=data_env)
    assert "===========iteration:0===========" in out and "===========iteration:100===========" in out
    loss = final_losses(out)
    assert set(loss) == {"SGD", "Momentum", "AdaGrad", "Adam"}
    assert max(loss["Momentum"], loss["AdaGrad"], loss["Adam"]) < loss["SGD"], loss


def test_weight_init_comparison_small_weights_do_not_learn(data_env):
    out = run("weight_init_compare.py", "--iters", "150", env=data_env)
    loss = final_losses(out)
    assert loss["std=0.01"] > 2.2 and loss["He"] < 1.0 and loss["Xavier"] < loss["std=0.01"], loss


def test_train_convnet_trains_saves_and_the_params_load(data_env, tmp_path):
    out = run("train_convnet.py", "--epochs", "3", "--train-size", "600", "--test-size", "200", "--quiet",
              "--seed", "0",
              env=data_env, cwd=tmp_path)
    assert re.search(r"^=== epoch:3, train acc:[0-9.]+, test acc:[0-9.]+ ===$", out, re.M)
    assert out.rstrip().endswith("Saved Network Parameters!")
    acc = float(re.search(r"^test acc:([0-9.]+)$", out, re.M).group(1))
    assert acc > 0.5, out  # after 18 Adam steps, well above chance (0.1) on the synthetic classes
    from graphgrad.book import SimpleConvNet

    net = SimpleConvNet()
    net.load_params(str(tmp_path / "params.pkl"))
    assert set(gg.load(tmp_path / "params.pkl")) == {"W1", "b1", "W2", "b2", "W3", "b3"}


def test_train_deepnet_trains_and_its_params_serve_the_books_half_float_check(data_env, tmp_path):
    out = run("train_deepnet.py", "--epochs", "1", "--train-size", "200", "--test-size", "100", "--seed", "0",
              "--params", "deep_convnet_params.pkl", env=data_env, cwd=tmp_path)
    assert re.search(r"^=== epoch:1, train acc:[0-9.]+, test acc:[0-9.]+ ===$", out, re.M)
    assert len(re.findall(r"^train loss:[0-9.]+$", out, re.M)) == 2  # 200 samples, batches of 100
    assert out.rstrip().endswith("Saved Network Parameters!")
    from graphgrad.book import DeepConvNet, load_mnist

    # ch08/half_float_network.py's steps: load the trained parameters, round them to float16 in place
    (_, _), (x_test, t_test) = load_mnist(flatten=False, root=data_env["GRAPHGRAD_DATA"], quiet=True)
    x_test, t_test = x_test[:100], t_test[:100]
    network = DeepConvNet()
    network.load_params(str(tmp_path / "deep_convnet_params.pkl"))
    full = network.accuracy(x_test, t_test)
    assert full == float(re.search(r"^test acc:([0-9.]+)$", out, re.M).group(1))  # the run's own final number
    x_test = x_test.astype(np.float16)
    for param in network.params.values():
        param[...] = param.astype(np.float16)
    assert abs(network.accuracy(x_test, t_test) - full) <= 0.05  # rounding the weights moves few of the 100 answers
