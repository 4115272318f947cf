"""The op library is array-library neutral: every op's gradient suite again on array-api-strict arrays.

array-api-strict implements the Array API standard and nothing more, so an op that calls NumPy
(or relies on NumPy's extras) fails here. Its multi-device mode stands in for a GPU: arrays on
`Device("device1")` must stay there through forward, backward and an optimizer step, and mixing
devices or libraries must fail with a clear error.
"""
from __future__ import annotations

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn, optim
from graphgrad.backend import to_numpy
from graphgrad.ops import public_ops
from graphgrad.testing import CASES, PYTHON_RESULTS, VALUE_CASES, rng, u

xp = pytest.importorskip("array_api_strict", reason="array-api-strict is not installed (pip install array-api-strict)")
pytest.importorskip("array_api_compat", reason="array-api-compat is not installed (pip install array-api-compat)")
DEVICE = xp.Device("device1")


def to_device(a: np.ndarray):
    return xp.asarray(a, device=DEVICE)


def test_every_public_op_has_a_case():
    """A new op joins this suite: its case is what proves it neutral."""
    names = {name.split("-")[0] for name in (*CASES, *VALUE_CASES)} | PYTHON_RESULTS
    ours = [op for op in public_ops() if op.__module__.startswith("graphgrad.")]
    missing = sorted(op.name for op in ours if op.name not in names)
    assert not missing, f"ops without an array-api-strict case: {missing}"


@pytest.mark.parametrize("name", sorted(VALUE_CASES))
def test_value_op_on_array_api_strict_device(name):
    fn, arrays = VALUE_CASES[name]
    ref = fn(*[gg.tensor(a) for a in arrays])
    out = fn(*[gg.tensor(to_device(a)) for a in arrays])
    assert type(out.data) is type(to_device(np.zeros(1))) and out.data.device == DEVICE
    assert to_numpy(out.data).dtype == ref.data.dtype, (out.data.dtype, ref.data.dtype)
    np.testing.assert_array_equal(to_numpy(out.data), ref.data)


def test_allclose_on_the_device():  # PYTHON_RESULTS
    a, b = u(2, 3), u(2, 3)
    assert gg.allclose(gg.tensor(to_device(a)), gg.tensor(to_device(a + 1e-9))) is True
    assert gg.allclose(gg.tensor(to_device(a)), gg.tensor(to_device(b))) is False


