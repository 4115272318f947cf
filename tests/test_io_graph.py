"""graphgrad.graph.save/load: one file through graphgrad.save; damaged or hostile files are one clear error."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import graphgrad
import graphgrad.graph as G


def small_graph():
    with G.Graph() as g:
        x = G.Variable((None, 3), trainable=False, name="x")
        w = G.Variable((3, 2), init=np.arange(6.0).reshape(3, 2), name="w")
        G.relu(x @ w + 1.0)
    return g


def saved(tmp_path):
    small_graph().save(tmp_path)
    return graphgrad.load(tmp_path / "graph.npz")


def test_one_file_round_trip_with_the_values(tmp_path):
    g = small_graph()
    path = G.save(g, tmp_path / "g.npz")  # a .npz path is the file itself
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.npz"]
    g2 = G.load(path)
    batch = np.ones((4, 3))
    g["x"].set_value(batch)
    g2["x"].set_value(batch)
    np.testing.assert_array_equal(g2.nodes[-1].forward(), g.nodes[-1].forward())


def resave(state, tmp_path):
    path = tmp_path / "bad" / "graph.npz"
    path.parent.mkdir(exist_ok=True)
    graphgrad.save(state, path)
    return path


def damage(state, how):
    state = copy.deepcopy(state)
    nodes = state["nodes"]
    w = next(n for n in nodes if n["name"] == "w")
    op = next(n for n in nodes if n["kind"] == "operation")
    if how == "shape-negative":
        w["shape"] = [-5]
    elif how == "shape-text":
        w["shape"] = "abc"
    elif how == "shape-wrong":
        w["shape"] = [4, 4]
    elif how == "parent-out-of-range":
        op["parents"] = [99]
    elif how == "parent-is-self-or-later":
        op["parents"] = [len(nodes) - 1]
    elif how == "parent-not-int":
        op["parents"] = ["x"]
    elif how == "unknown-op":
        op["op"] = "os.system"
    elif how == "op-not-text":
        op["op"] = [1]
    elif how == "config-not-dict":
        op["config"] = [1]
    elif how == "config-bad-arg":
        op["config"] = {"nonsense": 1}
    elif how == "kind":
        w["kind"] = "lambda"
    elif how == "name":
        w["name"] = 3
    elif how == "node-not-dict":
        nodes[0] = 7
    elif how == "nodes-not-list":
        state["nodes"] = {"a": 1}
    elif how == "trainable":
        w["trainable"] = "yes"
    elif how == "version":
        state["version"] = 99
    elif how == "format":
        state["format"] = "other"
    elif how == "not-a-dict":
        state = [1, 2]
    return state


HOW = ["shape-negative", "shape-text", "shape-wrong", "parent-out-of-range", "parent-is-self-or-later",
       "parent-not-int", "unknown-op", "op-not-text", "config-not-dict", "config-bad-arg", "kind", "name",
       "node-not-dict", "nodes-not-list", "trainable", "version", "format", "not-a-dict"]


@pytest.mark.parametrize("how", HOW)
def test_a_damaged_structure_is_one_error_naming_the_file(tmp_path, how):
    path = resave(damage(saved(tmp_path), how), tmp_path)
    with pytest.raises(graphgrad.CheckpointError) as err:
        G.load(path.parent)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("content", [b"", b"{not json", b"PK\x03\x04garbage", b"\x93NUMPY\x01\x00"])
def test_garbage_files_are_one_error_naming_the_file(tmp_path, content):
    (tmp_path / "graph.npz").write_bytes(content)
    with pytest.raises(graphgrad.CheckpointError, match="graph.npz"):
        G.load(tmp_path)


def test_missing_and_legacy_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="graph.npz"):
        G.load(tmp_path)
    (tmp_path / "graph.json").write_text("{}")
    with pytest.raises(graphgrad.CheckpointError, match="earlier graphgrad .graph.json"):
        G.load(tmp_path)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_python_numbers_compute_in_the_graphs_dtype_before_and_after_a_round_trip(dtype, tmp_path):
    with G.Graph() as g:
        x = G.Variable((2,), trainable=False, name="x", dtype=dtype)
        y = x * 0.1 + 1 / 3
    x.set_value(np.array([1.0, 2.0], dtype=dtype))
    exact = np.array([1.0, 2.0], dtype=dtype) * 0.1 + 1 / 3  # NumPy's rule for Python numbers
    assert y.forward().dtype == np.dtype(dtype)
    np.testing.assert_array_equal(y.forward(), exact)  # a float32 0.1 would be off by 1.5e-9 in float64
    g2 = G.load(G.save(g, tmp_path / "g.npz"))
    g2["x"].set_value(np.array([1.0, 2.0], dtype=dtype))
    np.testing.assert_array_equal(g2.nodes[-1].forward(), exact)
    with pytest.raises(ValueError, match="a constant with no gradient"):
        G.gradients(y, [y.parents[1]])


def test_the_articles_column_vectors_stay_columns_after_a_round_trip(tmp_path):
    with G.Graph() as g:
        x = G.Variable(3, trainable=False, name="x")  # the article's 3 x 1 column
        w = G.Variable(3, init=np.ones((3, 1)), name="w")
        G.dot(w, x, name="neuron")  # their inner product, 1 x 1
    g2 = G.load(G.save(g, tmp_path / "g.npz"))
    for graph in (g, g2):
        graph["x"].set_value(np.asmatrix([1.0, 2.0, 3.0]).T)
        graph["neuron"].forward()
        assert graph["x"].matrix_api and isinstance(graph["neuron"].value, np.matrix)
        assert graph["neuron"].value[0, 0] == 6.0
    again = G.dot(g2["w"], g2["x"])  # new nodes on loaded columns follow the column API too
    assert again.forward().shape == (1, 1)
