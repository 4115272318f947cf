"""Losses against PyTorch (value, gradients, every reduction), central differences, stability and bad input."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphgrad as gg
import graphgrad.nn as nn
import graphgrad.nn.functional as F
from tests.conftest import numeric_grad

REDUCTIONS = ["mean", "sum", "none"]


def _logits(n=5, c=4, seed=0, scale=1.0):
    return np.random.default_rng(seed).standard_normal((n, c)) * scale


def _probs(n=5, c=4, seed=1):
    p = np.random.default_rng(seed).random((n, c))
    return p / p.sum(axis=1, keepdims=True)


def _grads(loss_fn, x, t, reduction, t_grad=False):
    xt = gg.tensor(x, requires_grad=True)
    tt = gg.tensor(t, requires_grad=True) if t_grad else t
    loss = loss_fn(reduction=reduction)(xt, tt)
    w = np.random.default_rng(3).standard_normal(loss.shape)
    (loss * w).sum().backward()
    return loss.data, xt.grad.data, (tt.grad.data if t_grad else None), w


def _torch_grads(torch, loss_fn, x, t, reduction, w, t_grad=False):
    xt = torch.tensor(x, requires_grad=True)
    tt = torch.tensor(t, requires_grad=t_grad)
    loss = loss_fn(reduction=reduction)(xt, tt)
    (loss * torch.tensor(w)).sum().backward()
    return loss.detach().numpy(), xt.grad.numpy(), (tt.grad.numpy() if t_grad else None)


CASES = [
    ("CE-indices", nn.CrossEntropyLoss, "CrossEntropyLoss", lambda: np.array([0, 3, 1, 1, 2]), False),
    ("CE-probabilities", nn.CrossEntropyLoss, "CrossEntropyLoss", _probs, True),
    ("CE-onehot", nn.CrossEntropyLoss, "CrossEntropyLoss", lambda: np.eye(4)[[2, 0, 1, 3, 3]], False),
    ("MSE", nn.MSELoss, "MSELoss", lambda: _logits(seed=4), True),
    ("BCEWithLogits", nn.BCEWithLogitsLoss, "BCEWithLogitsLoss", lambda: _probs(), True),
    ("NLL", nn.NLLLoss, "NLLLoss", lambda: np.array([0, 3, 1, 1, 2]), False),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,ours,theirs,target,t_grad", CASES, ids=[c[0] for c in CASES])
def test_loss_matches_torch(torch_oracle, name, ours, theirs, target, t_grad, reduction):
    x, t = _logits(), target()
    if name == "NLL":
        x = x - np.log(np.exp(x).sum(axis=1, keepdims=True))  # log-probabilities
    loss, gx, gt, w = _grads(ours, x, t, reduction, t_grad)
    tloss, tgx, tgt = _torch_grads(torch_oracle, getattr(torch_oracle.nn, theirs), x, t, reduction, w, t_grad)
    np.testing.assert_allclose(loss, tloss, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gx, tgx, rtol=1e-10, atol=1e-13)
    if t_grad:
        np.testing.assert_allclose(gt, tgt, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,ours,theirs,target,t_grad", CASES, ids=[c[0] for c in CASES])
def test_loss_gradients_match_central_differences(name, ours, theirs, target, t_grad, reduction):
    x, t = _logits(), target()
    _, gx, gt, w = _grads(ours, x, t, reduction, t_grad)

    def f(_):
        with gg.no_grad():
            return float((ours(reduction=reduction)(gg.Tensor(x), gg.Tensor(t)).data * w).sum())

    np.testing.assert_allclose(gx, numeric_grad(f, x), rtol=1e-6, atol=1e-8)
    if t_grad:
        np.testing.assert_allclose(gt, numeric_grad(f, t), rtol=1e-6, atol=1e-8)


def test_cross_entropy_backward_is_y_minus_t_over_n():
    x, labels = _logits(), np.array([1, 0, 3, 2, 2])
    xt = gg.tensor(x, requires_grad=True)
    F.cross_entropy(xt, labels).backward()
    y = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(xt.grad.data, (y - np.eye(4)[labels]) / 5, rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cross_entropy_is_stable_for_huge_logits(torch_oracle, dtype):
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0], [5.0, 1000.0, -1000.0]])
    labels = np.array([1, 2, 0])
    xt = gg.tensor(x, dtype=dtype, requires_grad=True)
    loss = F.cross_entropy(xt, labels)
    loss.backward()
    tx = torch_oracle.tensor(x, requires_grad=True)
    tl = torch_oracle.nn.functional.cross_entropy(tx, torch_oracle.tensor(labels))
    tl.backward()
    assert np.isfinite(loss.data) and np.isfinite(xt.grad.data).all()
    np.testing.assert_allclose(loss.data, tl.item(), rtol=1e-6)
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), atol=1e-7)


def test_bce_with_logits_is_stable_for_huge_logits(torch_oracle):
    x, t = np.array([[1000.0, -1000.0, 0.0]]), np.array([[0.0, 1.0, 0.5]])
    loss, gx, _, w = _grads(nn.BCEWithLogitsLoss, x, t, "mean")
    tloss, tgx, _ = _torch_grads(torch_oracle, torch_oracle.nn.BCEWithLogitsLoss, x, t, "mean", w)
    np.testing.assert_allclose(loss, tloss, rtol=1e-12)
    np.testing.assert_allclose(gx, tgx, rtol=1e-12)


@pytest.mark.parametrize("n,c", [(5, 4), (40, 10)], ids=["row-major", "column-major-path"])
def test_cross_entropy_second_order_matches_torch(torch_oracle, n, c):
    torch = torch_oracle
    rng = np.random.default_rng(7)
    x, labels = rng.standard_normal((n, c)), rng.integers(0, c, n)
    xt = gg.tensor(x, requires_grad=True)
    (g,) = gg.autograd.grad(F.cross_entropy(xt, labels), xt, create_graph=True)
    (g * g).sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    (tg,) = torch.autograd.grad(torch.nn.functional.cross_entropy(tx, torch.tensor(labels)), tx, create_graph=True)
    (tg * tg).sum().backward()
    np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("n,c", [(31, 10), (32, 10), (100, 10), (64, 32), (64, 33), (40, 2)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("soft", [False, True], ids=["indices", "probabilities"])
def test_cross_entropy_on_either_side_of_the_column_major_switch(torch_oracle, n, c, reduction, soft):
    # From 32 rows of at most 32 classes the rows are reduced on a column-major copy.
    torch = torch_oracle
    rng = np.random.default_rng(n * c)
    x = rng.standard_normal((n, c)) * 5
    t = _probs(n, c, seed=c) if soft else rng.integers(0, c, n)
    loss, gx, gt, w = _grads(nn.CrossEntropyLoss, x, t, reduction, t_grad=soft)
    tloss, tgx, tgt = _torch_grads(torch, torch.nn.CrossEntropyLoss, x, t, reduction, w, t_grad=soft)
    np.testing.assert_allclose(loss, tloss, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(gx, tgx, rtol=1e-10, atol=1e-13)
    if soft:
        np.testing.assert_allclose(gt, tgt, rtol=1e-10, atol=1e-13)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 80), c=st.integers(2, 40), scale=st.floats(0.1, 50), seed=st.integers(0, 10**6))
def test_cross_entropy_any_shape_matches_torch(n, c, scale, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    x, labels = rng.standard_normal((n, c)) * scale, rng.integers(0, c, n)
    loss, gx, _, w = _grads(nn.CrossEntropyLoss, x, labels, "mean")
    tloss, tgx, _ = _torch_grads(torch, torch.nn.CrossEntropyLoss, x, labels, "mean", w)
    np.testing.assert_allclose(loss, tloss, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gx, tgx, rtol=1e-9, atol=1e-12)


# ---- bad input -------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_out_of_range_class_index_is_named(fn):
    with pytest.raises(IndexError, match=r"target\[2\] = 7 is not a class index in \[0, 4\)"):
        fn(gg.tensor(_logits()), np.array([0, 1, 7, 2, 3]))
    with pytest.raises(IndexError, match=r"target\[0\] = -1"):
        fn(gg.tensor(_logits()), np.array([-1, 1, 2, 2, 3]))


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_wrong_label_shape_is_explained(fn):
    with pytest.raises(ValueError, match=r"target of shape \(4,\) does not match input of shape \(5, 4\)"):
        fn(gg.tensor(_logits()), np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"target of shape \(5, 1\)"):
        fn(gg.tensor(_logits()), np.zeros((5, 1), dtype=int))


def test_float_labels_are_rejected_with_the_fix():
    with pytest.raises(TypeError, match=r"must be integers, got dtype float64; convert with target.astype\(int\)"):
        F.cross_entropy(gg.tensor(_logits()), np.array([0.0, 1, 2, 3, 1]))


def test_bad_logit_rank_and_reduction():
    with pytest.raises(ValueError, match=r"cross_entropy: input must have shape \(N, C\) or \(N, C, d1, \.\.\.\), got \(4,\)"):
        F.cross_entropy(gg.tensor(np.ones(4)), np.array([1]))
    with pytest.raises(ValueError, match=r"reduction must be one of .* got 'avg'"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match=r"mse_loss: input of shape \(5, 4\) and target of shape \(5,\) differ"):
        F.mse_loss(gg.tensor(_logits()), np.ones(5))


def test_textbook_alias():
    assert nn.SoftmaxWithLoss is nn.CrossEntropyLoss and nn.Affine is nn.Linear
