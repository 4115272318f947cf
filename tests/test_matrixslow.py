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


def test_top_level_and_ops_names_are_matrixslows():
    assert ms.Variable is ms.core.Variable
    assert ms.ops.CrossEntropyWithSoftMax is ms.ops.loss.CrossEntropyWithSoftMax
    assert ms.ops.LogLoss is ms.ops.loss.LogLoss and ms.ops.Accuracy is ms.ops.metrics.Accuracy


def rnn(graph, seq_len, dimension, status, classes=2):
    """rnn_welding's network: a ReLU RNN over seq_len input columns, a welding point, two fc layers."""
    with graph:
        inputs = [ms.core.Variable(dim=(dimension, 1), init=False, trainable=False) for _ in range(seq_len)]
        U = ms.core.Variable(dim=(status, dimension), init=True, trainable=True)
        W = ms.core.Variable(dim=(status, status), init=True, trainable=True)
        b = ms.core.Variable(dim=(status, 1), init=True, trainable=True)
        hiddens, last_step = [], None
        for iv in inputs:
            h = ms.ops.Add(ms.ops.MatMul(U, iv), b)
            if last_step is not None:
                h = ms.ops.Add(ms.ops.MatMul(W, last_step), h)
            last_step = ms.ops.ReLU(h)
            hiddens.append(last_step)
        welding_point = ms.ops.Welding()
        fc1 = ms.layer.fc(welding_point, status, 8, "ReLU")
        output = ms.layer.fc(fc1, 8, classes, "None")
        predict = ms.ops.SoftMax(output)
        label = ms.core.Variable((classes, 1), trainable=False)
        loss = ms.ops.CrossEntropyWithSoftMax(output, label)
    return inputs, (U, W, b), hiddens, welding_point, predict, label, loss


def test_welding_point_takes_the_welded_steps_value_and_gradients_match_torch():
    np.random.seed(3)
    g = gg.graph.Graph()
    inputs, (U, W, b), hiddens, welding_point, predict, label, loss = rnn(g, seq_len=6, dimension=3, status=4)
    fc_params = [v for v in g.trainable_variables if v not in (U, W, b)]
    for v in g.trainable_variables:  # larger weights than MatrixSlow's N(0, 0.001²), so every path matters
        v.set_value(np.random.normal(0, 0.7, v.dim))
    optimizer = ms.optimizer.GradientDescent(g, loss, 0.1)  # built before any weld, as in rnn_welding
    seq = np.random.normal(size=(6, 3))
    for length in (4, 2):  # weld to the 4th step, then re-weld to the 2nd
        for j in range(length):
            inputs[j].set_value(np.asmatrix(seq[j]).T)
        welding_point.weld(hiddens[length - 1])
        label.set_value(np.asmatrix([0.0, 1.0]).T)
        optimizer.one_step()
        t = {v.name: torch.tensor(np.asarray(v.value), requires_grad=True) for v in (U, W, b, *fc_params)}
        tU, tW, tb = t[U.name], t[W.name], t[b.name]
        h = None
        for j in range(length):
            z = tU @ torch.tensor(seq[j]).reshape(3, 1) + tb + (tW @ h if h is not None else 0)
            h = torch.nn.functional.leaky_relu(z, 0.1)
        w1, b1, w2, b2 = (t[v.name] for v in fc_params)
        scores = w2 @ torch.nn.functional.leaky_relu(w1 @ h + b1, 0.1) + b2
        ref = -torch.log_softmax(scores[:, 0], 0)[1]
        ref.backward()
        assert isinstance(predict.forward(), np.ndarray) and isinstance(predict.value, np.matrix)
        assert loss.value[0, 0] == pytest.approx(ref.item(), rel=1e-12)
        for v in (U, W, b, *fc_params):
            np.testing.assert_allclose(optimizer.get_gradient(v), t[v.name].grad.numpy(), rtol=1e-10, atol=1e-14)
        optimizer.update()
    assert welding_point.parents == (hiddens[1],) and welding_point not in hiddens[3].children


def test_welding_refuses_what_it_cannot_compute():
    g = gg.graph.Graph()
    inputs, _, hiddens, welding_point, predict, label, loss = rnn(g, seq_len=2, dimension=2, status=2)
    with pytest.raises(RuntimeError, match="not welded to a node yet; call weld"):
        predict.forward()
    with pytest.raises(ValueError, match="would make a cycle"):
        welding_point.weld(predict)
    with pytest.raises(ValueError, match="is not a node of"):
        welding_point.weld(ms.core.Variable(dim=(2, 1), graph=gg.graph.Graph()))


