"""The textbook API: hand-driven layers, TwoLayerNet / MultiLayerNet gradients, the gradient-check table."""
from __future__ import annotations

import numpy as np
import pytest

import graphgrad as gg
import graphgrad.nn.functional as F
from graphgrad.book import (
    Affine, AddLayer, MulLayer, MultiLayerNet, Relu, Sigmoid, SoftmaxWithLoss, TwoLayerNet, gradient_check,
    numerical_gradient,
)


def _data(n=3, d=784, c=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, d)), np.eye(c)[rng.integers(0, c, n)]


def test_numerical_gradient_is_central_differences_with_h_1e_4():
    x = np.array([3.0, 4.0])
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(v ** 2), x), [6.0, 8.0], rtol=1e-9)
    np.testing.assert_array_equal(x, [3.0, 4.0])  # restored
    # for x³ the central difference has error h²: visible, so h really is 1e-4
    assert numerical_gradient(lambda v: np.sum(v ** 3), np.array([1.0]))[0] == pytest.approx(3 + 1e-8, abs=1e-11)


def test_affine_shares_arrays_with_params_and_reports_dW_db():
    rng = np.random.default_rng(0)
    W, b, x = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal((2, 4))
    layer = Affine(W, b)
    assert layer.W is W and layer.b is b
    out = layer.forward(x)
    np.testing.assert_allclose(out, x @ W + b)
    dout = rng.standard_normal((2, 3))
    dx = layer.backward(dout)
    np.testing.assert_allclose(dx, dout @ W.T)
    np.testing.assert_allclose(layer.dW, x.T @ dout)
    np.testing.assert_allclose(layer.db, dout.sum(axis=0))
    W -= 0.1 * layer.dW  # an in-place update of the params reaches the layer
    np.testing.assert_allclose(layer.forward(x), x @ W + b)


def test_affine_accepts_images_and_returns_dx_in_their_shape():
    layer = Affine(np.ones((12, 2)), np.zeros(2))
    x = np.ones((5, 3, 2, 2))
    assert layer.forward(x).shape == (5, 2)
    assert layer.backward(np.ones((5, 2))).shape == (5, 3, 2, 2)


def test_relu_and_sigmoid_do_not_modify_the_callers_arrays():
    x, dout = np.array([[-1.0, 2.0], [3.0, -4.0]]), np.ones((2, 2))
    relu = Relu()
    np.testing.assert_array_equal(relu.forward(x), [[0, 2], [3, 0]])
    np.testing.assert_array_equal(relu.backward(dout), [[0, 1], [1, 0]])
    np.testing.assert_array_equal(x, [[-1, 2], [3, -4]])
    np.testing.assert_array_equal(dout, 1)
    sig = Sigmoid()
    y = sig.forward(x)
    np.testing.assert_allclose(sig.backward(dout), y * (1 - y))
    assert sig.out is y


@pytest.mark.parametrize("labels", ["one-hot", "indices"])
def test_softmax_with_loss_backward_is_y_minus_t_over_n(labels):
    rng = np.random.default_rng(1)
    x, idx = rng.standard_normal((4, 3)), np.array([0, 2, 1, 1])
    t = np.eye(3)[idx] if labels == "one-hot" else idx
    layer = SoftmaxWithLoss()
    loss = layer.forward(x, t)
    y = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(y[np.arange(4), idx])), rel=1e-12)
    np.testing.assert_allclose(layer.backward(), (y - np.eye(3)[idx]) / 4, rtol=1e-12)
    np.testing.assert_allclose(layer.y, y)


def test_two_layer_net_gradients_equal_graphgrad_autograd():
    x, t = _data(n=8, d=20, c=5)
    net = TwoLayerNet(20, 7, 5, weight_init_std=0.5, rng=3)
    grads = net.gradient(x, t)
    p = {k: gg.tensor(v, requires_grad=True) for k, v in net.params.items()}
    h = (gg.tensor(x) @ p["W1"] + p["b1"]).relu()
    loss = F.cross_entropy(h @ p["W2"] + p["b2"], t)
    loss.backward()
    assert loss.item() == pytest.approx(net.loss(x, t), rel=1e-12)
    for key in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(grads[key], p[key].grad.data, rtol=1e-12, atol=1e-15, err_msg=key)


def test_gradient_check_table_two_layer_net_784_50_10():
    x, t = _data(n=3)
    net = TwoLayerNet(784, 50, 10, rng=0)
    table = gradient_check(net, x, t)
    assert list(table) == ["W1", "b1", "W2", "b2"]
    assert all(v <= 1e-7 for v in table.values()), table


def test_two_layer_net_trains_with_the_books_update_loop():
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((3, 10)) * 3
    labels = rng.integers(0, 3, 300)
    x, t = centers[labels] + rng.standard_normal((300, 10)), np.eye(3)[labels]
    net = TwoLayerNet(10, 16, 3, weight_init_std=0.1, rng=1)
    before = net.loss(x, t)
    for _ in range(100):
        grads = net.gradient(x, t)
        for key in ("W1", "b1", "W2", "b2"):
            net.params[key] -= 0.5 * grads[key]
    assert net.loss(x, t) < before / 5
    assert net.accuracy(x, t) > 0.95 and net.accuracy(x, labels) == net.accuracy(x, t)
    assert net.lastLayer is net.last_layer


@pytest.mark.parametrize("activation,init,decay", [("relu", "relu", 0.0), ("sigmoid", "sigmoid", 0.1),
                                                   ("relu", 0.3, 0.05)])
def test_multi_layer_net_gradients_match_numerical(activation, init, decay):
    x, t = _data(n=4, d=6, c=3, seed=2)
    net = MultiLayerNet(6, [5, 4], 3, activation=activation, weight_init_std=init, weight_decay_lambda=decay, rng=0)
    assert list(net.layers) == ["Affine1", "Activation_function1", "Affine2", "Activation_function2", "Affine3"]
    numerical, backprop = net.numerical_gradient(x, t), net.gradient(x, t)
    assert list(backprop) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    for key in numerical:
        np.testing.assert_allclose(backprop[key], numerical[key], rtol=1e-5, atol=1e-8, err_msg=key)


def test_multi_layer_net_init_scales():
    he = MultiLayerNet(400, [300], 10, weight_init_std="he", rng=0)
    xavier = MultiLayerNet(400, [300], 10, weight_init_std="xavier", rng=0)
    assert he.params["W1"].std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert xavier.params["W1"].std() == pytest.approx(np.sqrt(1 / 400), rel=0.02)
    with pytest.raises(ValueError, match="activation must be 'relu' or 'sigmoid'"):
        MultiLayerNet(4, [3], 2, activation="tanh")


def test_core_book_layers_still_exported():
    mul = MulLayer()
    assert mul.forward(2.0, 3.0) == 6.0 and AddLayer().forward(1.0, 2.0) == 3.0
