"""CNNs as static graphs: the text's small convolutional network, its Jacobians against central differences,
and its training gradients against the eager engine's."""
from __future__ import annotations

import numpy as np
import pytest

import graphgrad as eager
import graphgrad.graph as gg
from graphgrad.autograd import grad


def small_net(seed: int = 0):
    """The text's network: one 3x3 kernel pair shared over every 3x3 sub-array of a 6x6 image (a
    convolution, plus bias and ReLU), 2x2 max-pooling, a fully connected layer, softmax."""
    rng = np.random.default_rng(seed)
    with gg.Graph() as graph:
        image = gg.Variable((1, 1, 6, 6), init=rng.normal(size=(1, 1, 6, 6)), trainable=False, name="image")
        kernel = gg.Variable((2, 1, 3, 3), init=rng.normal(size=(2, 1, 3, 3)), name="kernel")
        shift = gg.Variable((2,), init=rng.normal(size=2) * 0.1, name="shift")
        maps = gg.relu(gg.conv2d(image, kernel, shift, name="conv"), name="maps")
        pooled = gg.max_pool2d(maps, 2, name="pooled")
        w = gg.Variable((8, 3), init=rng.normal(size=(8, 3)), name="W")
        b = gg.Variable((3,), init=rng.normal(size=3) * 0.1, name="b")
        scores = gg.Add(gg.Dot(gg.flatten(pooled, 1), w), b, name="scores")
        probs = gg.softmax(scores, name="probs")
    return graph, (image, kernel, shift, w, b), probs


def numeric_jacobian(out, var, eps=1e-6):
    base = var.value.copy()
    cols = []
    for j in range(base.size):
        hi, lo = base.copy(), base.copy()
        hi.reshape(-1)[j] += eps
        lo.reshape(-1)[j] -= eps
        var.set_value(hi)
        f_hi = out.forward().copy()
        var.set_value(lo)
        f_lo = out.forward().copy()
        cols.append(((f_hi - f_lo) / (2 * eps)).reshape(-1))
    var.set_value(base)
    out.forward()
    return np.stack(cols, axis=1)


def test_small_cnn_jacobians_match_central_differences():
    graph, variables, probs = small_net()
    probs.forward()
    for var in variables:
        jac = var.backward(probs)
        assert jac.shape == (3, var.value.size)
        np.testing.assert_allclose(jac, numeric_jacobian(probs, var), rtol=1e-5, atol=1e-8, err_msg=var.name)
    conv = next(n for n in graph.nodes if n.name == "conv")
    kernel = variables[1]
    np.testing.assert_allclose(conv.get_jacobi(kernel), numeric_jacobian(conv, kernel), rtol=1e-6, atol=1e-8)


def test_small_cnn_training_gradients_match_eager():
    graph, (image, kernel, shift, w, b), probs = small_net(1)
    loss = gg.log(gg.getitem(probs, (0, 1))) * -1
    loss.forward()
    static = gg.gradients(loss, [kernel, shift, w, b])
    ts = [eager.tensor(v.value, requires_grad=True) for v in (kernel, shift, w, b)]
    h = eager.max_pool2d(eager.relu(eager.conv2d(eager.tensor(image.value), ts[0], ts[1])), 2)
    p = eager.softmax(eager.flatten(h, 1) @ ts[2] + ts[3])
    expected = grad(-eager.log(p[0, 1]), ts)
    for s, e in zip(static, expected):
        np.testing.assert_allclose(s, e.data, rtol=1e-12, atol=1e-14)


def test_conv_graph_trains():
    """A few Adam steps on the static CNN lower the loss of a fixed batch."""
    rng = np.random.default_rng(2)
    with gg.Graph() as graph:
        x = gg.Variable((None, 1, 8, 8), trainable=False, name="x")
        t = gg.Variable((None,), trainable=False, name="t")
        k = gg.Variable((4, 1, 3, 3), init=rng.normal(0, 0.3, (4, 1, 3, 3)), name="k")
        h = gg.max_pool2d(gg.relu(gg.conv2d(x, k, padding=1)), 2)
        w = gg.Variable((64, 2), init=rng.normal(0, 0.1, (64, 2)), name="w")
        loss = gg.CrossEntropyWithSoftMax(gg.Dot(gg.flatten(h, 1), w), t)
    images = rng.normal(size=(16, 1, 8, 8))
    labels = (images[:, 0, :4].sum(axis=(1, 2)) > images[:, 0, 4:].sum(axis=(1, 2))).astype(np.int64)
    x.set_value(images)
    t.set_value(labels)
    first = float(loss.forward())
    opt = gg.Adam(graph, loss, learning_rate=0.05)
    for _ in range(30):
        opt.one_step()
        opt.update()
    assert float(loss.forward()) < 0.5 * first


def test_return_indices_needs_tensors():
    with gg.Graph():
        x = gg.Variable((1, 1, 4, 4), init=np.zeros((1, 1, 4, 4)))
        with pytest.raises(TypeError, match="max_pool2d: return_indices needs a tensor input"):
            gg.max_pool2d(x, 2, return_indices=True)
