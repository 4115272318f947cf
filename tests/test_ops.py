"""Every op's gradient against central differences (float64) and against PyTorch, over drawn shapes."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import graphgrad as gg
from conftest import numeric_grad, torch

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
small_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def check(fn, arrays, torch_fn=None, atol=1e-6):
    """Compare d(sum(w * fn(x)))/dx from graphgrad with numerical and (if installed) PyTorch gradients."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    xs = [gg.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    w = np.random.default_rng(0).uniform(0.5, 1.5, out.shape)
    (out * w).sum().backward()
    for i, a in enumerate(arrays):
        def f(v, i=i):
            args = [gg.tensor(v if j == i else arrays[j]) for j in range(len(arrays))]
            return float((fn(*args).data * w).sum())
        expected = numeric_grad(f, a.copy())
        np.testing.assert_allclose(xs[i].grad.data, expected, rtol=1e-5, atol=atol, err_msg=f"input {i}")
    if torch is not None and torch_fn is not None:
        ts = [torch.tensor(a, requires_grad=True) for a in arrays]
        tout = torch_fn(*ts)
        np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
        (tout * torch.tensor(w)).sum().backward()
        for x, t in zip(xs, ts):
            np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def values(shape, lo=-2.0, hi=2.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(lo, hi))


def away_from_zero(shape):
    """Values with |x| >= 0.1, so kinks at 0 stay out of the finite differences."""
    return values(shape, 0.1, 2.0).flatmap(
        lambda a: hnp.arrays(np.bool_, a.shape).map(lambda s: np.where(s, a, -a)))


# ---- binary, with broadcasting -------------------------------------------------------------

pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div"])
@SETTINGS
@given(data=st.data())
def test_arithmetic(name, data):
    shapes = data.draw(pairs).input_shapes
    a = data.draw(values(shapes[0]))
    b = data.draw(away_from_zero(shapes[1]) if name == "div" else values(shapes[1]))
    ops = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y,
           "mul": lambda x, y: x * y, "div": lambda x, y: x / y}
    check(ops[name], [a, b], ops[name])


@SETTINGS
@given(data=st.data())
def test_maximum_minimum(data):
    shapes = data.draw(pairs).input_shapes
    a = data.draw(values(shapes[0]))
    gap = data.draw(away_from_zero(shapes[1]))
    other = gap + 10 * np.sign(gap)  # |other| > 10 > |a|: no ties, and each side wins somewhere
    check(lambda x, y: gg.maximum(x, y), [a, other], lambda x, y: torch.maximum(x, y))
    check(lambda x, y: gg.minimum(x, y), [a, other], lambda x, y: torch.minimum(x, y))


def test_max_gate_routes_and_ties_split(torch_oracle):
    x = gg.tensor([1.0, 3.0, 2.0], dtype="float64", requires_grad=True)
    y = gg.tensor([2.0, 1.0, 2.0], dtype="float64", requires_grad=True)
    gg.maximum(x, y).sum().backward()
    tx, ty = (torch_oracle.tensor(v, requires_grad=True) for v in ([1.0, 3.0, 2.0], [2.0, 1.0, 2.0]))
    torch_oracle.maximum(tx, ty).sum().backward()
    np.testing.assert_allclose(x.grad.data, [0, 1, 0.5])
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy())
    np.testing.assert_allclose(y.grad.data, ty.grad.numpy())


@SETTINGS
@given(shape=small_shapes, data=st.data(), c=st.sampled_from([2, 3, 0.5, -1, -1.5]))
def test_pow_scalar(shape, data, c):
    a = data.draw(values(shape, 0.2, 2.0))
    check(lambda x: x ** c, [a], lambda x: x ** c)


@SETTINGS
@given(data=st.data())
def test_pow_tensor(data):
    shapes = data.draw(pairs).input_shapes
    a, b = data.draw(values(shapes[0], 0.2, 2.0)), data.draw(values(shapes[1], -2, 2))
    check(lambda x, y: x ** y, [a, b], lambda x, y: x ** y)


@pytest.mark.parametrize("sa,sb", [((3, 4), (4, 2)), ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 2)),
                                   ((4,), (4, 3)), ((3, 4), (4,)), ((4,), (4,)), ((2, 1, 3, 4), (5, 4, 2))])
def test_matmul(sa, sb):
    rng = np.random.default_rng(1)
    check(lambda x, y: x @ y, [rng.standard_normal(sa), rng.standard_normal(sb)], lambda x, y: x @ y)


# ---- unary ------------------------------------------------------------------------------

UNARY = {
    "neg": (lambda x: -x, lambda x: -x, values),
    "abs": (gg.abs, torch.abs if torch else None, away_from_zero),
    "exp": (gg.exp, torch.exp if torch else None, values),
    "log": (gg.log, torch.log if torch else None, lambda s: values(s, 0.1, 3)),
    "sqrt": (gg.sqrt, torch.sqrt if torch else None, lambda s: values(s, 0.1, 3)),
    "tanh": (gg.tanh, torch.tanh if torch else None, values),
    "sigmoid": (gg.sigmoid, torch.sigmoid if torch else None, lambda s: values(s, -6, 6)),
    "relu": (gg.relu, torch.relu if torch else None, away_from_zero),
    "clip": (lambda x: gg.clip(x, -0.5, 1.0), (lambda x: torch.clamp(x, -0.5, 1.0)) if torch else None,
             lambda s: values(s, -2, 2).filter(lambda a: np.all(np.abs(a + 0.5) > 0.01) and np.all(np.abs(a - 1) > 0.01))),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(shape=small_shapes, data=st.data())
def test_unary(name, shape, data):
    fn, tfn, strategy = UNARY[name]
    check(fn, [data.draw(strategy(shape))], tfn)


def test_where(torch_oracle):
    rng = np.random.default_rng(2)
    cond = rng.random((3, 4)) > 0.5
    check(lambda x, y: gg.where(gg.tensor(cond), x, y), [rng.standard_normal((3, 4)), rng.standard_normal((4,))],
          lambda x, y: torch_oracle.where(torch_oracle.tensor(cond), x, y))


# ---- reductions -------------------------------------------------------------------------

def axes_for(shape):
    nd = len(shape)
    singles = st.integers(-nd, nd - 1) if nd else st.nothing()
    tuples = st.lists(st.integers(0, nd - 1), unique=True, min_size=1, max_size=nd).map(tuple) if nd else st.nothing()
    return st.one_of(st.none(), singles, tuples)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "logsumexp"])
