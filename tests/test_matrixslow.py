"""MatrixSlow's API (graphgrad.matrixslow): its examples, written for the tests in their style, run on graphgrad."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import graphgrad as gg
import graphgrad.matrixslow as ms

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # the examples' np.asmatrix


def people(n_per_class=150, seed=0):
    """MatrixSlow's chapter 2 data: height, weight, body-fat rate; label 1 (male) or -1 (female)."""
    rng = np.random.default_rng(seed)
    male = np.c_[rng.normal(171, 6, n_per_class), rng.normal(70, 10, n_per_class), rng.normal(16, 2, n_per_class)]
    female = np.c_[rng.normal(158, 5, n_per_class), rng.normal(57, 8, n_per_class), rng.normal(22, 2, n_per_class)]
    data = np.r_[np.c_[male, np.ones(n_per_class)], np.c_[female, -np.ones(n_per_class)]]
    return data[rng.permutation(len(data))]


def test_variables_are_matrices_with_matrixslows_interface():
    x = ms.core.Variable(dim=(3, 1), init=False, trainable=False, name="ms_x")
    w = ms.core.Variable(dim=(1, 3), init=True, trainable=True)
    assert x.shape() == (3, 1) and x.shape == (3, 1) and x.dimension() == 3 and x.dim == (3, 1)
    assert isinstance(w.value, np.matrix) and np.abs(w.value).max() < 0.01
    x.set_value(np.asmatrix([1.0, 2.0, 3.0]).T)
    y = ms.ops.MatMul(w, x)
    assert isinstance(y.forward(), np.ndarray) and isinstance(y.value, np.matrix) and y.value.shape == (1, 1)
    assert ms.core.get_node_from_graph("ms_x") is x and ms.get_node_from_graph("no such node") is None
    with pytest.raises(ValueError, match="has dim \\(3, 1\\), got a value of shape \\(1, 3\\)"):
        x.set_value(np.asmatrix([1.0, 2.0, 3.0]))


def test_operators_compute_matrixslows_values():
    a = ms.core.Variable(dim=(2, 2), trainable=False)
    s = ms.core.Variable(dim=(1, 1), trainable=False)
    a.set_value(np.asmatrix([[1.0, -2.0], [-3.0, 4.0]]))
    s.set_value(np.asmatrix([[3.0]]))
    np.testing.assert_allclose(ms.ops.ReLU(a).forward(), [[1.0, -0.2], [-0.3, 4.0]])  # its leaky ReLU
    np.testing.assert_allclose(ms.ops.Step(a).forward(), [[1, 0], [0, 1]])
    np.testing.assert_allclose(ms.ops.ScalarMultiply(s, a).forward(), 3 * a.value)
    np.testing.assert_allclose(ms.ops.Add(a, a, a).forward(), 3 * a.value)
    np.testing.assert_allclose(ms.ops.Concat(a, s).forward(), [[1.0], [-2.0], [-3.0], [4.0], [3.0]])
    np.testing.assert_allclose(ms.ops.Reshape(a, shape=(4, 1)).forward(), [[1.0], [-2.0], [-3.0], [4.0]])
    np.testing.assert_allclose(ms.ops.loss.PerceptionLoss(a).forward(), [[0, 2], [3, 0]])
    np.testing.assert_allclose(ms.ops.loss.LogLoss(a).forward(), np.log1p(np.exp(-a.value)), rtol=1e-12)
    col = ms.core.Variable(dim=(3, 1), trainable=False)
    hot = ms.core.Variable(dim=(3, 1), trainable=False)
    col.set_value(np.asmatrix([1.0, 2.0, 3.0]).T)
    hot.set_value(np.asmatrix([0.0, 0.0, 1.0]).T)
    np.testing.assert_allclose(ms.ops.SoftMax(col).forward().ravel(), [0.09003057, 0.24472847, 0.66524096], rtol=1e-7)
    assert ms.ops.loss.CrossEntropyWithSoftMax(col, hot).forward() == pytest.approx(0.40760596444, rel=1e-9)


def test_leaky_relu_and_log_loss_gradients_match_torch():
    x = ms.core.Variable(dim=(2, 3), init=True)
    x.set_value(np.asmatrix([[0.5, -1.5, 2.0], [-0.2, 0.3, -3.0]]))
    loss = ms.ops.Add(*[ms.ops.loss.LogLoss(ms.ops.ReLU(x))])
    total = gg.graph.sum(loss)
    (g,) = gg.graph.gradients(total, [x])
    xt = torch.tensor(np.asarray(x.value), requires_grad=True)
    torch.nn.functional.softplus(-torch.nn.functional.leaky_relu(xt, 0.1)).sum().backward()
    np.testing.assert_allclose(g, xt.grad.numpy(), rtol=1e-10)


