"""One definition per op: a user's op gets the whole surface; eager tensors and static nodes share it."""
from __future__ import annotations

import numpy as np
import pytest

import graphgrad as gg
import graphgrad.graph as G
from graphgrad import viz
from conftest import numeric_grad


class Cube(gg.Function):
    """y = x³.  dy/dx = 3x²."""

    name, method, symbol, elementwise = "cube_for_tests", True, "x³", True

    def forward(self, x):
        self.save_for_backward(x)
        return x ** 3

    def backward(self, gy):
        (x,) = self.saved
        return gy * 3 * x ** 2


def test_a_users_op_is_a_function_a_method_and_a_graph_function():
    x = gg.tensor([1.0, -2.0], dtype="float64", requires_grad=True)
    assert gg.cube_for_tests is gg.ops.cube_for_tests
    y = gg.cube_for_tests(x) + x.cube_for_tests()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * 3 * x.data ** 2)
    with G.Graph():
        v = G.Variable((2,), init=np.array([1.0, -2.0]))
        node = G.cube_for_tests(v, name="cubed")
        assert node.name == "cubed" and v.cube_for_tests().op_name == "Cube"
        np.testing.assert_allclose(node.forward(), [1.0, -8.0])


def test_a_users_op_under_create_graph_and_in_a_jacobian():
    x = gg.tensor(1.5, dtype="float64", requires_grad=True)
    (g,) = gg.autograd.grad(gg.cube_for_tests(x), x, create_graph=True)
    (h,) = gg.autograd.grad(g, x)
    assert (g.item(), h.item()) == pytest.approx((3 * 1.5 ** 2, 6 * 1.5))
    with G.Graph():
        v = G.Variable((3,), init=np.array([0.5, 1.0, 2.0]))
        out = G.cube_for_tests(v)
        jac = v.backward(out)
    np.testing.assert_allclose(jac, np.diag(3 * np.array([0.5, 1.0, 2.0]) ** 2))


def test_a_users_op_is_drawn_and_saved_and_loaded(tmp_path):
    x = gg.Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True, name="x")
    dot = viz.to_dot(gg.cube_for_tests(x).sum())
    assert "x³" in dot
    with G.Graph() as g:
        v = G.Variable((2,), init=np.array([1.0, 2.0]), name="v")
        out = G.cube_for_tests(v, name="out")
    g.save(tmp_path)
    loaded = G.load(tmp_path)
    np.testing.assert_allclose(loaded["out"].forward(), out.forward())


def test_an_op_keeping_its_input_outside_saved_is_refused_under_create_graph():
    class Sneaky(gg.Function):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, gy):
            return 2 * gy * self.x

    x = gg.tensor(2.0, dtype="float64", requires_grad=True)
    with pytest.raises(RuntimeError, match="save_for_backward"):
        gg.autograd.grad(Sneaky()(x), x, create_graph=True)


def test_configuration_survives_release():
    x = gg.tensor([[1.0, 2.0]], requires_grad=True)
    y = gg.sum(x, axis=1, keepdims=True)
    fn = y.creator
    y.sum().backward()
    assert fn.released and fn.saved is None
    assert fn.config() == {"axis": 1, "keepdims": True}


def test_library_functions_on_nodes_build_nodes():
    with G.Graph():
        v = G.Variable((2, 2), init=np.array([[0.0, 1.0], [-1.0, 2.0]]))
        for node in (gg.sigmoid(v), v.exp(), 2 * v, v * 2, gg.maximum(v, 0), gg.exp(v).sum(axis=0), -v, v[0]):
            assert isinstance(node, G.Node), node
        np.testing.assert_allclose(gg.maximum(v, 0).forward(), np.maximum(v.value, 0))


def test_an_eager_tensor_meeting_a_node_is_a_constant_never_an_object_array():
    t = gg.tensor([[1.0, 2.0], [3.0, 4.0]])
    with G.Graph():
        v = G.Variable((2, 2), init=np.ones((2, 2)))
        for node in (t + v, v + t, G.sigmoid(t), G.add(t, v)):
            assert isinstance(node, G.Node) and node.forward().dtype != object
        np.testing.assert_allclose((t + v).forward(), t.data + 1)
    with pytest.raises(TypeError, match="not numeric"):
        gg.tensor([object()])