@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), data=st.data(), keepdims=st.booleans())
def test_reductions(name, shape, data, keepdims):
    axis = data.draw(axes_for(shape))
    # distinct values so amax/amin have a unique winner
    a = np.random.default_rng(data.draw(st.integers(0, 99))).permutation(int(np.prod(shape))).reshape(shape) * 0.25
    fn = lambda x: getattr(x, name)(axis=axis, keepdims=keepdims)  # noqa: E731
    tdim = tuple(range(len(shape))) if axis is None else axis

    def tfn(x):
        return getattr(torch, name)(x, dim=tdim, keepdim=keepdims)
    check(fn, [a], tfn)


def test_max_ties_share_the_gradient(torch_oracle):
    x = gg.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]], dtype="float64", requires_grad=True)
    x.amax(axis=1).sum().backward()
    t = torch_oracle.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]], requires_grad=True)
    torch_oracle.amax(t, dim=1).sum().backward()
    np.testing.assert_allclose(x.grad.data, t.grad.numpy())


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), data=st.data())
def test_softmax_family(name, shape, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    a = data.draw(values(shape, -5, 5))
    check(lambda x: getattr(x, name)(axis=axis), [a], lambda x: getattr(torch, name)(x, dim=axis))


def test_softmax_is_stable_for_huge_logits():
    x = gg.tensor([[1000.0, -1000.0, 0.0]], dtype="float64", requires_grad=True)
    y = x.log_softmax()
    assert np.isfinite(y.data).all() and np.isfinite(x.softmax().data).all()
    assert np.isfinite(x.logsumexp().data).all()


# ---- shape ops --------------------------------------------------------------------------

SHAPE_CASES = [
    ("reshape", lambda x: x.reshape(3, 4), lambda x: x.reshape(3, 4), (2, 6)),
    ("reshape-1", lambda x: x.reshape((-1,)), lambda x: x.reshape(-1), (2, 3, 2)),
    ("T", lambda x: x.T, lambda x: x.permute(2, 1, 0), (2, 3, 4)),
    ("permute", lambda x: x.permute(1, 2, 0), lambda x: x.permute(1, 2, 0), (2, 3, 4)),
    ("transpose-neg", lambda x: x.transpose((-1, 0, 1)), lambda x: x.permute(2, 0, 1), (2, 3, 4)),
    ("broadcast_to", lambda x: x.broadcast_to((2, 3, 4)), lambda x: x.broadcast_to((2, 3, 4)), (3, 1)),
    ("expand_dims", lambda x: gg.expand_dims(x, 1), lambda x: x.unsqueeze(1), (2, 3)),
    ("squeeze", lambda x: gg.squeeze(x, 1), lambda x: x.squeeze(1), (2, 1, 3)),
    ("squeeze-all", lambda x: x.squeeze(), lambda x: x.squeeze(), (1, 3, 1)),
    ("int", lambda x: x[1], lambda x: x[1], (3, 4)),
    ("slice", lambda x: x[:, 1:3], lambda x: x[:, 1:3], (3, 4)),
    ("step", lambda x: x[::-2, ::2], lambda x: x.flip(0)[::2, ::2], (5, 4)),
    ("mask", lambda x: x[x > 0], lambda x: x[x > 0], (3, 4)),
    ("int-array-repeats", lambda x: x[np.array([0, 2, 0, 0])], lambda x: x[[0, 2, 0, 0]], (3, 4)),
    ("fancy-2d", lambda x: x[np.array([0, 1, 1]), np.array([2, 2, 3])],
     lambda x: x[[0, 1, 1], [2, 2, 3]], (3, 4)),
    ("ellipsis-none", lambda x: x[..., None, 0], lambda x: x[..., None, 0], (2, 3)),
]


@pytest.mark.parametrize("name,fn,tfn,shape", SHAPE_CASES, ids=[c[0] for c in SHAPE_CASES])
def test_shape_ops(name, fn, tfn, shape):
    a = np.random.default_rng(3).standard_normal(shape)
    check(fn, [a], tfn)


def test_concatenate_and_stack():
    rng = np.random.default_rng(4)
    a, b, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 1)), rng.standard_normal((2, 2))
    check(lambda x, y, z: gg.concatenate([x, y, z], axis=1), [a, b, c],
          lambda x, y, z: torch.cat([x, y, z], dim=1) if torch else None)
    check(lambda x, y: gg.stack([x, y], axis=-1), [a, rng.standard_normal((2, 3))],
          lambda x, y: torch.stack([x, y], dim=-1) if torch else None)


def test_scalars_and_arrays_mix_on_both_sides():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    arr = np.array([3.0, 4.0], dtype=np.float32)
    y = (2 * x + 1) / (arr / x) - x ** 2 + 3 - arr * x
    assert isinstance(y, gg.Tensor) and y.dtype == np.float32
    y.sum().backward()
    xv = np.array([1.0, 2.0])
    expected = (4 * xv + 1) / arr - 2 * xv - arr  # d/dx of (2x+1)x/arr - x² + 3 - arr·x
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-6)