def test_adaline_example_learns_with_dense_jacobians():
    train_set = people()
    x = ms.core.Variable(dim=(3, 1), init=False, trainable=False)
    label = ms.core.Variable(dim=(1, 1), init=False, trainable=False)
    np.random.seed(0)
    w = ms.core.Variable(dim=(1, 3), init=True, trainable=True)
    b = ms.core.Variable(dim=(1, 1), init=True, trainable=True)
    output = ms.ops.Add(ms.ops.MatMul(w, x), b)
    predict = ms.ops.Step(output)
    loss = ms.ops.loss.PerceptionLoss(ms.ops.MatMul(label, output))
    learning_rate = 0.0001
    for epoch in range(4):
        for i in range(len(train_set)):
            x.set_value(np.asmatrix(train_set[i, :-1]).T)
            label.set_value(np.asmatrix(train_set[i, -1]))
            loss.forward()
            w.backward(loss)
            b.backward(loss)
            w.set_value(w.value - learning_rate * w.jacobi.T.reshape(w.shape()))
            b.set_value(b.value - learning_rate * b.jacobi.T.reshape(b.shape()))
            ms.default_graph.clear_jacobi()
    pred = []
    for i in range(len(train_set)):
        x.set_value(np.asmatrix(train_set[i, :-1]).T)
        predict.forward()
        pred.append(predict.value[0, 0])
    accuracy = (train_set[:, -1] == np.array(pred) * 2 - 1).mean()
    assert accuracy > 0.85


def test_logistic_regression_example_learns_with_adam():
    train_set = people(seed=1)
    x = ms.core.Variable(dim=(3, 1), init=False, trainable=False)
    label = ms.core.Variable(dim=(1, 1), init=False, trainable=False)
    w = ms.core.Variable(dim=(1, 3), init=True, trainable=True)
    b = ms.core.Variable(dim=(1, 1), init=True, trainable=True)
    output = ms.ops.Add(ms.ops.MatMul(w, x), b)
    predict = ms.ops.Logistic(output)
    loss = ms.ops.loss.LogLoss(ms.ops.Multiply(label, output))
    optimizer = ms.optimizer.Adam(ms.default_graph, loss, 0.0001)
    mean, std = train_set[:, :-1].mean(axis=0), train_set[:, :-1].std(axis=0)
    features = (train_set[:, :-1] - mean) / std
    batch_size, cur = 16, 0
    for epoch in range(5):
        for i in range(len(train_set)):
            x.set_value(np.asmatrix(features[i]).T)
            label.set_value(np.asmatrix(train_set[i, -1]))
            optimizer.one_step()
            cur += 1
            if cur >= batch_size:
                optimizer.update()
                cur = 0
    pred = []
    for i in range(len(train_set)):
        x.set_value(np.asmatrix(features[i]).T)
        predict.forward()
        pred.append(predict.value[0, 0])
    accuracy = (train_set[:, -1] == (np.array(pred) > 0.5) * 2 - 1).mean()
    assert accuracy > 0.9


def test_nn_example_with_fc_layers_learns_mnist_shaped_data():
    rng = np.random.default_rng(0)
    prototypes = np.random.default_rng(7).random((10, 64)) < 0.3
    y = rng.integers(0, 10, 300)
    X = (prototypes[y] ^ (rng.random((300, 64)) < 0.05)).astype(float)
    one_hot_label = np.eye(10)[y]
    np.random.seed(1)
    x = ms.core.Variable(dim=(64, 1), init=False, trainable=False)
    one_hot = ms.core.Variable(dim=(10, 1), init=False, trainable=False)
    hidden_1 = ms.layer.fc(x, 64, 32, "ReLU")
    hidden_2 = ms.layer.fc(hidden_1, 32, 16, "ReLU")
    output = ms.layer.fc(hidden_2, 16, 10, None)
    predict = ms.ops.SoftMax(output)
    loss = ms.ops.loss.CrossEntropyWithSoftMax(output, one_hot)
    optimizer = ms.optimizer.Adam(ms.default_graph, loss, 0.01)
    batch_size = 16
    for epoch in range(4):
        batch_count = 0
        for i in range(len(X)):
            x.set_value(np.asmatrix(X[i]).T)
            one_hot.set_value(np.asmatrix(one_hot_label[i]).T)
            optimizer.one_step()
            batch_count += 1
            if batch_count >= batch_size:
                optimizer.update()
                batch_count = 0
    assert isinstance(loss.value, np.matrix) and loss.value.shape == (1, 1)  # the example prints loss.value[0, 0]
    pred = []
    for i in range(len(X)):
        x.set_value(np.asmatrix(X[i]).T)
        predict.forward()
        pred.append(predict.value.A.ravel())
    assert (np.array(pred).argmax(axis=1) == y).mean() > 0.9


