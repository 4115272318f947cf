"""The article's column-vector API on graphgrad.graph: its printed numbers, its two listings, fusion and speed path."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import graphgrad.graph as G
from graphgrad.graph import (
    Adam, Add, CrossEntropyWithSoftMax, Dot, Graph, Logistic, ReLU, SoftMax, Variable, Vectorize,
)

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # the listings' np.asmatrix


def test_softmax_and_cross_entropy_over_a_column_print_the_articles_numbers():
    with Graph():
        x = Variable(3, trainable=False)
        label = Variable(3, trainable=False)
        predict = SoftMax(x)
        loss = CrossEntropyWithSoftMax(x, label)
    x.set_value(np.asmatrix([1.0, 2.0, 3.0]).T)
    label.set_value(np.asmatrix([0.0, 0.0, 1.0]).T)
    predict.forward()
    loss.forward()
    assert isinstance(predict.value, np.matrix) and predict.value.shape == (3, 1)
    np.testing.assert_allclose(predict.value.A1, [0.090, 0.245, 0.665], atol=5e-4)
    assert loss.value[0, 0] == pytest.approx(0.4076, abs=5e-5)
    assert loss.value.shape == (1, 1)


def test_columns_dot_vectorize_and_matrix_values():
    with Graph():
        w, x = Variable(4, init=True, rng=0), Variable(4, trainable=False)
        b = Variable(1, init=np.full((1, 1), 0.5))
        y = Add(Dot(w, x), b)
        v = Vectorize(y, Logistic(y), y)
    assert x.shape == (4, 1)
    x.set_value(np.asmatrix([1.0, 2.0, 3.0, 4.0]).T)
    expected = float(w.value.A1 @ np.arange(1.0, 5.0)) + 0.5
    assert y.forward().shape == (1, 1) and y.value[0, 0] == pytest.approx(expected)
    assert v.forward().shape == (3, 1)
    np.testing.assert_allclose(v.value.A1, [expected, 1 / (1 + np.exp(-expected)), expected], rtol=1e-6)
    with pytest.raises(ValueError, match="has shape \\(4, 1\\)"):
        x.set_value(np.ones((1, 4)))


def test_the_batch_api_is_unchanged_beside_it():
    with Graph():
        x = Variable((None, 3), trainable=False)
        w = Variable((3,), init=np.array([1.0, 2.0, 3.0]))
        s = SoftMax(Vectorize(Dot(x, w), Dot(x, w) * 2))
    x.set_value(np.eye(3))
    out = s.forward()
    assert type(s.value) is np.ndarray and out.shape == (3, 2)
    np.testing.assert_allclose(out.sum(axis=1), 1)


def neuron_layer(x, n_in, n_out, act, rng, made):
    neurons = []
    for i in range(n_out):
        w, b = Variable(n_in, init=True, rng=rng + i), Variable(1, init=True, rng=100 + rng + i)
        made.append((w, b))
        neurons.append(act(Add(Dot(w, x), b)))
    return Vectorize(*neurons)


def test_a_layer_of_neurons_runs_as_one_stacked_affine_with_the_same_values_and_gradients():
    first, second = [], []
    with Graph() as g:
        x = Variable(5, trainable=False)
        label = Variable(3, trainable=False)
        out = neuron_layer(neuron_layer(x, 5, 4, ReLU, 0, first), 4, 3, lambda n: n, 10, second)
        loss = CrossEntropyWithSoftMax(out, label)
    ops = [n.op_name for n in g.order(loss)]
    assert ops.count("StackedAffine") == 2 and "Add" not in ops  # the neuron nodes are off the loss's path
    rng = np.random.default_rng(0)
    xv, tv = rng.standard_normal(5), np.eye(3)[1]
    x.set_value(np.asmatrix(xv).T)
    label.set_value(np.asmatrix(tv).T)
    variables = [v for pair in first + second for v in pair]
    grads = G.gradients(loss, variables)
    tw = {id(v): torch.tensor(np.asarray(v.value, dtype=np.float64), requires_grad=True) for v in variables}
    xt = torch.tensor(xv).reshape(5, 1)  # the same network in torch, neuron by neuron
    h = torch.cat([torch.relu(tw[id(w)].T @ xt + tw[id(b)]) for w, b in first])
    o = torch.cat([tw[id(w)].T @ h + tw[id(b)] for w, b in second])
    ref = torch.nn.functional.cross_entropy(o.T, torch.tensor([1]))
    ref.backward()
    assert loss.value[0, 0] == pytest.approx(ref.item(), rel=1e-5)
    for v, gr in zip(variables, grads):
        np.testing.assert_allclose(gr, tw[id(v)].grad.numpy(), rtol=1e-4, atol=1e-7)
    neuron = next(n for n in g.nodes if n.op_name == "ReLU" and n.parents[0].op_name == "Add")
    assert neuron.forward().shape == (1, 1)  # a neuron node is still there, computed on demand


def blobs(n, features=10, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.random.default_rng(42).normal(scale=2.0, size=(classes, features))
    labels = rng.integers(0, classes, n)
    return centers[labels] + rng.normal(size=(n, features)), labels


def test_the_articles_logistic_regression_learns_three_classes_sample_by_sample():
    x_train, labels = blobs(300)
    with Graph() as g:  # the listing: 10 features, 3 classes, one-hot label column
        x = Variable(10, trainable=False)
        one_hot = Variable(3, trainable=False)
        W = [Variable(10, True) for _ in range(3)]
        b = [Variable(1, True) for _ in range(3)]
        output = Vectorize(*[Add(Dot(W[k], x), b[k]) for k in range(3)])
        predict = SoftMax(output)
        loss = CrossEntropyWithSoftMax(output, one_hot)
    optimizer = Adam(g, loss)  # the article's defaults: learning_rate 0.01, beta_1 0.9, beta_2 0.99
    assert (optimizer.learning_rate, optimizer.beta_1, optimizer.beta_2) == (0.01, 0.9, 0.99)
    batch_size = 10
    for epoch in range(3):
        for i in range(len(x_train)):
            x.set_value(np.asmatrix(x_train[i]).T)
            one_hot.set_value(np.asmatrix(np.eye(3)[labels[i]]).T)
            optimizer.one_step()
            if (i + 1) % batch_size == 0:
                optimizer.update()
    pred = []
    for i in range(len(x_train)):
        x.set_value(np.asmatrix(x_train[i]).T)
        predict.forward()
        pred.append(predict.value.A1)
    assert (np.array(pred).argmax(axis=1) == labels).mean() > 0.95


def test_mini_batch_accumulation_is_the_mean_of_the_samples_gradients():
    with Graph() as g:
        x = Variable(3, trainable=False)
        label = Variable(2, trainable=False)
        w = [Variable(3, init=True, rng=i) for i in range(2)]
        loss = CrossEntropyWithSoftMax(Vectorize(*[Add(Dot(wi, x), Variable(1, init=True)) for wi in w]), label)
    opt = G.GradientDescent(g, loss, learning_rate=1.0)
    rng = np.random.default_rng(1)
    samples = [(rng.standard_normal(3), np.eye(2)[k]) for k in (0, 1, 1)]
    each = []
    for xv, tv in samples:
        x.set_value(np.asmatrix(xv).T)
        label.set_value(np.asmatrix(tv).T)
        each.append(G.gradients(loss, w))
    before = [np.array(wi.value) for wi in w]
    for xv, tv in samples:
        x.set_value(np.asmatrix(xv).T)
        label.set_value(np.asmatrix(tv).T)
        opt.one_step()
    opt.update()
    for k, wi in enumerate(w):
        np.testing.assert_allclose(before[k] - np.asarray(wi.value), np.mean([e[k] for e in each], axis=0), rtol=1e-5)


def test_default_graph_draw_writes_the_explorer(tmp_path):
    with Graph() as g:
        x = Variable(3, trainable=False)
        label = Variable(2, trainable=False)
        loss = CrossEntropyWithSoftMax(Vectorize(*[Add(Dot(Variable(3, True), x), Variable(1, True)) for _ in range(2)]),
                                       label)
    x.set_value(np.asmatrix([1.0, 2.0, 3.0]).T)
    label.set_value(np.asmatrix([0.0, 1.0]).T)
    path = g.draw(tmp_path / "graph.html")
    text = path.read_text()
    assert "<html" in text.lower() and "StackedAffine" in text
    assert G.default_graph.draw is not None