def _value_and_grads(fn, arrays, seed):
    """sum(seed * fn(*xs)) and its gradients, with xs leaves holding `arrays` (any library)."""
    xs = [gg.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    (out * gg.Tensor(seed)).sum().backward()
    return out, xs


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_on_array_api_strict_device(name):
    fn, arrays, *tol = CASES[name]
    tol = tol[0] if tol else 1e-5
    with gg.no_grad():
        seed_np = rng.uniform(0.5, 1.5, fn(*[gg.tensor(a) for a in arrays]).shape)
    ref_out, ref_xs = _value_and_grads(fn, arrays, seed_np)
    out, xs = _value_and_grads(fn, [to_device(a) for a in arrays], to_device(seed_np))
    assert type(out.data) is type(to_device(np.zeros(1))) and out.data.device == DEVICE
    np.testing.assert_allclose(to_numpy(out.data), ref_out.data, rtol=1e-12, atol=1e-12)
    for i, (x, ref) in enumerate(zip(xs, ref_xs)):
        assert x.grad.data.device == DEVICE, f"input {i}: gradient left the device"
        np.testing.assert_allclose(to_numpy(x.grad.data), ref.grad.data, rtol=1e-10, atol=1e-12, err_msg=f"input {i}")
        numeric = _central_differences(fn, arrays, i, seed_np)
        np.testing.assert_allclose(to_numpy(x.grad.data), numeric, rtol=tol, atol=tol / 10, err_msg=f"input {i}")


def _central_differences(fn, arrays, i, seed, eps=1e-6):
    """d sum(seed * fn) / d arrays[i], every evaluation on the strict device."""
    a = arrays[i].copy()
    grad = np.zeros_like(a)
    for k in np.ndindex(a.shape):
        vals = []
        for h in (eps, -eps):
            b = a.copy()
            b[k] += h
            args = [to_device(b if j == i else arrays[j]) for j in range(len(arrays))]
            with gg.no_grad():
                vals.append(float(to_numpy((fn(*[gg.Tensor(x) for x in args]) * gg.Tensor(to_device(seed))).sum().data)))
        grad[k] = (vals[0] - vals[1]) / (2 * eps)
    return grad


# scatter_reduce with repeated indices (along dim 0 and 1), some positions never written (x is 0 at one
# of them, (2, 3): prod's gradient is 1 there); along dim 0 the ties (src with x at (1, 1), src with src
# at (0, 3)) share amax's and amin's gradient.
_SR_RNG = np.random.default_rng(3)
SR_X, SR_SRC = _SR_RNG.uniform(0.5, 2.5, (3, 4)), _SR_RNG.uniform(0.5, 2.5, (2, 4))
SR_INDEX = np.array([[0, 1, 1, 0], [2, 1, 0, 0]])
SR_X[1, 1] = SR_SRC[0, 1] = 3.0
SR_X[2, 3], SR_SRC[0, 3], SR_SRC[1, 3] = 0.0, 0.1, 0.1


def _scatter_reduce(arrays, reduce, include_self, dim):
    """scatter_reduce's value and its gradients (of sum(seed * y)) for arrays x, index, src, seed of any library."""
    x, index, src, seed = arrays
    x, src = gg.tensor(x, requires_grad=True), gg.tensor(src, requires_grad=True)
    y = gg.scatter_reduce(x, dim, gg.tensor(index), src, reduce, include_self=include_self)
    (y * gg.Tensor(seed)).sum().backward()
    return y.data, x.grad.data, src.grad.data


SCATTER_REDUCE = pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
INCLUDE_SELF = pytest.mark.parametrize("include_self", [True, False])
DIM = pytest.mark.parametrize("dim", [0, 1])


@SCATTER_REDUCE
@INCLUDE_SELF
@DIM
def test_scatter_reduce_with_repeated_indices_on_the_device(reduce, include_self, dim):
    arrays = [SR_X, SR_INDEX, SR_SRC, np.linspace(0.5, 1.5, 12).reshape(3, 4)]
    ref = _scatter_reduce(arrays, reduce, include_self, dim)
    out = _scatter_reduce([to_device(a) for a in arrays], reduce, include_self, dim)
    for name, a, b in zip(("value", "x.grad", "src.grad"), out, ref):
        assert a.device == DEVICE, name
        np.testing.assert_allclose(to_numpy(a), b, rtol=1e-12, atol=1e-15, err_msg=name)


@SCATTER_REDUCE
@INCLUDE_SELF
@DIM
def test_scatter_reduce_with_repeated_indices_as_pytorch(reduce, include_self, dim):
    torch = pytest.importorskip("torch")
    x, seed = SR_X.copy(), np.linspace(0.5, 1.5, 12).reshape(3, 4)
    if not include_self:  # PyTorch still counts x's tie in amax's share (then drops x's part): graphgrad does not
        x[1, 1] = 2.5
    ref = _scatter_reduce([x, SR_INDEX, SR_SRC, seed], reduce, include_self, dim)
    x, src = torch.tensor(x, requires_grad=True), torch.tensor(SR_SRC, requires_grad=True)
    y = x.scatter_reduce(dim, torch.tensor(SR_INDEX), src, reduce, include_self=include_self)
    (y * torch.tensor(seed)).sum().backward()
    for name, a, b in zip(("value", "x.grad", "src.grad"), ref, (y, x.grad, src.grad)):
        np.testing.assert_allclose(a, b.detach().numpy(), rtol=1e-12, atol=1e-15, err_msg=name)


def test_second_order_on_the_device():
    x = gg.tensor(to_device(np.array([0.3, -1.2, 2.0])), requires_grad=True)
    y = (gg.tanh(x) * x).sum()
    (g,) = gg.autograd.grad(y, x, create_graph=True)
    (h,) = gg.autograd.grad(g.sum(), x)
    assert h.data.device == DEVICE
    v = np.array([0.3, -1.2, 2.0])
    t = np.tanh(v)
    d2 = 2 * (1 - t * t) - 2 * v * t * (1 - t * t)  # d²/dx² (x·tanh x)
    np.testing.assert_allclose(to_numpy(h.data), d2, rtol=1e-10)


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: optim.Adam(ps, lr=0.01)])
def test_training_steps_stay_on_the_device(make):
    ref, model = (nn.Sequential(nn.Linear(3, 4, dtype="float64", generator=0), nn.ReLU(),
                                nn.Linear(4, 2, dtype="float64", generator=1)) for _ in range(2))
    for p in model.parameters():
        p.data = to_device(np.ascontiguousarray(p.data))
    x, t = u(5, 3), np.array([0, 1, 1, 0, 1])
    for net, data, labels in ((ref, x, t), (model, to_device(x), to_device(t))):
        opt = make(net.parameters())
        for _ in range(3):
            loss = nn.CrossEntropyLoss()(net(gg.Tensor(data)), gg.Tensor(labels))
            opt.zero_grad()
            loss.backward()
            opt.step()
    for p, q in zip(model.parameters(), ref.parameters()):
        assert p.data.device == DEVICE
        np.testing.assert_allclose(to_numpy(p.data), q.data, rtol=1e-10, atol=1e-12)


def test_mixing_devices_or_libraries_is_a_clear_error():
    a = gg.tensor(xp.asarray([1.0, 2.0], device=DEVICE))
    b = gg.tensor(xp.asarray([1.0, 2.0], device=xp.Device("device2")))
    with pytest.raises(RuntimeError, match="same device.*device1.*device2"):
        a + b
    with pytest.raises(RuntimeError, match="Add"):
        a + gg.tensor(np.array([1.0, 2.0]))