def test_what_is_not_supported_says_so():
    with pytest.raises(NotImplementedError, match="graphgrad.distributed"):
        ms.trainer.DistTrainerRingAllReduce()
    with pytest.raises(NotImplementedError, match="Welding"):
        ms.ops.Welding()
    with pytest.raises(NotImplementedError, match="ROC is not supported"):
        ms.ops.metrics.ROC()


def test_convolve_and_max_pooling_map_onto_graphgrads_conv_ops():
    if not hasattr(gg, "conv2d") or not hasattr(gg, "max_pool2d"):
        pytest.skip("graphgrad.conv2d / graphgrad.max_pool2d are not in this branch yet (the CNN ops land separately)")
    img = ms.core.Variable(dim=(6, 6), trainable=False)
    kernel = ms.core.Variable(dim=(3, 3), init=True)
    img.set_value(np.arange(36.0).reshape(6, 6))
    out = ms.ops.Convolve(img, kernel)
    ref = torch.nn.functional.conv2d(torch.tensor(np.asarray(img.value))[None, None],
                                     torch.tensor(np.asarray(kernel.value))[None, None], padding=1)[0, 0]
    np.testing.assert_allclose(out.forward(), ref.numpy(), rtol=1e-10)
    pooled = ms.ops.MaxPooling(img, size=(3, 3), stride=(2, 2))
    ref = torch.nn.functional.max_pool2d(torch.tensor(np.asarray(img.value))[None, None], 3, 2, 1)[0, 0]
    np.testing.assert_allclose(pooled.forward(), ref.numpy())


def build_logistic(graph):
    x = ms.core.Variable(dim=(3, 1), init=False, trainable=False, name="x", graph=graph)
    label = ms.core.Variable(dim=(1, 1), init=False, trainable=False, name="label", graph=graph)
    w = ms.core.Variable(dim=(1, 3), init=True, trainable=True, name="w", graph=graph)
    b = ms.core.Variable(dim=(1, 1), init=True, trainable=True, name="b", graph=graph)
    output = ms.ops.Add(ms.ops.MatMul(w, x), b)
    return x, label, ms.ops.Logistic(output), ms.ops.loss.LogLoss(ms.ops.Multiply(label, output))


def test_simple_trainer_metrics_and_saver(tmp_path, capsys):
    data = people(seed=2)
    features = (data[:, :-1] - data[:, :-1].mean(axis=0)) / data[:, :-1].std(axis=0)
    g = gg.graph.Graph()
    x, label, predict, loss = build_logistic(g)
    metrics = [ms.ops.metrics.Accuracy(predict, label), ms.ops.metrics.Precision(predict, label),
               ms.ops.metrics.Recall(predict, label), ms.ops.metrics.F1Score(predict, label)]
    trainer = ms.trainer.SimpleTrainer([x], label, loss, ms.optimizer.Adam(g, loss, 0.01), epoches=2, batch_size=16,
                                       eval_on_train=True, metrics_ops=metrics, print_iteration_interval=100)
    trainer.train_and_eval({"x": features}, data[:, -1], {"x": features}, data[:, -1])
    out = capsys.readouterr().out
    assert "[INIT] Variable weights init finished" in out and "- Epoch [2] train finished" in out
    assert "-- iteration [99] finished" in out and "Epoch [2] evaluation metrics Accuracy: " in out
    probs = []
    for i in range(len(data)):
        x.set_value(features[i].reshape(3, 1))
        probs.append(float(predict.forward()[0, 0]))
    pred, truth = np.where(np.array(probs) >= 0.5, 1, -1), data[:, -1]
    tp = np.sum((pred == 1) & (truth == 1))
    acc, prec, rec = np.mean(pred == truth), tp / np.sum(pred == 1), tp / np.sum(truth == 1)
    np.testing.assert_allclose([m.value for m in metrics], [acc, prec, rec, 2 * prec * rec / (prec + rec)])
    assert acc > 0.9
    ms.trainer.Saver(str(tmp_path / "model")).save(graph=g)
    g2 = gg.graph.Graph()
    x2, _, predict2, _ = build_logistic(g2)
    ms.trainer.Saver(str(tmp_path / "model")).load(to_graph=g2)
    x2.set_value(features[0].reshape(3, 1))
    assert float(predict2.forward()[0, 0]) == pytest.approx(probs[0], rel=1e-12)
