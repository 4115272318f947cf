"""The backward engine: order, accumulation, freeing, higher order, modes, and errors."""
from __future__ import annotations

import numpy as np
import pytest

import graphgrad as gg
from graphgrad.autograd import detect_anomaly, grad


def test_long_chain_needs_no_recursion():
    x = gg.tensor(1.0, dtype="float64", requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad.item() == 1.0


def test_gradients_accumulate_across_backward_calls_until_cleared():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, [6, 6])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, [3, 3])


def test_gradients_of_scalar_graphs_are_arrays():
    # NumPy turns 0-d results into scalars; a gradient's data must still be an ndarray.
    x, y = gg.tensor(3.0, requires_grad=True), gg.tensor(2.0, requires_grad=True)
    (x * y).backward()
    (x * y).backward()  # accumulated as well
    for t, expected in ((x, 4.0), (y, 6.0)):
        assert type(t.grad.data) is np.ndarray and t.grad.data.shape == ()
        assert t.grad.item() == expected


def test_fan_out_sums_the_gradients():
    x = gg.tensor(3.0, requires_grad=True)
    y = x * x + x
    y.backward()
    assert x.grad.item() == pytest.approx(7.0)


def test_no_grad_builds_no_graph():
    x = gg.tensor([1.0], requires_grad=True)
    with gg.no_grad():
        y = x * 2
    assert y.creator is None and not y.requires_grad
    with gg.no_grad():
        with gg.enable_grad():
            z = x * 2
    assert z.requires_grad


def test_freed_graph_error_and_retain_graph():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * (np.exp([1, 2]) * (1 + np.array([1, 2]))), rtol=1e-6)
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_backward_on_non_scalar_needs_grad():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"only on a scalar.*shape \(2,\)"):
        y.backward()
    y.backward(np.array([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.data, [2, 20])


def test_second_derivative_of_a_polynomial():
    x = gg.tensor(2.0, dtype="float64", requires_grad=True)
    y = x ** 4 - 2 * x ** 2
    (dy,) = grad(y, x, create_graph=True)
    assert dy.item() == pytest.approx(24.0)
    (d2y,) = grad(dy, x)
    assert d2y.item() == pytest.approx(44.0)
    y2 = x ** 4 - 2 * x ** 2
    y2.backward(create_graph=True)
    g = x.grad
    x.grad = None
    g.backward()
    assert x.grad.item() == pytest.approx(44.0)


def test_hessian_of_a_vector_function_matches_the_analytic_one():
    v = np.array([0.5, -1.0, 2.0])
    x = gg.tensor(v, requires_grad=True)
    f = (x[0] * x[1] * x[2]) + (x ** 3).sum() + gg.exp(x[0] * x[1])
    (g,) = grad(f, x, create_graph=True)
    rows = [grad(g[i], x, retain_graph=True)[0].data for i in range(3)]
    a, b, c = v
    e = np.exp(a * b)
    expected = np.array([
        [6 * a + b * b * e, c + e + a * b * e, b],
        [c + e + a * b * e, 6 * b + a * a * e, a],
        [b, a, 6 * c],
    ])
    np.testing.assert_allclose(np.array(rows), expected, rtol=1e-10)


def test_grad_with_create_graph_composes_twice():
    x = gg.tensor(0.7, dtype="float64", requires_grad=True)
    y = x.tanh()
    (d1,) = grad(y, x, create_graph=True)
    (d2,) = grad(d1, x, create_graph=True)
    (d3,) = grad(d2, x)
    t = np.tanh(0.7)
    assert d1.item() == pytest.approx(1 - t ** 2)
    assert d2.item() == pytest.approx(-2 * t * (1 - t ** 2))
    assert d3.item() == pytest.approx(-2 * (1 - t ** 2) ** 2 + 4 * t ** 2 * (1 - t ** 2))


DOUBLE_BACKWARD = {  # name: (graphgrad function, the same on torch tensors)
    "softmax": (lambda x: (x.softmax() * np.arange(3.0)).sum(),
                lambda x, T: (x.softmax(-1) * T.arange(3.0, dtype=T.float64)).sum()),
    "log_softmax": (lambda x: x.log_softmax()[..., 1].sum(), lambda x, T: x.log_softmax(-1)[..., 1].sum()),
    "logsumexp": (lambda x: x.logsumexp(axis=1).sum(), lambda x, T: x.logsumexp(1).sum()),
    "sigmoid": (lambda x: (x.sigmoid() ** 2).sum(), lambda x, T: (x.sigmoid() ** 2).sum()),
    "getitem": (lambda x: (x[[0, 0]] ** 3).sum(), lambda x, T: (x[[0, 0]] ** 3).sum()),
    "concatenate": (lambda x: (gg.concatenate([x, x * 2], axis=1) ** 2).mean(),
                    lambda x, T: (T.cat([x, x * 2], 1) ** 2).mean()),
    "matmul": (lambda x: ((x @ x.T) ** 2).sum(), lambda x, T: ((x @ x.T) ** 2).sum()),
    "broadcast": (lambda x: (x.broadcast_to((4, 2, 3)) ** 3).sum(),
                  lambda x, T: (x.broadcast_to((4, 2, 3)) ** 3).sum()),
    "div": (lambda x: (x / (1 + x * x)).sum(), lambda x, T: (x / (1 + x * x)).sum()),
    "max": (lambda x: (x.amax(axis=0) ** 2).sum(), lambda x, T: (T.amax(x, 0) ** 2).sum()),
}


@pytest.mark.parametrize("name", sorted(DOUBLE_BACKWARD))
def test_double_backward_matches_torch(name, torch_oracle):
    fn, tfn = DOUBLE_BACKWARD[name]
    a = np.random.default_rng(5).standard_normal((2, 3))
    x = gg.tensor(a, requires_grad=True)
    (g,) = grad(fn(x), x, create_graph=True)
    (h,) = grad((g * g).sum(), x)
    t = torch_oracle.tensor(a, requires_grad=True)
    (tg,) = torch_oracle.autograd.grad(tfn(t, torch_oracle), t, create_graph=True)
    (th,) = torch_oracle.autograd.grad((tg * tg).sum(), t)
    np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h.data, th.numpy(), rtol=1e-9, atol=1e-11)


def test_autograd_grad_leaves_dot_grad_alone_and_reports_unused():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    z = gg.tensor([1.0], requires_grad=True)
    y = (x * x).sum()
    (gx,) = grad(y, x, retain_graph=True)
    np.testing.assert_allclose(gx.data, [2, 4])
    assert x.grad is None
    with pytest.raises(RuntimeError, match="allow_unused"):
        grad(y, [x, z], retain_graph=True)
    assert grad(y, [x, z], allow_unused=True)[1] is None


def test_grad_of_an_intermediate_tensor():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    gh, gx = grad(y, [h, x])
    np.testing.assert_allclose(gh.data, [6, 12])
    np.testing.assert_allclose(gx.data, [18, 36])


def test_retain_grad_keeps_an_intermediate_gradient():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.data, [6, 12])


