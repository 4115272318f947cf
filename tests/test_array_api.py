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
from graphgrad.testing import CASES, NOT_YET_NEUTRAL, PYTHON_RESULTS, VALUE_CASES, rng, u

xp = pytest.importorskip("array_api_strict", reason="array-api-strict is not installed (pip install array-api-strict)")
pytest.importorskip("array_api_compat", reason="array-api-compat is not installed (pip install array-api-compat)")
DEVICE = xp.Device("device1")


def _case_params():
    return [pytest.param(name, marks=pytest.mark.xfail(strict=True, reason="not yet array-library neutral"))
            if name in NOT_YET_NEUTRAL else name for name in sorted(CASES)]


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


@pytest.mark.parametrize("name", _case_params())
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
