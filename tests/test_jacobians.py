"""jacobian, hessian, vjp, jvp against numerical derivatives and torch.autograd.functional."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphgrad as G
from graphgrad.autograd.jacobians import hessian, jacobian, jvp, vjp


def f_two(a, b):
    """Two inputs, one output of shape (3,)."""
    return (a * b).tanh().sum(axis=0) * a.exp()


def t_two(a, b):
    return (a * b).tanh().sum(0) * a.exp()


def f_scalar(a, b):
    return (a * a * b.sum()).sigmoid().sum() + (b ** 3).sum()


def t_scalar(a, b):
    return (a * a * b.sum()).sigmoid().sum() + (b ** 3).sum()


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=3), rng.normal(size=(2, 3))


def _numeric_jacobian(f, xs, k, eps=1e-6):
    """d f / d xs[k] as out.shape + xs[k].shape, by central differences in float64."""
    base = [x.copy() for x in xs]
    out_shape = np.shape(f(*[G.tensor(x, dtype="float64") for x in base]).data)
    cols = []
    for j in range(base[k].size):
        vals = []
        for sign in (1, -1):
            moved = [x.copy() for x in base]
            moved[k].reshape(-1)[j] += sign * eps
            vals.append(f(*[G.tensor(x, dtype="float64") for x in moved]).data)
        cols.append((vals[0] - vals[1]) / (2 * eps))
    return np.stack(cols, axis=-1).reshape(out_shape + base[k].shape)


@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
def test_jacobian_matches_central_differences(strategy):
    a, b = _inputs()
    ja, jb = jacobian(f_two, (G.tensor(a, dtype="float64"), G.tensor(b, dtype="float64")), strategy=strategy)
    assert ja.shape == (3, 3) and jb.shape == (3, 2, 3)
    np.testing.assert_allclose(ja.data, _numeric_jacobian(f_two, [a, b], 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(jb.data, _numeric_jacobian(f_two, [a, b], 1), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
def test_jacobian_matches_torch(strategy, torch_oracle):
    torch = torch_oracle
    a, b = _inputs(1)
    ours = jacobian(f_two, (G.tensor(a, dtype="float64"), G.tensor(b, dtype="float64")), strategy=strategy)
    theirs = torch.autograd.functional.jacobian(t_two, (torch.tensor(a), torch.tensor(b)))
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.data, t.numpy(), rtol=1e-12, atol=1e-14)


def test_jacobian_shapes_for_single_and_tuple_outputs(torch_oracle):
    torch = torch_oracle
    a, _ = _inputs(2)
    single = jacobian(lambda x: x.exp(), G.tensor(a, dtype="float64"))
    assert isinstance(single, G.Tensor) and single.shape == (3, 3)
    np.testing.assert_allclose(single.data, np.diag(np.exp(a)))
    ours = jacobian(lambda x: (x.sum(), x * 2), G.tensor(a, dtype="float64"))
    theirs = torch.autograd.functional.jacobian(lambda x: (x.sum(), x * 2), torch.tensor(a))
    assert ours[0].shape == (3,) and ours[1].shape == (3, 3)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.data, t.numpy())


def test_jacobian_of_an_unused_input_is_zero():
    a, b = _inputs(3)
    ja, jb = jacobian(lambda x, y: x.exp(), (G.tensor(a, dtype="float64"), G.tensor(b, dtype="float64")))
    assert np.array_equal(jb.data, np.zeros((3, 2, 3)))


def test_hessian_matches_torch_and_differences(torch_oracle):
    torch = torch_oracle
    a, b = _inputs(4)
    ours = hessian(f_scalar, (G.tensor(a, dtype="float64"), G.tensor(b, dtype="float64")))
    theirs = torch.autograd.functional.hessian(t_scalar, (torch.tensor(a), torch.tensor(b)))
    assert ours[0][1].shape == (3, 2, 3)
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(ours[i][j].data, theirs[i][j].numpy(), rtol=1e-11, atol=1e-13)
    # the Hessian is the Jacobian of the gradient: check one block by differences of gradients
    grad_a = lambda x, y: jacobian(lambda p: f_scalar(p, y), x)  # noqa: E731
    np.testing.assert_allclose(ours[0][0].data, _numeric_jacobian(grad_a, [a, b], 0), rtol=1e-5, atol=1e-7)


def test_hessian_of_a_single_input_and_a_bad_function():
    x = G.tensor([1.0, 2.0], dtype="float64")
    h = hessian(lambda v: (v ** 3).sum(), x)
    np.testing.assert_allclose(h.data, np.diag([6.0, 12.0]))
    with pytest.raises(ValueError, match="single-element Tensor"):
        hessian(lambda v: v * 2, x)


def test_vjp_and_jvp_match_torch(torch_oracle):
    torch = torch_oracle
    a, b = _inputs(5)
    rng = np.random.default_rng(5)
    u, va, vb = rng.normal(size=3), rng.normal(size=3), rng.normal(size=(2, 3))
    ins = (G.tensor(a, dtype="float64"), G.tensor(b, dtype="float64"))
    tins = (torch.tensor(a), torch.tensor(b))
    out, (ga, gb) = vjp(f_two, ins, G.tensor(u, dtype="float64"))
    tout, (tga, tgb) = torch.autograd.functional.vjp(t_two, tins, torch.tensor(u))
    np.testing.assert_allclose(out.data, tout.numpy())
    np.testing.assert_allclose(ga.data, tga.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gb.data, tgb.numpy(), rtol=1e-12)
    out, jv = jvp(f_two, ins, (va, vb))
    _, tjv = torch.autograd.functional.jvp(t_two, tins, (torch.tensor(va), torch.tensor(vb)))
    np.testing.assert_allclose(jv.data, tjv.numpy(), rtol=1e-12, atol=1e-14)


def test_vjp_and_jvp_agree_with_the_jacobian():
    a, b = _inputs(6)
    ins = (G.tensor(a, dtype="float64"), G.tensor(b, dtype="float64"))
    ja, jb = jacobian(f_two, ins)
    rng = np.random.default_rng(6)
    u, va, vb = rng.normal(size=3), rng.normal(size=3), rng.normal(size=(2, 3))
    _, (ga, gb) = vjp(f_two, ins, u)
    np.testing.assert_allclose(ga.data, u @ ja.data, rtol=1e-12)
    np.testing.assert_allclose(gb.data, np.tensordot(u, jb.data, axes=1), rtol=1e-12)
    _, jv = jvp(f_two, ins, (va, vb))
    np.testing.assert_allclose(jv.data, ja.data @ va + np.tensordot(jb.data, vb, axes=2), rtol=1e-12)


def test_vjp_with_create_graph_is_differentiable(torch_oracle):
    torch = torch_oracle
    a, _ = _inputs(7)
    x = G.tensor(a, dtype="float64", requires_grad=True)
    _, g = vjp(lambda v: (v * v).tanh(), x, np.ones(3), create_graph=True)
    g.sum().backward()
    tx = torch.tensor(a, requires_grad=True)
    _, tg = torch.autograd.functional.vjp(lambda v: (v * v).tanh(), tx, torch.ones(3), create_graph=True)
    tg.sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)


def test_bad_arguments_are_clear_errors():
    x = G.tensor([1.0, 2.0], dtype="float64")
    with pytest.raises(ValueError, match="strategy"):
        jacobian(lambda v: v, x, strategy="sideways")
    with pytest.raises(ValueError, match=r"v has shape \(3,\) where the output has shape \(2,\)"):
        vjp(lambda v: v * 2, x, np.ones(3))
    with pytest.raises(ValueError, match="v may be omitted only"):
        jvp(lambda v: v * 2, x)
    with pytest.raises(TypeError, match="floating-point"):
        jacobian(lambda v: v, G.tensor([1, 2]))
    with pytest.raises(TypeError, match="must return a Tensor"):
        jacobian(lambda v: 3.0, x)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=1, max_size=2), st.integers(0, 2**31 - 1))
def test_jacobian_of_a_softmax_block_for_any_shape(shape, seed):
    x = np.random.default_rng(seed).normal(size=shape)
    jac = jacobian(lambda v: v.softmax(axis=-1) * v, G.tensor(x, dtype="float64"))
    f = lambda v: v.softmax(axis=-1) * v  # noqa: E731
    np.testing.assert_allclose(jac.data, _numeric_jacobian(f, [x], 0), rtol=1e-6, atol=1e-8)