def test_one_model_function_runs_eagerly_and_as_a_static_graph():
    def model(x, w, b):
        return gg.sigmoid(x @ w + b).mean()

    rng = np.random.default_rng(0)
    xs, ws, bs = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    w, b = gg.tensor(ws, requires_grad=True), gg.tensor(bs, requires_grad=True)
    eager = model(gg.tensor(xs), w, b)
    eager.backward()
    with G.Graph():
        x, wn, bn = G.Variable((None, 3), trainable=False), G.Variable((3, 2), init=ws), G.Variable((2,), init=bs)
        loss = model(x, wn, bn)
    x.set_value(xs)
    gw, gb = G.gradients(loss, [wn, bn])
    np.testing.assert_allclose(loss.forward(), eager.data)
    np.testing.assert_allclose(gw, w.grad.data)
    np.testing.assert_allclose(gb, b.grad.data)


@pytest.mark.parametrize("data", [[0.0], [[1.0, 2.0]], np.zeros((2, 2))])
def test_bool_follows_numpy_and_pytorch(data):
    t = gg.tensor(data)
    if t.numel() == 1:
        assert bool(t) is False and bool(gg.tensor([3.0])) is True
        assert bool(np.asarray(data).reshape(()) > 0) is bool(t > 0)
    else:
        with pytest.raises(RuntimeError, match="ambiguous"):
            bool(t)
        with pytest.raises(RuntimeError, match="ambiguous"):
            if t > 0:
                pass


def test_tensors_key_dicts_by_identity():
    a, b = gg.tensor([1.0]), gg.tensor([1.0])
    d = {a: "a", b: "b"}
    assert d[a] == "a" and d[b] == "b" and len({a, b}) == 2


def test_record_modules_with_a_0d_parameter():
    class Scale(gg.nn.Module):
        def __init__(self):
            super().__init__()
            self.s = gg.nn.Parameter(np.float32(2.0))

        def forward(self, x):
            return x * self.s

    model = Scale()
    with viz.record_modules(model):
        out = model(gg.tensor([1.0, 2.0])).sum()
    assert "digraph" in viz.to_dot(out)


@pytest.mark.parametrize("other", [np.array([1.0, 2.0]), np.array([1, 2]), 3, 2.5])
def test_a_leafs_gradient_has_the_leafs_dtype(other):
    x = gg.tensor([1.0, 2.0], requires_grad=True)  # float32
    (x * gg.Tensor(np.asarray(other)) + x).sum().backward()
    assert x.grad.dtype == np.float32
    (g,) = gg.autograd.grad((x * gg.Tensor(np.asarray(other))).sum(), x)
    assert g.dtype == np.float32


def test_half_precision_reductions_accumulate_in_float32():
    assert gg.tensor(np.ones(100_000, np.float16)).mean().item() == 1.0
    assert gg.tensor(np.ones(100_000, np.float16)).mean().dtype == np.float16
    logits = gg.tensor(np.zeros((40_000, 10), np.float16), requires_grad=True)
    loss = gg.cross_entropy(logits, gg.Tensor(np.zeros(40_000, np.int64)))
    assert loss.dtype == np.float16 and np.isclose(loss.item(), np.log(10), rtol=1e-3)
    loss.backward()
    assert logits.grad.dtype == np.float16 and np.isfinite(logits.grad.data.astype(np.float32)).all()


def test_grad_modes_are_per_thread():
    import threading

    results = []
    stop = threading.Event()

    def other():
        with gg.no_grad():
            stop.wait(2)

    worker = threading.Thread(target=other)
    worker.start()
    try:
        for _ in range(200):
            x = gg.tensor([1.0], requires_grad=True)
            results.append((x * 2).requires_grad)
    finally:
        stop.set()
        worker.join()
    assert all(results) and gg.is_grad_enabled()


def test_numeric_grad_helper_agrees_with_a_registered_op():
    x = np.array([0.3, -0.7])
    t = gg.tensor(x, requires_grad=True)
    gg.cube_for_tests(t).sum().backward()
    np.testing.assert_allclose(t.grad.data, numeric_grad(lambda v: float((v ** 3).sum()), x.copy()), rtol=1e-6)
