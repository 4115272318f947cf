"""Nielsen's two networks: the matrix-based graphgrad version takes exactly the per-sample version's steps."""
from __future__ import annotations

import importlib
import os

import numpy as np
import pytest

EXAMPLES = os.path.join(os.path.dirname(__file__), os.pardir, "examples")


@pytest.fixture
def examples(monkeypatch):
    monkeypatch.syspath_prepend(EXAMPLES)  # the example scripts import their data helper by name
    return importlib.import_module("nielsen_network"), importlib.import_module("nielsen_matrix")


def test_matrix_minibatch_step_equals_per_sample_backprop(examples):
    loop, matrix = examples
    rng = np.random.default_rng(0)
    x, labels = rng.random((7, 12)), rng.integers(0, 4, 7)
    y = np.eye(4)[labels]
    a = loop.Network([12, 5, 4], seed=1)
    b = matrix.MatrixNetwork([12, 5, 4], dtype=np.float64)
    linears = [m for m in b.model if hasattr(m, "weight")]
    for lin, w, bias in zip(linears, a.weights, a.biases):
        lin.weight.data[...] = w
        lin.bias.data[...] = bias[:, 0]
    from graphgrad.optim import SGD

    opt = SGD(b.model.parameters(), lr=3.0)
    for batch in (slice(0, 4), slice(4, 7)):
        a.update_mini_batch(list(zip(x[batch, :, None], y[batch, :, None])), eta=3.0)
        b.update_mini_batch(x[batch], y[batch], opt)
    for lin, w, bias in zip(linears, a.weights, a.biases):
        np.testing.assert_allclose(lin.weight.data, w, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(lin.bias.data, bias[:, 0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b.feedforward(x), np.hstack([a.feedforward(c[:, None]) for c in x]).T, rtol=1e-12)


def test_both_learn_synthetic_mnist(examples):
    loop, matrix = examples
    from nielsen_data import one_hot, synthetic_mnist

    (x, t), (xt, tt) = synthetic_mnist(1000, seed=0), synthetic_mnist(300, seed=1)
    net = matrix.MatrixNetwork([784, 30, 10], seed=1)
    net.SGD(x, one_hot(t, dtype=np.float32), epochs=2, mini_batch_size=10, eta=3.0)
    assert net.evaluate(xt, tt) > 0.7 * len(tt)
    slow = loop.Network([784, 30, 10], seed=1)
    slow.SGD(loop.as_columns(x, t, True), epochs=2, mini_batch_size=10, eta=3.0)
    assert slow.evaluate(loop.as_columns(xt, tt, False)) > 0.7 * len(tt)
