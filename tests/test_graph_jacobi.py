"""Every graph op's get_jacobi (read off the op's own backward) against central differences and PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

import graphgrad.graph as gg

RNG = np.random.default_rng(7)


def _normal(*shape):
    return RNG.normal(size=shape)


def _positive(*shape):
    return RNG.uniform(0.5, 2.0, size=shape)


def _away_from_zero(*shape):
    return RNG.uniform(0.3, 1.5, size=shape) * RNG.choice([-1.0, 1.0], size=shape)


def _distinct(*shape):
    return RNG.permutation(np.arange(np.prod(shape), dtype=np.float64)).reshape(shape) * 0.37 - 1


LABELS = np.array([2, 0, 1])
COND = np.array([[True, False, True], [False, False, True]])
TARGET01 = RNG.uniform(size=(2, 3))
INDEX = (np.array([0, 1, 0]), slice(None, 2))

# name: (graph builder, torch builder, input values)
CASES = {
    "add_broadcast": (lambda a, b: a + b, lambda t, a, b: a + b, [_normal(2, 3), _normal(3)]),
    "sub": (lambda a, b: a - b, lambda t, a, b: a - b, [_normal(2, 3), _normal(2, 3)]),
    "mul_broadcast": (lambda a, b: a * b, lambda t, a, b: a * b, [_normal(2, 3), _normal(2, 1)]),
    "mul_same_input": (lambda a: a * a, lambda t, a: a * a, [_normal(2, 3)]),
    "div": (lambda a, b: a / b, lambda t, a, b: a / b, [_normal(2, 3), _positive(2, 3)]),
    "neg": (lambda a: -a, lambda t, a: -a, [_normal(4)]),
    "pow_scalar": (lambda a: a ** 3, lambda t, a: a ** 3, [_normal(2, 2)]),
    "pow": (lambda a, b: a ** b, lambda t, a, b: a ** b, [_positive(2, 3), _normal(2, 3)]),
    "matmul": (lambda a, b: a @ b, lambda t, a, b: a @ b, [_normal(2, 3), _normal(3, 4)]),
    "matmul_vector": (gg.matmul, lambda t, a, b: a @ b, [_normal(3), _normal(3, 2)]),
    "dot_vectors": (gg.Dot, lambda t, a, b: a @ b, [_normal(3), _normal(3)]),
    "exp": (gg.exp, lambda t, a: a.exp(), [_normal(2, 3)]),
    "log": (gg.log, lambda t, a: a.log(), [_positive(2, 3)]),
    "sqrt": (gg.sqrt, lambda t, a: a.sqrt(), [_positive(5)]),
    "abs": (gg.abs, lambda t, a: a.abs(), [_away_from_zero(2, 3)]),
    "maximum": (gg.maximum, lambda t, a, b: t.maximum(a, b), [_normal(2, 3), _normal(2, 3) + 0.05]),
    "minimum": (gg.minimum, lambda t, a, b: t.minimum(a, b), [_normal(2, 3), _normal(3) + 0.05]),
    "clip": (lambda a: gg.clip(a, -0.5, 0.5), lambda t, a: a.clamp(-0.5, 0.5), [np.array([-1.0, -0.2, 0.1, 0.9])]),
    "where": (lambda a, b: gg.where(COND, a, b), lambda t, a, b: t.where(t.tensor(COND), a, b),
              [_normal(2, 3), _normal(2, 3)]),
    "sigmoid": (gg.Logistic, lambda t, a: a.sigmoid(), [_normal(2, 3)]),
    "tanh": (gg.tanh, lambda t, a: a.tanh(), [_normal(2, 3)]),
    "relu": (gg.ReLU, lambda t, a: a.relu(), [_away_from_zero(2, 3)]),
    "softmax": (gg.SoftMax, lambda t, a: a.softmax(-1), [_normal(2, 3)]),
    "log_softmax": (lambda a: gg.log_softmax(a, axis=0), lambda t, a: a.log_softmax(0), [_normal(2, 3)]),
    "logsumexp": (lambda a: gg.logsumexp(a, axis=1), lambda t, a: a.logsumexp(1), [_normal(2, 3)]),
    "sum_axis": (lambda a: a.sum(axis=0), lambda t, a: a.sum(0), [_normal(2, 3)]),
    "mean_keepdims": (lambda a: a.mean(axis=1, keepdims=True), lambda t, a: a.mean(1, keepdim=True), [_normal(2, 3)]),
    "max": (lambda a: a.amax(axis=1), lambda t, a: a.amax(1), [_distinct(2, 3)]),
    "min_all": (lambda a: a.min(), lambda t, a: a.amin(), [_distinct(2, 3)]),
    "reshape": (lambda a: gg.Reshape(a, (3, 2)), lambda t, a: a.reshape(3, 2), [_normal(2, 3)]),
    "transpose": (lambda a: a.T, lambda t, a: a.T, [_normal(2, 3)]),
    "broadcast_to": (lambda a: gg.broadcast_to(a, (2, 3)), lambda t, a: a.broadcast_to(2, 3), [_normal(3)]),
    "expand_dims": (lambda a: gg.expand_dims(a, 0), lambda t, a: a.unsqueeze(0), [_normal(3)]),
    "squeeze": (lambda a: gg.squeeze(a, 1), lambda t, a: a.squeeze(1), [_normal(3, 1)]),
    "getitem_repeats": (lambda a: a[INDEX], lambda t, a: a[t.tensor(INDEX[0]), :2], [_normal(2, 3)]),
    "concatenate": (lambda a, b: gg.Concat([a, b], axis=1), lambda t, a, b: t.cat([a, b], 1),
                    [_normal(2, 3), _normal(2, 1)]),
    "stack": (lambda a, b: gg.stack([a, b]), lambda t, a, b: t.stack([a, b]), [_normal(3), _normal(3)]),
    "vectorize": (gg.Vectorize, lambda t, a, b, c: t.stack([a, b, c], -1), [_normal(2), _normal(2), _normal(2)]),
    "linear": (gg.linear, lambda t, x, w, b: t.nn.functional.linear(x, w, b), [_normal(2, 3), _normal(4, 3), _normal(4)]),
    "cross_entropy": (lambda a: gg.CrossEntropyWithSoftMax(a, LABELS), lambda t, a: t.nn.functional.cross_entropy(a, t.tensor(LABELS)),
                      [_normal(3, 4)]),
    "cross_entropy_soft": (lambda a, p: gg.cross_entropy(a, p), lambda t, a, p: t.nn.functional.cross_entropy(a, p),
                           [_normal(2, 3), _positive(2, 3) / 4]),
    "bce_with_logits": (lambda a: gg.binary_cross_entropy_with_logits(a, TARGET01),
                        lambda t, a: t.nn.functional.binary_cross_entropy_with_logits(a, t.tensor(TARGET01)), [_normal(2, 3)]),
}


def _build(case):
    build, _, values = CASES[case]
    with gg.Graph():
        xs = [gg.Variable(v.shape, init=v.copy()) for v in values]
        out = build(*xs)
    return xs, out


def _numeric_jacobian(out, x, eps=1e-6):
    base = x.value.copy()
    cols = []
    for j in range(base.size):
        hi, lo = base.copy(), base.copy()
        hi.reshape(-1)[j] += eps
        lo.reshape(-1)[j] -= eps
        x.set_value(hi)
        f_hi = out.forward().copy()
        x.set_value(lo)
        f_lo = out.forward().copy()
        cols.append(((f_hi - f_lo) / (2 * eps)).reshape(-1))
    x.set_value(base)
    return np.stack(cols, axis=1)


@pytest.mark.parametrize("case", sorted(CASES))
def test_get_jacobi_matches_central_differences(case):
    xs, out = _build(case)
    out.forward()
    for x in xs:
        jac = out.get_jacobi(x)
        assert jac.shape == (out.value.size, x.value.size)
        np.testing.assert_allclose(jac, _numeric_jacobian(out, x), rtol=1e-6, atol=1e-7, err_msg=f"{case}: {x.name}")


@pytest.mark.parametrize("case", sorted(CASES))
def test_get_jacobi_matches_torch(case, torch_oracle):
    torch = torch_oracle
    xs, out = _build(case)
    out.forward()
    _, torch_fn, values = CASES[case]
    expected = torch.autograd.functional.jacobian(lambda *ts: torch_fn(torch, *ts), tuple(torch.tensor(v) for v in values))
    for x, e in zip(xs, expected):
        np.testing.assert_allclose(out.get_jacobi(x), e.numpy().reshape(out.value.size, x.value.size),
                                   rtol=1e-10, atol=1e-12, err_msg=f"{case}: {x.name}")


def test_get_jacobi_of_a_non_parent_names_both_nodes():
    with gg.Graph():
        a, b = gg.Variable((2,), init=np.ones(2)), gg.Variable((2,), init=np.ones(2), name="stranger")
        y = gg.exp(a)
    with pytest.raises(ValueError, match="'stranger' is not a parent of 'Exp"):
        y.get_jacobi(b)


def test_get_jacobi_leaves_the_backward_flags_as_they_were():
    xs, out = _build("mul_broadcast")
    fn = out.function
    out.forward()
    before = fn.__dict__.get("needs_input_grad")
    out.get_jacobi(xs[1])
    assert fn.__dict__.get("needs_input_grad") == before
