"""Static graphs: names and scopes, lazy forward, set_value invalidation, the text's backward, errors, save/load."""
from __future__ import annotations

import numpy as np
import pytest

import graphgrad
import graphgrad.graph as gg
from graphgrad import Function
from graphgrad.graph.node import Node


def _count_forwards(nodes) -> dict:
    """Wrap each operation's forward so the test can count how often each one runs."""
    counts = {}
    for n in nodes:
        fn = n.function
        counts[n.name] = 0

        def counted(*xs, _fn=fn.forward, _name=n.name):
            counts[_name] += 1
            return _fn(*xs)

        fn.forward = counted
    return counts


def _chain():
    """x -> a = x*w -> b = exp(a) -> c = b + v  and an independent d = v * 2."""
    with gg.Graph() as g:
        x = gg.Variable((3,), trainable=False, name="x")
        w = gg.Variable((3,), init=np.full(3, 0.5), name="w")
        v = gg.Variable((3,), init=np.ones(3), name="v")
        a = gg.mul(x, w, name="a")
        b = gg.exp(a, name="b")
        c = gg.add(b, v, name="c")
        d = gg.mul(v, 2.0, name="d")
    return g, x, w, v, a, b, c, d


def test_names_scopes_and_lookup():
    with gg.Graph() as g:
        x = gg.Variable((2,))
        with gg.name_scope("hidden"):
            w = gg.Variable((2,), name="w")
            with g.name_scope("inner"):
                y = x * w
    assert x.name == "Variable:0" and w.name == "hidden/w" and y.name == "hidden/inner/Mul:2"
    assert g["hidden/w"] is w and g.node_count() == 3 and list(g) == [x, w, y]
    assert y.parents == (x, w) and x.children == [y] and y.op_name == "Mul"


def test_duplicate_name_is_an_error():
    with gg.Graph():
        gg.Variable((2,), name="w")
        with pytest.raises(ValueError, match="'w' already exists"):
            gg.Variable((2,), name="w")


def test_nodes_join_the_innermost_graph_and_the_default_is_restored():
    outer = gg.get_default_graph()
    with gg.Graph() as g:
        assert gg.get_default_graph() is g
        x = gg.Variable((1,))
    assert x.graph is g and gg.get_default_graph() is outer
    y = x + 1.0  # an operation joins its inputs' graph even outside the block
    assert y.graph is g and isinstance(y.parents[1], gg.Constant)


def test_forward_computes_only_what_is_missing():
    g, x, w, v, a, b, c, d = _chain()
    counts = _count_forwards([a, b, c, d])
    x.set_value(np.arange(3.0))
    c.forward()
    assert counts == {"a": 1, "b": 1, "c": 1, "d": 0}
    c.forward()
    b.forward()
    assert counts == {"a": 1, "b": 1, "c": 1, "d": 0}
    v.set_value(np.zeros(3))  # only c (and d) depend on v
    c.forward()
    assert counts == {"a": 1, "b": 1, "c": 2, "d": 0}
    np.testing.assert_allclose(c.value, np.exp(np.arange(3.0) * 0.5))


def test_set_value_resets_exactly_the_downstream_nodes():
    g, x, w, v, a, b, c, d = _chain()
    x.set_value(np.ones(3))
    c.forward()
    d.forward()
    v.set_value(np.full(3, 2.0))
    assert [n.name for n in g if n.value is None] == ["c", "d"]
    c.forward()
    d.forward()
    w.set_value(np.zeros(3))
    assert [n.name for n in g if n.value is None] == ["a", "b", "c"]
    g.reset_value()
    assert [n.name for n in g if n.value is None] == ["a", "b", "c", "d"]
    assert x.value is not None and w.value is not None  # variables keep their values


def test_a_non_recursive_reset_does_not_hide_stale_values_below():
    g, x, w, v, a, b, c, d = _chain()
    x.set_value(np.ones(3))
    c.forward()
    b.reset_value(recursive=False)  # only b forgets; c still holds its value
    assert b.value is None and c.value is not None
    x.set_value(np.zeros(3))  # must still reach c through b
    assert c.value is None
    np.testing.assert_allclose(c.forward(), 2.0)