def test_custom_function_one_op_two_uses():
    class Cube(gg.Function):
        """y = x³.  dy/dx = 3x²."""

        def forward(self, x):
            self.save_for_backward(x)
            return x ** 3

        def backward(self, gy):
            (x,) = self.saved
            return gy * 3 * x ** 2

    by_hand = Cube()
    assert by_hand.forward(2.0) == 8.0 and by_hand.backward(1.0) == 12.0
    x = gg.tensor(2.0, dtype="float64", requires_grad=True)
    y = Cube()(x)
    (g,) = grad(y, x, create_graph=True)
    (h,) = grad(g, x)
    assert (y.item(), g.item(), h.item()) == (8.0, 12.0, 12.0)


def test_dtypes():
    assert gg.tensor([1.0, 2.0]).dtype == np.float32
    assert gg.tensor(np.array([1.0])).dtype == np.float64
    assert gg.tensor([1.0], dtype="float64").dtype == np.float64
    assert gg.tensor([1, 2]).dtype.kind == "i"
    x = gg.tensor([1.0], dtype="float64", requires_grad=True)
    assert (x * 2).dtype == np.float64 and (2.5 * gg.tensor([1.0])).dtype == np.float32
    with pytest.raises(TypeError, match="requires_grad=True needs floating-point data"):
        gg.tensor([1, 2], requires_grad=True)


def test_tensor_basics():
    x = gg.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    assert x.shape == (1, 3) and x.ndim == 2 and x.size() == (1, 3) and x.numel() == 3 and x.T.shape == (3, 1)
    assert isinstance(x.numpy(), np.ndarray) and x.sum().item() == 6.0
    d = x.detach()
    assert d.creator is None and not d.requires_grad and d.data is x.data
    c = x > 1.5
    assert c.dtype == bool and not c.requires_grad
    assert "requires_grad=True" in repr(x) and "grad_fn=<Mul>" in repr(x * 2)
    with pytest.raises(ValueError, match="only one-element"):
        x.item()


@pytest.mark.parametrize("op,pattern", [
    (lambda: gg.tensor(np.ones((2, 3))) @ gg.tensor(np.ones((4, 5))), r"matmul: shapes \(2, 3\) and \(4, 5\)"),
    (lambda: gg.tensor(np.ones((2, 3))) + gg.tensor(np.ones((4,))), r"add: shapes \(2, 3\) and \(4,\)"),
    (lambda: gg.tensor(np.ones((2, 3))) * gg.tensor(np.ones((2, 2))), r"mul: shapes \(2, 3\) and \(2, 2\)"),
    (lambda: gg.tensor(np.ones((2, 3))).reshape(4, 2), r"reshape: .*shape \(2, 3\).*into shape \(4, 2\)"),
    (lambda: gg.tensor(np.ones(3)).sum(axis=2), r"sum: axis 2 is out of range"),
])
def test_shape_errors_name_the_op_and_shapes(op, pattern):
    with pytest.raises(ValueError, match=pattern):
        op()


def test_detect_anomaly_names_the_op():
    x = gg.tensor([-1.0, 1.0], requires_grad=True)
    with detect_anomaly():
        with pytest.raises(FloatingPointError, match="Log.forward"):
            with np.errstate(invalid="ignore"):
                x.log()
        y = gg.tensor([0.0, 1.0], requires_grad=True)
        z = y.sqrt().sum()
        with pytest.raises(FloatingPointError, match="Sqrt.backward"):
            with np.errstate(divide="ignore"):
                z.backward()
    with np.errstate(invalid="ignore"):
        x.log()  # outside the block: no error
