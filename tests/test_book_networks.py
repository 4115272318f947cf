"""The textbook's optimizers, Trainer and chapter 6-8 networks on graphgrad: the book's formulas and printed lines."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import graphgrad as gg
from graphgrad.book import DeepConvNet, MultiLayerNetExtend, SimpleConvNet, gradient_check
from graphgrad.book.common.multi_layer_net import MultiLayerNet
from graphgrad.book.common.optimizer import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop
from graphgrad.book.common.trainer import Trainer


# ---- optimizers: 10 steps against the book's equations, written out here -------------------------
def book_trajectory(name, lr, steps, grads, p0, **hp):
    p, v, h, m = p0.copy(), np.zeros_like(p0), np.zeros_like(p0), np.zeros_like(p0)
    for k in range(1, steps + 1):
        g = grads(p)
        if name == "SGD":
            p = p - lr * g
        elif name == "Momentum":
            v = hp["momentum"] * v - lr * g
            p = p + v
        elif name == "Nesterov":
            mu = hp["momentum"]
            p = p + mu * mu * v - (1 + mu) * lr * g
            v = mu * v - lr * g
        elif name == "AdaGrad":
            h = h + g * g
            p = p - lr * g / (np.sqrt(h) + 1e-7)
        elif name == "RMSprop":
            h = hp["decay_rate"] * h + (1 - hp["decay_rate"]) * g * g
            p = p - lr * g / (np.sqrt(h) + 1e-7)
        elif name == "Adam":
            b1, b2 = hp["beta1"], hp["beta2"]
            m = m + (1 - b1) * (g - m)
            h = h + (1 - b2) * (g * g - h)
            p = p - lr * np.sqrt(1 - b2 ** k) / (1 - b1 ** k) * m / (np.sqrt(h) + 1e-7)
    return p


@pytest.mark.parametrize("cls,hp", [
    (SGD, {}), (Momentum, {"momentum": 0.9}), (Nesterov, {"momentum": 0.8}), (AdaGrad, {}),
    (RMSprop, {"decay_rate": 0.9}), (Adam, {"beta1": 0.8, "beta2": 0.95}),
])
def test_optimizers_follow_the_books_update_equations(cls, hp):
    grads = lambda p: np.array([p[0] / 10.0, 2.0 * p[1]]) + 0.3  # noqa: E731 - a tilted bowl
    p0 = np.array([-7.0, 2.0])
    expected = book_trajectory(cls.__name__, 0.05, 10, grads, p0, **hp)
    opt = cls(lr=0.05, **hp)
    params = {"xy": p0.copy()}
    held = params["xy"]
    for _ in range(10):
        opt.update(params, {"xy": grads(params["xy"])})
    np.testing.assert_allclose(params["xy"], expected, rtol=1e-12)
    assert params["xy"] is held  # in place: layers holding the array see the step


def test_optimizers_take_the_books_plain_number_parameters():
    params = {"x": -7.0, "y": 2.0}  # optimizer_compare_naive.py's f(x, y) = x²/20 + y²
    opt = Adam(lr=0.3)
    for _ in range(30):
        opt.update(params, {"x": params["x"] / 10.0, "y": 2.0 * params["y"]})
    assert isinstance(params["x"], float) and abs(params["x"]) < 7.0
    with pytest.raises(KeyError, match="grads has no entry 'y'"):
        SGD().update({"x": np.zeros(2), "y": np.zeros(2)}, {"x": np.zeros(2)})


# ---- Trainer ---------------------------------------------------------------------------------------
def blobs(n, d=20, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, classes, n)
    centers = np.random.default_rng(99).standard_normal((classes, d)) * 2
    return centers[t] + rng.standard_normal((n, d)), t


def test_trainer_prints_the_books_lines_and_keeps_accuracy_lists(capsys):
    (x, t), (xt, tt) = blobs(300), blobs(100, seed=1)
    np.random.seed(0)
    net = MultiLayerNet(20, [10], 3)
    trainer = Trainer(net, x, t, xt, tt, epochs=3, mini_batch_size=50, optimizer="Adam",
                      optimizer_param={"lr": 0.01}, evaluate_sample_num_per_epoch=60)
    trainer.train()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 18 + 3 + 2  # 6 steps an epoch, an epoch line each, then the final two lines
    assert lines[0].startswith("train loss:") and float(lines[0][len("train loss:"):]) > 0
    assert lines[1].startswith("=== epoch:1, train acc:") and lines[1].endswith(" ===")
    assert lines[-2] == "=============== Final Test Accuracy ==============="
    assert lines[-1] == f"test acc:{net.accuracy(xt, tt)}"
    assert len(trainer.train_acc_list) == len(trainer.test_acc_list) == 3
    assert trainer.test_acc_list[-1] > 0.9
    with pytest.raises(ValueError, match="unknown optimizer 'LBFGS'"):
        Trainer(net, x, t, xt, tt, optimizer="LBFGS")


# ---- MultiLayerNetExtend (ch06) --------------------------------------------------------------------
def test_multi_layer_net_extend_gradient_check_with_batchnorm_and_weight_decay():
    np.random.seed(1)  # ch06/batch_norm_gradient_check.py's network, on a smaller input
    net = MultiLayerNetExtend(input_size=12, hidden_size_list=[8, 8], output_size=4, use_batchnorm=True,
                              weight_decay_lambda=0.1)
    x, t = blobs(5, d=12, classes=4)
    diffs = gradient_check(net, x, np.eye(4)[t])
    assert set(diffs) == {"W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"}
    assert max(diffs.values()) < 1e-7, diffs
    assert list(net.layers) == ["Affine1", "BatchNorm1", "Activation_function1", "Affine2", "BatchNorm2",
                                "Activation_function2", "Affine3"]


def test_multi_layer_net_extend_dropout_masks_only_while_training():
    np.random.seed(2)
    net = MultiLayerNetExtend(10, [30, 30], 3, use_dropout=True, dropout_ration=0.5)
    x, _ = blobs(4, d=10)
    assert "Dropout1" in net.layers and "Dropout2" in net.layers
    np.testing.assert_array_equal(net.predict(x), net.predict(x))  # test mode: deterministic
    assert not np.allclose(net.predict(x, train_flg=True), net.predict(x, train_flg=True))


def test_batchnorm_learns_faster_than_without_in_the_books_setting():
    (x, t) = blobs(400, d=20, classes=3, seed=4)
    accuracy = {}
    for bn in (True, False):  # ch06/batch_norm_test.py's comparison, shortened: weight_init_std 1 (too wide)
        np.random.seed(5)
        net = MultiLayerNetExtend(20, [30] * 5, 3, weight_init_std=1.0, use_batchnorm=bn)
        opt = SGD(lr=0.01)
        with np.errstate(all="ignore"):  # without batchnorm the activations overflow: the book's point
            for _ in range(60):
                batch = np.random.choice(400, 50)
                opt.update(net.params, net.gradient(x[batch], t[batch]))
            accuracy[bn] = net.accuracy(x, t)
    assert accuracy[True] > accuracy[False] + 0.1, accuracy


# ---- ConvNets (ch07, ch08) -------------------------------------------------------------------------
def test_simple_convnet_gradient_check_as_in_chapter_7():
    np.random.seed(0)  # ch07/gradient_check.py's network
    net = SimpleConvNet(input_dim=(1, 10, 10), conv_param={"filter_num": 10, "filter_size": 3, "pad": 0, "stride": 1},
                        hidden_size=10, output_size=10, weight_init_std=0.01)
    x, t = np.random.rand(100).reshape((1, 1, 10, 10)), np.array([1]).reshape((1, 1))
    diffs = gradient_check(net, x, t)
    assert set(diffs) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    # conv outputs of weights ~0.01 sit near ReLU's and max's kinks, which h = 1e-4 steps across: the
    # first layer's central differences are only good to ~1e-5; the exact check is against PyTorch
    assert max(diffs.values()) < 2e-5 and max(diffs[k] for k in ("W2", "b2", "W3", "b3")) < 1e-9, diffs
    grads = net.gradient(x, t)
    P = {k: torch.tensor(v, requires_grad=True) for k, v in net.params.items()}
    h = TF.max_pool2d(TF.relu(TF.conv2d(torch.tensor(x), P["W1"], P["b1"])), 2, 2).reshape(1, -1)
    TF.cross_entropy(TF.relu(h @ P["W2"] + P["b2"]) @ P["W3"] + P["b3"], torch.tensor([1])).backward()
    for key, value in P.items():
        np.testing.assert_allclose(grads[key], value.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_convnet_params_round_trip_through_graphgrads_format_under_the_books_file_name(tmp_path):
    np.random.seed(3)
    net = SimpleConvNet(input_dim=(1, 12, 12), conv_param={"filter_num": 4, "filter_size": 3, "pad": 1, "stride": 1},
                        hidden_size=8)
    path = tmp_path / "params.pkl"
    net.save_params(str(path))
    assert set(gg.load(path)) == set(net.params)  # graphgrad's own archive, whatever the name says
    other = SimpleConvNet(input_dim=(1, 12, 12),
                          conv_param={"filter_num": 4, "filter_size": 3, "pad": 1, "stride": 1}, hidden_size=8)
    x = np.random.rand(3, 1, 12, 12)
    other.load_params(str(path))
    np.testing.assert_array_equal(other.predict(x), net.predict(x))
    import pickle
    with open(tmp_path / "book.pkl", "wb") as f:
        pickle.dump(dict(net.params), f)
    with pytest.raises(gg.io.CheckpointError, match="not a readable graphgrad checkpoint"):
        other.load_params(str(tmp_path / "book.pkl"))


def test_deep_convnet_shapes_and_a_spot_gradient_check():
    np.random.seed(4)
    net = DeepConvNet()
    assert [net.params[f"W{i}"].shape for i in range(1, 9)] == [
        (16, 1, 3, 3), (16, 16, 3, 3), (32, 16, 3, 3), (32, 32, 3, 3), (64, 32, 3, 3), (64, 64, 3, 3),
        (1024, 50), (50, 10)]
    x, t = np.random.rand(2, 1, 28, 28), np.array([3, 7])
    assert net.predict(x).shape == (2, 10)
    for layer in net.layers:  # dropout off, so the loss is a function of the weights alone
        if hasattr(layer, "dropout_ratio"):
            layer.dropout_ratio = 0.0
    grads = net.gradient(x, t)
    for key, idx in (("W1", (3, 0, 1, 2)), ("W4", (5, 7, 0, 0)), ("b6", (9,)), ("W7", (100, 4))):
        w = net.params[key]
        old = w[idx]
        w[idx] = old + 1e-5
        hi = net.loss(x, t)
        w[idx] = old - 1e-5
        lo = net.loss(x, t)
        w[idx] = old
        assert grads[key][idx] == pytest.approx((hi - lo) / 2e-5, rel=1e-4, abs=1e-9), key