def test_rerunning_with_new_values_creates_no_nodes(monkeypatch):
    with gg.Graph() as g:
        x = gg.Variable((None, 4), trainable=False)
        t = gg.Variable((None,), trainable=False)
        w = gg.Variable((4, 3), init=True, rng=0)
        loss = gg.CrossEntropyWithSoftMax(gg.relu(x @ w), t)
    opt = gg.Adam(g, loss, 0.01)
    made = []
    original = Node.__init__
    monkeypatch.setattr(Node, "__init__", lambda self, *a, **k: (made.append(self), original(self, *a, **k))[1])
    rng = np.random.default_rng(0)
    for n in (5, 7, 5):
        x.set_value(rng.normal(size=(n, 4)).astype(np.float32))
        t.set_value(rng.integers(0, 3, size=n))
        opt.one_step()
        opt.update()
        w.backward(loss)
    assert made == [] and g.node_count() == 6


def test_backward_gives_the_texts_jacobians():
    rng = np.random.default_rng(1)
    with gg.Graph():
        x = gg.Variable((2, 3), init=rng.normal(size=(2, 3)), trainable=False)
        w = gg.Variable((3, 2), init=rng.normal(size=(3, 2)))
        h = gg.Logistic(x @ w)
        y = gg.SoftMax(h * h + h)
    assert np.array_equal(y.backward(y), np.eye(4))
    jac = w.backward(y)
    assert jac.shape == (4, 6) and w.jacobi is jac
    base, cols = w.value.copy(), []
    for j in range(6):
        f = []
        for sign in (1, -1):
            p = base.copy()
            p.reshape(-1)[j] += sign * 1e-6
            w.set_value(p)
            f.append(y.forward().reshape(-1).copy())
        cols.append((f[0] - f[1]) / 2e-6)
    w.set_value(base)
    numeric = np.stack(cols, axis=1)
    np.testing.assert_allclose(jac, numeric, rtol=1e-5, atol=1e-8)


def test_backward_memoises_each_jacobian_once():
    g, x, w, v, a, b, c, d = _chain()
    x.set_value(np.arange(3.0))
    calls = []
    for n in (a, b, c):
        original = n.get_jacobi
        n.get_jacobi = lambda parent, _o=original, _n=n: (calls.append((_n.name, parent.name)), _o(parent))[1]
    jw = w.backward(c)
    jx = x.backward(c)  # shares a, b, c's memoised Jacobians: only the edge a <- x is new
    assert sorted(calls) == [("a", "w"), ("a", "x"), ("b", "a"), ("c", "b")]
    expected = np.exp(np.arange(3.0) * 0.5)
    np.testing.assert_allclose(jw, np.diag(expected * np.arange(3.0)))
    np.testing.assert_allclose(jx, np.diag(expected * 0.5))
    assert np.array_equal(d.backward(c), np.zeros((3, 3)))  # c does not depend on d
    x.set_value(np.ones(3))
    assert w.jacobi is None  # a new value makes the memo stale
    g.clear_jacobi()
    assert all(n._jacobi is None for n in g)


def test_node_from_another_graph_is_rejected():
    with gg.Graph():
        a = gg.Variable((2,), name="a")
    with gg.Graph():
        b = gg.Variable((2,), name="b")
    with pytest.raises(ValueError, match="belong to different graphs"):
        a + b


def test_set_value_of_the_wrong_shape_names_the_variable():
    with gg.Graph():
        x = gg.Variable((None, 784), name="images")
    x.set_value(np.zeros((5, 784), np.float32))
    with pytest.raises(ValueError, match=r"'images' has shape \(None, 784\), got a value of shape \(5, 28, 28\)"):
        x.set_value(np.zeros((5, 28, 28)))


