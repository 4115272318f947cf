"""graphgrad.ops.texts: StackedAffine (the article's layer of separate neurons) and Step, against
central differences and PyTorch, first and second order."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad.autograd.grad import grad


def _stacked(d, n, seed):
    rng = np.random.default_rng(seed)
    x = gg.Tensor(rng.standard_normal((d, 1)), requires_grad=True)
    ws = [gg.Tensor(rng.standard_normal((d, 1)), requires_grad=True) for _ in range(n)]
    bs = [gg.Tensor(rng.standard_normal((1, 1)), requires_grad=True) for _ in range(n)]
    return x, ws, bs


@settings(max_examples=8, deadline=None)
@given(d=st.integers(1, 6), n=st.integers(1, 5), seed=st.integers(0, 1000))
def test_stacked_affine_matches_torch_and_central_differences(d, n, seed):
    x, ws, bs = _stacked(d, n, seed)
    z = gg.stacked_affine(x, ws, bs)
    tx, tws, tbs = (torch.tensor(x.data, requires_grad=True), [torch.tensor(w.data, requires_grad=True) for w in ws],
                    [torch.tensor(b.data, requires_grad=True) for b in bs])
    ref = torch.cat([w.T @ tx + b for w, b in zip(tws, tbs)])
    np.testing.assert_allclose(z.data, ref.detach().numpy(), rtol=1e-12)
    g = np.random.default_rng(seed + 1).standard_normal((n, 1))
    (z * gg.Tensor(g)).sum().backward()
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-14)
    for w, tw in zip(ws, tws):
        np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-12, atol=1e-14)
    for b, tb in zip(bs, tbs):
        np.testing.assert_allclose(b.grad.data, tb.grad.numpy(), rtol=1e-12)
    assert gg.gradcheck(lambda x, *p: gg.stacked_affine(x, p[:n], p[n:]).tanh().sum(), [x, *ws, *bs])


def test_stacked_affine_second_order_matches_torch():
    x, ws, bs = _stacked(3, 2, 0)
    loss = (gg.stacked_affine(x, ws, bs) ** 2).sum()
    (gx,) = grad(loss, [x], create_graph=True)
    (gw,) = grad(gx.sum(), [ws[0]])
    tx, tws = torch.tensor(x.data, requires_grad=True), [torch.tensor(w.data, requires_grad=True) for w in ws]
    tl = (torch.cat([w.T @ tx + torch.tensor(b.data) for w, b in zip(tws, bs)]) ** 2).sum()
    (tgx,) = torch.autograd.grad(tl, [tx], create_graph=True)
    (tgw,) = torch.autograd.grad(tgx.sum(), [tws[0]])
    np.testing.assert_allclose(gx.data, tgx.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(gw.data, tgw.numpy(), rtol=1e-12)


def test_stacked_affine_names_the_shapes_it_refuses():
    x, ws, bs = _stacked(3, 2, 0)
    with pytest.raises(ValueError, match="stacked_affine: input \\(1, 3\\) must be a column"):
        gg.stacked_affine(gg.Tensor(np.ones((1, 3))), ws, bs)
    with pytest.raises(ValueError, match="one bias per weight, got 2 weights and 1 biases"):
        gg.stacked_affine(x, ws, bs[:1])


def test_step_is_the_threshold_with_zero_gradient():
    x = gg.Tensor(np.array([-2.0, -0.0, 0.0, 1e-9, 3.0]), requires_grad=True)
    y = gg.step(x)
    np.testing.assert_array_equal(y.data, torch.heaviside(torch.tensor(x.data), torch.tensor(1.0, dtype=torch.float64)).numpy())
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, 0)