def sequences(n, length, dimension, rng):
    """rnn_welding's data: noisy sine waves (class 0) and square waves (class 1), one column per time step."""
    t = np.arange(0, 10, 10 / length).reshape(-1, 1)
    waves = [np.sin(t), np.sign(np.sin(t))]
    classes = rng.integers(0, 2, n)
    signals = np.stack([waves[c] + rng.normal(0, 0.6, (length, dimension)) for c in classes])
    return signals, np.eye(2)[classes]


def test_rnn_welding_example_learns_variable_length_sequences():
    np.random.seed(0)
    rng = np.random.default_rng(0)
    seq_len, dimension = 24, 4
    signal_train, label_train = sequences(160, seq_len, dimension, rng)
    signal_test, label_test = sequences(60, seq_len, dimension, rng)
    g = gg.graph.Graph()
    inputs, _, hiddens, welding_point, predict, label, loss = rnn(g, seq_len, dimension, status=8)
    optimizer = ms.optimizer.Adam(g, loss, 0.01)
    batch_size = 16

    def run(s):
        start = np.random.randint(len(s) // 3)
        end = np.random.randint(len(s) // 3 + 8, len(s))
        s = s[start:end]
        for j in range(len(s)):
            inputs[j].set_value(np.asmatrix(s[j]).T)
        welding_point.weld(hiddens[j])

    for epoch in range(9):
        batch_count = 0
        for i, s in enumerate(signal_train):
            run(s)
            label.set_value(np.asmatrix(label_train[i, :]).T)
            optimizer.one_step()
            batch_count += 1
            if batch_count >= batch_size:
                optimizer.update()
                batch_count = 0
    pred = []
    for s in signal_test:
        run(s)
        predict.forward()
        pred.append(predict.value.A.ravel())
    accuracy = (np.array(pred).argmax(axis=1) == label_test.argmax(axis=1)).mean()
    assert accuracy > 0.85, accuracy  # two classes: chance is 0.5 (0.93 here)


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


def test_saver_rebuilds_the_graph_in_an_empty_one_under_matrixslows_file_names(tmp_path):
    """MatrixSlow's ch10 save/load examples: save after training, then load into a fresh graph and find the nodes."""
    g = gg.graph.Graph()
    with g:
        x = ms.core.Variable((3, 1), init=False, trainable=False, name="img_input")
        w, b = ms.core.Variable((4, 3), init=True), ms.core.Variable((4, 1), init=True)
        predict = ms.ops.SoftMax(ms.ops.Add(ms.ops.MatMul(w, x), b), name="softmax_output")
    saver = ms.trainer.Saver(str(tmp_path / "epoches10"))
    saver.save(graph=g, model_file_name="my_model.json", weights_file_name="my_weights.npz")
    assert (tmp_path / "epoches10" / "my_weights.npz").exists()
    x.set_value(np.asmatrix([0.5, -1.0, 2.0]).T)
    expected = predict.forward().copy()

    fresh = gg.graph.Graph()
    saver.load(to_graph=fresh, model_file_name="my_model.json", weights_file_name="my_weights.npz")
    x2 = ms.get_node_from_graph("img_input", graph=fresh)
    pred = ms.get_node_from_graph("softmax_output", graph=fresh)
    assert x2 is not None and pred is not None and x2.graph is fresh and len(fresh.nodes) == len(g.nodes)
    x2.set_value(np.asmatrix([0.5, -1.0, 2.0]).T)
    pred.forward()
    assert isinstance(pred.value, np.matrix)
    np.testing.assert_allclose(pred.value, expected, rtol=1e-12)

    partial = gg.graph.Graph()
    ms.core.Variable(dim=(3, 1), trainable=False, name="img_input", graph=partial)
    with pytest.raises(ValueError, match="holds 1 of the 6 saved nodes"):
        saver.load(to_graph=partial, weights_file_name="my_weights.npz")


def matrixslow_max_pooling(data, size, stride):
    """MatrixSlow's pooling written out: a window of size//2 on each side of every stride-th element, cut at the edges."""
    (hh, hw), (sh, sw) = (size[0] // 2, size[1] // 2), stride
    return np.array([[data[max(0, i - hh):i + hh + 1, max(0, j - hw):j + hw + 1].max()
                      for j in range(0, data.shape[1], sw)] for i in range(0, data.shape[0], sh)])


@pytest.mark.parametrize("size, stride", [((3, 3), (2, 2)), ((2, 2), (2, 2)), ((3, 2), (1, 3))])
def test_max_pooling_of_computed_maps_follows_matrixslows_windows(size, stride):
    """Pooling a convolution's output (a node whose shape is known only once computed), as cnn_mnist does."""
    g = gg.graph.Graph()
    with g:
        img = ms.core.Variable(dim=(7, 6), trainable=False)
        kernel = ms.core.Variable(dim=(3, 3), init=True)
        pooled = ms.ops.MaxPooling(ms.ops.Convolve(img, kernel), size=size, stride=stride)
    img.set_value(np.random.default_rng(0).normal(size=(7, 6)))
    kernel.set_value(np.random.default_rng(1).normal(size=(3, 3)))
    conv = torch.nn.functional.conv2d(torch.tensor(np.asarray(img.value))[None, None],
                                      torch.tensor(np.asarray(kernel.value))[None, None], padding=1)[0, 0].numpy()
    np.testing.assert_allclose(pooled.forward(), matrixslow_max_pooling(conv, size, stride), rtol=1e-12)
    assert isinstance(pooled.value, np.matrix)
    with pytest.raises(ValueError, match="needs odd kernel sizes"):
        ms.ops.Convolve(img, ms.core.Variable(dim=(2, 2), init=True, graph=g))


def test_cnn_mnist_network_gradients_match_torch():
    """cnn_mnist's network (conv 3@5x5, pool, conv 3@3x3 over 3 maps, pool, fc 147-120-10) against torch on one image."""
    np.random.seed(5)
    g = gg.graph.Graph()
    with g:
        x = ms.core.Variable((28, 28), init=False, trainable=False)
        one_hot = ms.core.Variable(dim=(10, 1), init=False, trainable=False)
        conv1 = ms.layer.conv([x], (28, 28), 3, (5, 5), "ReLU")
        pooling1 = ms.layer.pooling(conv1, (3, 3), (2, 2))
        conv2 = ms.layer.conv(pooling1, (14, 14), 3, (3, 3), "ReLU")
        pooling2 = ms.layer.pooling(conv2, (3, 3), (2, 2))
        fc1 = ms.layer.fc(ms.ops.Concat(*pooling2), 147, 120, "ReLU")
        output = ms.layer.fc(fc1, 120, 10, "None")
        loss = ms.ops.loss.CrossEntropyWithSoftMax(output, one_hot)
    for v in g.trainable_variables:
        v.set_value(np.random.normal(0, 0.3, v.dim))
    image = np.random.default_rng(2).random((28, 28))
    x.set_value(image)
    one_hot.set_value(np.eye(10)[3].reshape(10, 1))
    optimizer = ms.optimizer.Adam(g, loss, 0.005)
    optimizer.one_step()

    t = {v.name: torch.tensor(np.asarray(v.value), requires_grad=True) for v in g.trainable_variables}
    tv = list(t.values())  # creation order: conv1 (kernel, bias) x 3, conv2 (3 kernels, bias) x 3, fc1 (W, b), fc2 (W, b)
    leaky = lambda z: torch.nn.functional.leaky_relu(z, 0.1)  # noqa: E731  (MatrixSlow's ReLU)
    pool = lambda m: torch.nn.functional.max_pool2d(m[None, None], 3, 2, 1)[0, 0]  # noqa: E731
    conv = lambda m, k: torch.nn.functional.conv2d(m[None, None], k[None, None], padding=k.shape[0] // 2)[0, 0]  # noqa: E731
    img = torch.tensor(image)
    maps1 = [pool(leaky(conv(img, tv[2 * i]) + tv[2 * i + 1])) for i in range(3)]
    maps2 = []
    for i in range(3):
        kernels, bias = tv[6 + 4 * i:9 + 4 * i], tv[9 + 4 * i]
        maps2.append(pool(leaky(sum(conv(m, k) for m, k in zip(maps1, kernels)) + bias)))
    flat = torch.cat([m.reshape(-1, 1) for m in maps2])
    scores = tv[20] @ leaky(tv[18] @ flat + tv[19]) + tv[21]
    ref = -torch.log_softmax(scores[:, 0], 0)[3]
    ref.backward()
    assert loss.value[0, 0] == pytest.approx(ref.item(), rel=1e-10)
    for v in g.trainable_variables:
        np.testing.assert_allclose(optimizer.get_gradient(v), t[v.name].grad.numpy(), rtol=1e-8, atol=1e-12)


def test_simple_trainer_evaluates_roc_auc_as_the_deepfm_example_does(capsys):
    data = people(seed=4)
    features = (data[:, :-1] - data[:, :-1].mean(axis=0)) / data[:, :-1].std(axis=0)
    g = gg.graph.Graph()
    x, label, predict, loss = build_logistic(g)
    output = predict.parents[0]  # the deepfm example hands the metrics the logit, before Logistic
    roc, auc = ms.ops.metrics.ROC(output, label), ms.ops.metrics.ROC_AUC(output, label)
    trainer = ms.trainer.SimpleTrainer([x], label, loss, ms.optimizer.Adam(g, loss, 0.005), epoches=1, batch=16,
                                       eval_on_train=True, metrics_ops=[roc, auc])
    trainer.train_and_eval({"x": features}, data[:, -1], {"x": features}, data[:, -1])
    logits = []
    for i in range(len(data)):
        x.set_value(features[i].reshape(3, 1))
        logits.append(float(output.forward()[0, 0]))
    logits, truth = np.array(logits), data[:, -1]
    pos, neg = logits[truth == 1], logits[truth == -1]
    assert auc.value == pytest.approx(np.mean(pos[:, None] > neg[None, :])) and auc.value > 0.9
    assert f"Epoch [1] evaluation metrics ROC_AUC: {auc.value:.4f} " in capsys.readouterr().out
    np.testing.assert_allclose(roc.tpr, [np.mean(pos >= t) for t in roc.thresholds])
    np.testing.assert_allclose(roc.fpr, [np.mean(neg >= t) for t in roc.thresholds])


def test_adaline_batch_example_dense_jacobians_are_the_perceptron_gradient_by_hand():
    """MatrixSlow's ch03 adaline_batch: a mini-batch as a matrix, bias by ScalarMultiply, the mean by a 1 x n MatMul."""
    batch_size = 4
    g = gg.graph.Graph()
    with g:
        X = ms.core.Variable(dim=(batch_size, 3), init=False, trainable=False)
        label = ms.core.Variable(dim=(batch_size, 1), init=False, trainable=False)
        w = ms.core.Variable(dim=(3, 1), init=True, trainable=True)
        b = ms.core.Variable(dim=(1, 1), init=True, trainable=True)
        ones = ms.core.Variable(dim=(batch_size, 1), init=False, trainable=False)
        output = ms.ops.Add(ms.ops.MatMul(X, w), ms.ops.ScalarMultiply(b, ones))
        loss = ms.ops.loss.PerceptionLoss(ms.ops.Multiply(label, output))
        B = ms.core.Variable(dim=(1, batch_size), init=False, trainable=False)
        mean_loss = ms.ops.MatMul(B, loss)
    ones.set_value(np.asmatrix(np.ones(batch_size)).T)
    B.set_value(1 / batch_size * np.asmatrix(np.ones(batch_size)))
    w.set_value(np.asmatrix([[0.5], [-1.0], [0.25]]))
    b.set_value(np.asmatrix([[0.1]]))
    features = np.array([[1.0, 2.0, 3.0], [2.0, 0.0, -1.0], [0.0, 1.0, 1.0], [3.0, 1.0, 0.0]])
    labels = np.array([[1.0], [-1.0], [1.0], [1.0]])
    X.set_value(np.asmatrix(features))
    label.set_value(np.asmatrix(labels))
    # margins label·(Xw + b): (-0.65)(1), (0.85)(-1), (-0.65)(1), (0.6)(1) -> samples 0, 1, 2 are misclassified
    assert mean_loss.forward()[0, 0] == pytest.approx((0.65 + 0.85 + 0.65) / 4)
    w.backward(mean_loss)
    b.backward(mean_loss)
    wrong = [0, 1, 2]
    by_hand_w = -(labels[wrong] * features[wrong]).sum(axis=0) / 4  # d/dw of mean relu(-label·(x·w + b))
    by_hand_b = -labels[wrong].sum() / 4
    np.testing.assert_allclose(w.jacobi, by_hand_w.reshape(1, 3), rtol=1e-12)
    np.testing.assert_allclose(b.jacobi, [[by_hand_b]], rtol=1e-12)
    assert w.jacobi.T.reshape(w.shape()).shape == (3, 1)  # the example's update step