def test_trainable_variables_need_floats():
    with gg.Graph():
        w = gg.Variable((2,), name="weights")
        labels = gg.Variable((2,), trainable=False)
    labels.set_value([1, 2])
    with pytest.raises(TypeError, match="trainable variable 'weights' needs floating-point values, got dtype int64"):
        w.set_value([1, 2])
    read_only = np.float32([1, 2])
    read_only.flags.writeable = False
    w.set_value(read_only)  # copied, since optimizers update trainable values in place
    assert w.value.flags.writeable and w.value is not read_only


def test_forward_without_a_value_names_the_variable():
    with gg.Graph():
        x = gg.Variable((3,), name="inputs")
        y = gg.exp(x * 2.0)
    with pytest.raises(RuntimeError, match="variable 'inputs' .* has no value; call set_value"):
        y.forward()


def test_gradients_of_a_non_scalar_target_need_a_seed():
    with gg.Graph():
        w = gg.Variable((3,), init=np.ones(3))
        y = gg.exp(w)
    with pytest.raises(ValueError, match="not a scalar"):
        gg.gradients(y, [w])
    (g,) = gg.gradients(y, [w], grad=np.full(3, 2.0))
    np.testing.assert_allclose(g, 2 * np.e)


def test_describe_lists_every_node():
    g, *_ = _chain()
    text = g.describe()
    assert text.splitlines()[0] == "Graph with 8 nodes"
    assert "c" in text and "Add" in text and "b, v" in text and "no value" in text


def test_save_and_load_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    with gg.Graph() as g:
        x = gg.Variable((None, 4), trainable=False, name="x")
        with gg.name_scope("layer"):
            w = gg.Variable((4, 3), init=rng.normal(size=(4, 3)), name="w")
            b = gg.Variable((3,), init=rng.normal(size=3), name="b")
        y = gg.softmax(gg.relu(x @ w + b)[:, 1:] * 0.5, axis=-1)
        z = gg.astype(gg.sum(y, axis=(0, 1)), "float64")
    g.save(tmp_path / "model")
    meta = graphgrad.load(tmp_path / "model" / "graph.npz")  # one file, written by graphgrad.save
    assert meta["format"] == "graphgrad.graph" and len(meta["nodes"]) == g.node_count()
    g2 = gg.load(tmp_path / "model")
    assert [n.name for n in g2] == [n.name for n in g] and [n.op_name for n in g2] == [n.op_name for n in g]
    batch = rng.normal(size=(5, 4))
    x.set_value(batch)
    g2["x"].set_value(batch)
    np.testing.assert_allclose(g2[y.name].forward(), y.forward())
    np.testing.assert_allclose(g2[z.name].forward(), z.forward())
    assert g2["layer/w"].trainable and not g2["x"].trainable and g2["x"].declared_shape == (None, 4)


class Twice(Function):
    """y = 2x: a user's own op, defined at module level so a loaded graph finds it."""

    name, symbol = "twice_for_tests", "×2"

    def forward(self, x):
        return 2 * x

    def backward(self, gy):
        return 2 * gy


def test_a_users_op_saves_and_loads_and_an_unknown_op_is_named(tmp_path):
    with gg.Graph() as g:
        y = gg.apply(Twice, gg.Variable((2,), init=np.ones(2)))
    assert np.array_equal(y.forward(), [2.0, 2.0])
    g.save(tmp_path)
    assert np.array_equal(gg.load(tmp_path)[y.name].forward(), [2.0, 2.0])
    import graphgrad

    state = graphgrad.load(tmp_path / "graph.npz")
    state["nodes"][1]["op"] = "no.such.Op"
    graphgrad.save(state, tmp_path / "graph.npz")
    with pytest.raises(ValueError, match="no.such.Op"):
        gg.load(tmp_path)


def test_a_20k_node_chain_evaluates_and_differentiates_without_recursion():
    with gg.Graph():
        x = gg.Variable((1,), init=np.zeros(1))
        y = x
        for _ in range(20_000):
            y = y + 1.0
    assert y.forward()[0] == 20_000
    (g,) = gg.gradients(y.sum(), [x])
    assert g[0] == 1.0
