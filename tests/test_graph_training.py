"""Training static graphs: batched-VJP gradients equal the eager engine's, optimizers follow torch.optim."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphgrad as G
import graphgrad.graph as gg


def _mlp_graph(params):
    w1, b1, w2, b2 = params
    with gg.Graph() as g:
        x = gg.Variable((None, w1.shape[0]), trainable=False, name="x")
        t = gg.Variable((None,), trainable=False, name="t")
        with gg.name_scope("hidden"):
            W1, B1 = gg.Variable(w1.shape, init=w1.copy(), name="W"), gg.Variable(b1.shape, init=b1.copy(), name="b")
            h = gg.relu(gg.Add(gg.Dot(x, W1), B1))
        with gg.name_scope("out"):
            W2, B2 = gg.Variable(w2.shape, init=w2.copy(), name="W"), gg.Variable(b2.shape, init=b2.copy(), name="b")
            logits = h @ W2 + B2
        loss = gg.CrossEntropyWithSoftMax(logits, t)
    return g, x, t, [W1, B1, W2, B2], loss


def _params(rng, sizes=(6, 5, 3), dtype=np.float64):
    return [rng.normal(scale=0.5, size=s).astype(dtype) for s in
            [(sizes[0], sizes[1]), (sizes[1],), (sizes[1], sizes[2]), (sizes[2],)]]


def test_graph_gradients_equal_the_eager_engines():
    rng = np.random.default_rng(0)
    params = _params(rng)
    g, x, t, variables, loss = _mlp_graph(params)
    xb, tb = rng.normal(size=(8, 6)), rng.integers(0, 3, size=8)
    x.set_value(xb)
    t.set_value(tb)
    static = gg.gradients(loss, variables)

    ps = [G.tensor(p, requires_grad=True) for p in params]
    h = (G.tensor(xb) @ ps[0] + ps[1]).relu()
    logits = h @ ps[2] + ps[3]
    eager_loss = -(logits.log_softmax()[np.arange(8), tb]).mean()
    eager_loss.backward()
    assert np.isclose(loss.value, eager_loss.item(), rtol=1e-12)
    for s, p in zip(static, ps):
        np.testing.assert_allclose(s, p.grad.data, rtol=1e-12, atol=1e-14)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 9), st.integers(1, 7), st.integers(2, 5), st.integers(0, 2**31 - 1))
def test_graph_gradients_equal_eager_for_any_sizes(batch, hidden, classes, seed):
    rng = np.random.default_rng(seed)
    params = _params(rng, (4, hidden, classes))
    g, x, t, variables, loss = _mlp_graph(params)
    xb, tb = rng.normal(size=(batch, 4)), rng.integers(0, classes, size=batch)
    x.set_value(xb)
    t.set_value(tb)
    static = gg.gradients(loss, variables)
    ps = [G.tensor(p, requires_grad=True) for p in params]
    logits = (G.tensor(xb) @ ps[0] + ps[1]).relu() @ ps[2] + ps[3]
    (-(logits.log_softmax()[np.arange(batch), tb]).mean()).backward()
    for s, p in zip(static, ps):
        np.testing.assert_allclose(s, p.grad.data, rtol=1e-10, atol=1e-13)


def test_graph_gradients_match_torch_and_the_dense_jacobians(torch_oracle):
    torch = torch_oracle
    rng = np.random.default_rng(1)
    params = _params(rng)
    g, x, t, variables, loss = _mlp_graph(params)
    xb, tb = rng.normal(size=(4, 6)), rng.integers(0, 3, size=4)
    x.set_value(xb)
    t.set_value(tb)
    static = gg.gradients(loss, variables)
    tp = [torch.tensor(p, requires_grad=True) for p in params]
    out = torch.relu(torch.tensor(xb) @ tp[0] + tp[1]) @ tp[2] + tp[3]
    torch.nn.functional.cross_entropy(out, torch.tensor(tb)).backward()
    for s, p, v in zip(static, tp, variables):
        np.testing.assert_allclose(s, p.grad.numpy(), rtol=1e-12, atol=1e-14)
        # the text's dense route gives the same numbers, one (1, size) row
        np.testing.assert_allclose(v.backward(loss).reshape(v.value.shape), s, rtol=1e-10, atol=1e-13)


def test_gradients_of_a_variable_the_target_does_not_use_are_zero():
    with gg.Graph():
        a = gg.Variable((2,), init=np.ones(2))
        unused = gg.Variable((3,), init=np.ones(3))
        loss = (a * a).sum()
    ga, gu = gg.gradients(loss, [a, unused])
    assert np.array_equal(ga, [2.0, 2.0]) and np.array_equal(gu, np.zeros(3))


OPTIMIZERS = {
    "GradientDescent": (lambda g, l: gg.GradientDescent(g, l, 0.1), lambda t, p: t.optim.SGD(p, lr=0.1)),
    "Momentum": (lambda g, l: gg.Momentum(g, l, 0.1, momentum=0.8), lambda t, p: t.optim.SGD(p, lr=0.1, momentum=0.8)),
    "AdaGrad": (lambda g, l: gg.AdaGrad(g, l, 0.1), lambda t, p: t.optim.Adagrad(p, lr=0.1, eps=1e-10)),
    "RMSProp": (lambda g, l: gg.RMSProp(g, l, 0.01, beta=0.9), lambda t, p: t.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-8)),
    "Adam": (lambda g, l: gg.Adam(g, l, 0.01), lambda t, p: t.optim.Adam(p, lr=0.01, betas=(0.9, 0.99), eps=1e-8)),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_trajectories_follow_torch_optim(name, torch_oracle):
    torch = torch_oracle
    rng = np.random.default_rng(2)
    params = _params(rng)
    g, x, t, variables, loss = _mlp_graph(params)
    opt = OPTIMIZERS[name][0](g, loss)
    tp = [torch.tensor(p, requires_grad=True) for p in params]
    topt = OPTIMIZERS[name][1](torch, tp)
    for _ in range(4):
        xb, tb = rng.normal(size=(2, 5, 6)), rng.integers(0, 3, size=(2, 5))
        for half in range(2):  # a mini-batch fed as two one_steps: their gradients are averaged
            x.set_value(xb[half])
            t.set_value(tb[half])
            opt.one_step()
        opt.update()
        topt.zero_grad()
        total = 0
        for half in range(2):
            out = torch.relu(torch.tensor(xb[half]) @ tp[0] + tp[1]) @ tp[2] + tp[3]
            total = total + torch.nn.functional.cross_entropy(out, torch.tensor(tb[half])) / 2
        total.backward()
        topt.step()
    for v, p in zip(variables, tp):
        np.testing.assert_allclose(v.value, p.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_gradients_for_a_node_of_another_graph_is_an_error():
    with gg.Graph():
        w = gg.Variable((1,), init=np.ones(1))
        loss = (w * w).sum()
    with gg.Graph():
        stranger = gg.Variable((1,), init=np.ones(1), name="stranger")
    with pytest.raises(ValueError, match="'stranger' is not a node of the graph of target"):
        gg.gradients(loss, [w, stranger])


def test_batch_size_updates_after_that_many_steps():
    with gg.Graph() as g:
        w = gg.Variable((1,), init=np.array([1.0]))
        x = gg.Variable((1,), trainable=False)
        loss = (w * x).sum()
    opt = gg.GradientDescent(g, loss, learning_rate=0.5, batch_size=2)
    x.set_value(np.array([1.0]))
    opt.one_step()
    assert w.value[0] == 1.0 and opt.acc_no == 1
    np.testing.assert_allclose(opt.get_gradient(w), [1.0])
    x.set_value(np.array([3.0]))
    opt.one_step()  # mean gradient 2.0, step 0.5 * 2.0
    assert w.value[0] == 0.0 and opt.acc_no == 0
    assert loss.forward() == 0.0  # the update made the old loss value stale


def test_update_before_any_step_and_foreign_targets_are_errors():
    with gg.Graph() as g:
        w = gg.Variable((1,), init=np.ones(1))
        loss = (w * w).sum()
    with gg.Graph() as other:
        gg.Variable((1,))
    with pytest.raises(RuntimeError, match="call one_step"):
        gg.Adam(g, loss).update()
    with pytest.raises(ValueError, match="not a node of the given graph"):
        gg.Adam(other, loss)


def test_logistic_regression_from_the_text_learns_three_classes():
    rng = np.random.default_rng(0)
    centers = rng.normal(scale=3.0, size=(3, 10))
    labels = rng.integers(0, 3, size=600)
    features = (centers[labels] + rng.normal(size=(600, 10))).astype(np.float32)
    with gg.Graph() as g:
        x = gg.Variable((None, 10), trainable=False)
        onehot = gg.Variable((None, 3), trainable=False)
        scores = []
        for k in range(3):
            with gg.name_scope(f"class{k}"):
                w = gg.Variable((10,), init=True, rng=k, name="w")
                b = gg.Variable((), init=np.float32(0), name="b")
                scores.append(gg.Add(gg.Dot(x, w), b))
        logits = gg.Vectorize(*scores)
        predict = gg.SoftMax(logits)
        loss = gg.CrossEntropyWithSoftMax(logits, onehot)
    opt = gg.Adam(g, loss, learning_rate=0.05)
    for epoch in range(5):
        for i in range(0, 600, 32):
            x.set_value(features[i:i + 32])
            onehot.set_value(np.eye(3, dtype=np.float32)[labels[i:i + 32]])
            opt.one_step()
            opt.update()
    x.set_value(features)
    accuracy = (predict.forward().argmax(axis=1) == labels).mean()
    assert accuracy >= 0.95
