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

xp = pytest.importorskip("array_api_strict", reason="array-api-strict is not installed (pip install array-api-strict)")
pytest.importorskip("array_api_compat", reason="array-api-compat is not installed (pip install array-api-compat)")
DEVICE = xp.Device("device1")
rng = np.random.default_rng(0)


def u(*shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, shape)


def pos(*shape):
    return rng.uniform(0.5, 2.0, shape)


def apart(*shape):
    """Values with no ties and no zeros: kinks stay out of the finite differences."""
    return (rng.permutation(np.prod(shape, dtype=int)).reshape(shape) + 1.0) * 0.37 * rng.choice([-1, 1], shape)


LABELS = np.array([2, 0, 1, 2])
# name -> (function of tensors, its float inputs as NumPy float64 arrays[, central-difference tolerance])
CASES = {
    "add": (lambda a, b: a + b, [u(2, 3), u(3)]),
    "sub": (lambda a, b: a - b, [u(2, 3), u(2, 1)]),
    "mul": (lambda a, b: a * b, [u(2, 3), u(2, 3)]),
    "div": (lambda a, b: a / b, [u(2, 3), pos(3)]),
    "neg": (lambda a: -a, [u(3, 2)]),
    "pow": (lambda a, b: a ** b, [pos(2, 3), u(2, 3)]),
    "pow-scalar": (lambda a: a ** 3, [u(2, 3)]),
    "matmul": (lambda a, b: a @ b, [u(2, 3), u(3, 4)]),
    "matmul-vector": (lambda a, b: a @ b, [u(3), u(3, 2)]),
    "exp": (gg.exp, [u(2, 3)]),
    "log": (gg.log, [pos(2, 3)]),
    "sqrt": (gg.sqrt, [pos(2, 3)]),
    "abs": (gg.abs, [apart(2, 3)]),
    "maximum": (gg.maximum, [apart(2, 3), apart(2, 3) * 1.01]),
    "minimum": (gg.minimum, [apart(2, 3), apart(3) * 1.01]),
    "clip": (lambda a: gg.clip(a, -0.5, 0.7), [apart(3, 4)]),
    "where": (lambda a, b: gg.where(like(a, np.array([True, False, True])), a, b), [u(2, 3), u(2, 3)]),
    "astype": (lambda a: gg.astype(a, "float32").astype("float64"), [u(2, 3)], 5e-2),  # float32 steps of 1e-6 are coarse
    "sigmoid": (gg.sigmoid, [u(2, 3)]),
    "tanh": (gg.tanh, [u(2, 3)]),
    "relu": (gg.relu, [apart(2, 3)]),
    "softmax": (lambda a: gg.softmax(a, axis=0), [u(3, 2)]),
    "log_softmax": (gg.log_softmax, [u(2, 4)]),
    "logsumexp": (lambda a: gg.logsumexp(a, axis=1), [u(2, 4)]),
    "sum": (lambda a: gg.sum(a, axis=0), [u(3, 2)]),
    "mean": (lambda a: gg.mean(a, axis=(0, 2), keepdims=True), [u(2, 3, 2)]),
    "max": (lambda a: gg.max(a, axis=1), [apart(2, 3)]),
    "min": (lambda a: gg.min(a), [apart(2, 3)]),
    "reshape": (lambda a: gg.reshape(a, (3, 2)), [u(2, 3)]),
    "transpose": (lambda a: gg.transpose(a, (1, 0, 2)), [u(2, 3, 2)]),
    "broadcast_to": (lambda a: gg.broadcast_to(a, (2, 3)), [u(3)]),
    "expand_dims": (lambda a: gg.expand_dims(a, 1), [u(2, 3)]),
    "squeeze": (lambda a: gg.squeeze(a, 1), [u(2, 1, 3)]),
    "getitem": (lambda a: a[1:, ::2], [u(3, 4)]),
    "getitem-repeated": (lambda a: a[like(a, np.array([0, 2, 0]))], [u(3, 2)]),
    "concatenate": (lambda a, b: gg.concatenate([a, b], axis=1), [u(2, 3), u(2, 1)]),
    "stack": (lambda a, b: gg.stack([a, b], axis=1), [u(2, 3), u(2, 3)]),
    "linear": (gg.linear, [u(4, 3), u(2, 3), u(2)]),
    "cross_entropy": (lambda a: gg.cross_entropy(a, like(a, LABELS)), [u(4, 3)]),
    "cross_entropy-soft": (lambda a, t: gg.cross_entropy(a, t), [u(4, 3), pos(4, 3)]),
    "conv1d": (lambda x, w: gg.conv1d(x, w, padding=1), [u(1, 2, 5), u(3, 2, 3)]),
    "conv2d": (lambda x, w, b: gg.conv2d(x, w, b, stride=2, padding=1), [u(1, 2, 5, 5), u(3, 2, 3, 3), u(3)]),
    "conv_transpose2d": (lambda x, w: gg.conv_transpose2d(x, w, stride=2), [u(1, 2, 3, 3), u(2, 3, 2, 2)]),
    "max_pool1d": (lambda x: gg.max_pool1d(x, 2), [apart(1, 2, 6)]),
    "max_pool2d": (lambda x: gg.max_pool2d(x, 2), [apart(1, 2, 4, 4)]),
    "avg_pool1d": (lambda x: gg.avg_pool1d(x, 2), [u(1, 2, 6)]),
    "avg_pool2d": (lambda x: gg.avg_pool2d(x, 2, padding=1), [u(1, 2, 4, 4)]),
    "adaptive_avg_pool2d": (lambda x: gg.adaptive_avg_pool2d(x, 2), [u(1, 2, 5, 5)]),
    "adaptive_max_pool2d": (lambda x: gg.adaptive_max_pool2d(x, 2), [apart(1, 2, 5, 5)]),
    "pad": (lambda x: gg.pad(x, (1, 2, 0, 1), mode="reflect"), [u(1, 2, 3, 4)]),
    "unfold": (lambda x: gg.unfold(x, 2), [u(1, 2, 3, 3)]),
    "fold": (lambda x: gg.fold(x, (3, 3), 2), [u(1, 8, 4)]),
    "flatten": (lambda x: gg.flatten(x, 1), [u(2, 3, 2)]),
    "stacked_affine": (lambda x, w1, w2, b1, b2: gg.stacked_affine(x, [w1, w2], [b1, b2]),
                       [u(3, 1), u(3, 1), u(3, 1), u(1, 1), u(1, 1)]),
    "step": (gg.step, [apart(2, 3)]),
    "binary_cross_entropy_with_logits": (gg.binary_cross_entropy_with_logits, [u(2, 3), rng.uniform(0, 1, (2, 3))]),
}


# Ops known not to be neutral yet: xfail(strict=True), so each entry must be removed the day its op
# passes here (empty since the convolution, pooling and padding ops index the Array API's way).
NOT_YET_NEUTRAL: set[str] = set()


def _case_params():
    return [pytest.param(name, marks=pytest.mark.xfail(strict=True, reason="not yet array-library neutral"))
            if name in NOT_YET_NEUTRAL else name for name in sorted(CASES)]


def to_device(a: np.ndarray):
    return xp.asarray(a, device=DEVICE)


def like(t, a: np.ndarray):
    """Constant `a` in the library (and on the device) of tensor t's data."""
    return a if isinstance(t.data, np.ndarray) else to_device(a)


def test_every_public_op_has_a_case():
    """A new op joins this suite: its case is what proves it neutral."""
    names = {name.split("-")[0] for name in CASES}
    ours = [op for op in public_ops() if op.__module__.startswith("graphgrad.")]
    missing = sorted(op.name for op in ours if op.name not in names)
    assert not missing, f"ops without an array-api-strict case: {missing}"


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
