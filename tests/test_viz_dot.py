"""graphgrad.viz without a browser: the graph model, DOT text, Graphviz rendering, limits, the CLI."""
from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad import viz
from graphgrad.cli import main
from graphgrad.viz.examples import EXAMPLES
from tests.conftest import numeric_grad

EDGE = re.compile(r"^  (\w+) -> (\w+)(?: \[label=<(.*)>\])?;$", re.M)
NODE = re.compile(r"^  (\w+) \[(.*)\];$", re.M)


def parse(dot: str):
    """Nodes {id: attrs} and edges [(src, dst, value text, grad text)] of our DOT output."""
    nodes = {m[1]: m[2] for m in NODE.finditer(dot) if not m[1].startswith(("node", "edge"))}
    edges = []
    for src, dst, label in EDGE.findall(dot):
        value = re.search(r'color="#1a7f37">([^<]*)<', label or "")
        grad = re.search(r'color="#cf222e">([^<]*)<', label or "")
        edges.append((src, dst, value and value[1], grad and grad[1]))
    return nodes, edges


def node_named(nodes: dict, name: str) -> str:
    return next(k for k, attrs in nodes.items() if re.search(rf"label=<{re.escape(name)}(<br/>|>)", attrs))


def edge_from(edges, src: str):
    return [e for e in edges if e[0] == src]


# ---- the shipped examples, as DOT ------------------------------------------------------------
def test_apple_dot_has_the_books_values_and_gradients():
    nodes, edges = parse(viz.to_dot(EXAMPLES["apple"]()))
    assert len(nodes) == 6 and len(edges) == 5  # 3 inputs, 2 multiplications, the output
    for name, value, grad in [("apple", "100", "2.2"), ("apple_num", "2", "110"), ("tax", "1.1", "200")]:
        [(_, dst, v, g)] = edge_from(edges, node_named(nodes, name))
        assert (v, g) == (value, grad), name
        assert "label=<×>" in nodes[dst]
    [out_edge] = [e for e in edges if e[1] == "out0"]
    assert out_edge[2:] == ("price = 220", "1")
    assert ("op0", "op1", "apple_price = 200", "1.1") in edges


def test_apple_orange_dot():
    nodes, edges = parse(viz.to_dot(EXAMPLES["apple-orange"]()))
    assert len(nodes) == 10 and len(edges) == 9
    want = {"apple": "2.2", "apple_num": "110", "orange": "3.3", "orange_num": "165", "tax": "650"}
    for name, grad in want.items():
        [(_, _, _, g)] = edge_from(edges, node_named(nodes, name))
        assert g == grad, name
    assert sum("label=<+>" in a for a in nodes.values()) == 1
    assert [e[2] for e in edges if e[1] == "out0"] == ["price = 715"]


def test_cs231n_gates_dot_shows_distribute_route_swap():
    nodes, edges = parse(viz.to_dot(EXAMPLES["cs231n-gates"]()))
    assert len(nodes) == 9 and len(edges) == 8
    grads = {name: edge_from(edges, node_named(nodes, name))[0][3] for name in "xyzw"}
    assert grads == {"x": "-8", "y": "6", "z": "2", "w": "0"}  # mul swaps, max routes to z
    assert sum("label=<×2>" in a for a in nodes.values()) == 1  # the constant folded into the op


def test_sigmoid_dot_decomposes_next_to_the_fused_node():
    nodes, edges = parse(viz.to_dot(EXAMPLES["sigmoid"]()))
    labels = [re.search(r"label=<([^<>]*)", a)[1] for k, a in nodes.items() if k.startswith("op")]
    assert sorted(labels) == sorted(["×-1", "exp", "+1", "1/x", "σ"])
    assert len(nodes) == 8 and len(edges) == 7
    y = 1 / (1 + np.exp(-1.0))
    from_x = edge_from(edges, node_named(nodes, "x"))
    assert [e[3] for e in from_x] == [f"{y * (1 - y):.4g}"] * 2  # both paths agree: y(1 - y)


def test_two_layer_net_dot_groups_layers():
    dot = viz.to_dot(EXAMPLES["two-layer-net"]())
    nodes, edges = parse(dot)
    assert len(nodes) == 17 and len(edges) == 16
    assert re.findall(r"label=<(\w+)>; style", dot) == ["Affine1", "ReLU", "Affine2", "SoftmaxWithLoss"]
    affine1 = re.search(r"label=<Affine1>.*?; (op\d+); (op\d+); }", dot)
    assert "label=<@" in nodes[affine1[1]] and "label=<+" in nodes[affine1[2]]  # matmul + add
    [(_, _, value, grad)] = edge_from(edges, node_named(nodes, "W1"))
    assert value.startswith("(784, 50) min") and grad.startswith("(784, 50) min")


def test_dot_switches():
    out = EXAMPLES["apple"]()
    plain = viz.to_dot(out, show_values=False, show_grads=False, show_shapes=False)
    assert "#1a7f37" not in plain and "#cf222e" not in plain and "float64" not in plain
    assert "2.2" not in viz.to_dot(out, show_grads=False)


# ---- gradients shown are the true ones -------------------------------------------------------
def _edge_grads(out) -> dict:
    graph = viz.build(out)
    names = {n.id: n.label for n in graph.nodes}
    return {names[e.src]: float(e.grad["full"]) for e in graph.edges if e.src.startswith("in")}


def test_two_layer_net_gradient_matches_pytorch(torch_oracle):
    torch = torch_oracle
    loss = EXAMPLES["two-layer-net"]()
    graph = viz.build(loss)
    leaves = {n.label: n for n in graph.nodes if n.kind == "input"}
    rng = np.random.default_rng(0)  # the example's own draws, in its order
    xs = rng.random((4, 784)).astype(np.float32)
    labels = rng.integers(0, 10, size=4)
    W1, W2 = rng.normal(0, 0.01, (784, 50)), rng.normal(0, 0.01, (50, 10))
    tw1 = torch.tensor(W1.astype(np.float32).astype(np.float64), requires_grad=True)
    tw2 = torch.tensor(W2.astype(np.float32).astype(np.float64))
    z = torch.relu(torch.tensor(xs, dtype=torch.float64) @ tw1) @ tw2
    torch.nn.functional.cross_entropy(z, torch.tensor(labels)).backward()
    g = tw1.grad.numpy()
    shown = leaves["W1"].grad
    for key, ref in [("min", g.min()), ("mean", g.mean()), ("max", g.max())]:
        assert float(shown[key]) == pytest.approx(ref, rel=2e-3), key  # float32 vs float64


@settings(max_examples=25, deadline=None)
@given(st.floats(-3, 3), st.floats(-3, 3), st.floats(-3, 3), st.floats(-3, 3))
def test_gate_gradients_match_torch_and_central_differences(x, y, z, w):
    torch = pytest.importorskip("torch")
    leaves = {k: gg.tensor(v, dtype="float64", requires_grad=True) for k, v in zip("xyzw", (x, y, z, w))}
    for k, t in leaves.items():
        t.name = k
    out = (leaves["x"] * leaves["y"] + gg.maximum(leaves["z"], leaves["w"])) * 2
    shown = _edge_grads(out)
    tl = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in zip("xyzw", (x, y, z, w))}
    ((tl["x"] * tl["y"] + torch.maximum(tl["z"], tl["w"])) * 2).backward()

    def f(v):
        return float(2 * (v[0] * v[1] + max(v[2], v[3])))

    num = numeric_grad(f, np.array([x, y, z, w]))
    for i, k in enumerate("xyzw"):
        assert shown[k] == pytest.approx(tl[k].grad.item(), rel=1e-9, abs=1e-12)
        if abs(z - w) > 1e-3:  # max is not differentiable at a tie
            assert shown[k] == pytest.approx(num[i], abs=1e-5)


def test_drawing_leaves_grad_untouched():
    out = EXAMPLES["apple"]()
    viz.to_dot(out)
    leaves = [t for fn in gg.engine.topological_order([out]) for t in fn.inputs]
    assert all(t.grad is None for t in leaves)
    out.backward()  # the graph is still whole: drawing kept it (retain_graph)
    assert leaves[0].grad is not None


def test_after_backward_the_stored_gradients_are_shown_with_a_note():
    out = EXAMPLES["apple"]()
    out.backward()  # frees the graph
    graph = viz.build(out)
    assert "freed" in graph.note
    assert {n.label: n.grad["label"] for n in graph.nodes if n.kind == "input"} == {
        "apple": "2.2", "apple_num": "110", "tax": "200"}
    assert all(e.grad is None for e in graph.edges if not e.dst.startswith("out"))


# ---- groups -----------------------------------------------------------------------------------
def test_record_modules_boxes_each_module():
    from graphgrad import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.act, self.fc2 = nn.Linear(4, 3, generator=0), nn.ReLU(), nn.Linear(3, 2, generator=1)

        def forward(self, x):
            return self.fc2(self.act(self.fc1(x)))

    net = Net()
    with viz.record_modules(net):
        out = net(gg.tensor(np.ones((2, 4)))).sum()
    assert "forward" not in vars(net.fc1)  # the module is left as it was
    graph = viz.build(out)
    groups = [n.group for n in graph.nodes if n.kind == "op"]
    # each Linear box holds its two steps, @ and +; .sum() ran outside the model
    assert groups == ["fc1 (Linear)"] * 2 + ["act (ReLU)"] + ["fc2 (Linear)"] * 2 + [None]
    assert {n.label for n in graph.nodes if n.kind == "input"} >= {"fc1.weight", "fc2.bias"}


# ---- limits and errors ------------------------------------------------------------------------
def test_a_huge_graph_is_refused_with_advice():
    x = gg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    with pytest.raises(viz.GraphTooLargeError, match="100000 operations.*subgraph.*group"):
        viz.to_html(y, "never-written.html")


def test_render_without_graphviz_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        viz.render(EXAMPLES["apple"](), tmp_path / "a.svg")
    with pytest.raises(ValueError, match=r"\.svg"):
        viz.render(EXAMPLES["apple"](), tmp_path / "a.gif")


@pytest.mark.parametrize("suffix,magic", [("svg", b"<?xml"), ("png", b"\x89PNG")])
def test_render_writes_svg_and_png(tmp_path, suffix, magic):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz is not installed (apt-get install graphviz)")
    path = viz.render(EXAMPLES["apple"](), tmp_path / f"apple.{suffix}")
    assert path.read_bytes().startswith(magic)
    if suffix == "svg":
        text = path.read_text()
        assert "2.2" in text and "110" in text and "200" in text


# ---- the command line -------------------------------------------------------------------------
def test_cli_writes_each_format(tmp_path, capsys):
    args = ["graph", "apple", "--dot", str(tmp_path / "a.dot"), "--html", str(tmp_path / "a.html")]
    if shutil.which("dot"):
        args += ["--svg", str(tmp_path / "a.svg")]
    assert main(args) == 0
    assert "2.2" in (tmp_path / "a.dot").read_text()
    assert '"fold_groups"' in (tmp_path / "a.html").read_text()


def test_cli_runs_a_users_function(tmp_path, capsys):
    src = tmp_path / "model.py"
    src.write_text("import graphgrad as gg\n\ndef f():\n    x = gg.tensor(3.0, requires_grad=True)\n"
                   "    x.name = 'x'\n    return x * x\n")
    assert main(["graph", f"{src}:f", "--dot", "-"]) == 0
    _, edges = parse(capsys.readouterr().out)
    assert [e[3] for e in edges if e[0] == "in0"] == ["3", "3"]  # x·x: each edge carries x


@pytest.mark.parametrize("argv,message", [
    (["graph", "nope", "--dot", "-"], "unknown example 'nope'"),
    (["graph", "apple"], "--html"),
    (["graph", "missing.py:f", "--dot", "-"], "no such file"),
])
def test_cli_bad_input(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


# ---- static graphs (graphgrad.graph) --------------------------------------------------------
def test_static_apple_graph_draws_like_the_eager_one():
    import graphgrad.graph as G

    with G.Graph():
        apple = G.Variable((), init=np.array(100.0), name="apple")
        num = G.Variable((), init=np.array(2.0), name="apple_num")
        tax = G.Variable((), init=np.array(1.1), name="tax")
        price = G.mul(G.mul(apple, num, name="apple_price"), tax, name="price")
    static = parse(viz.to_dot(price))
    eager = parse(viz.to_dot(EXAMPLES["apple"]()))
    assert static == eager


def test_static_name_scope_is_a_group_and_gradients_match_pytorch(torch_oracle):
    import graphgrad.graph as G

    torch = torch_oracle
    rng = np.random.default_rng(1)
    x0, w0 = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    with G.Graph():
        x = G.Variable((3, 4), init=x0, trainable=False, name="x")
        with G.name_scope("layer1"):
            w = G.Variable((4, 2), init=w0, name="W")
            h = G.tanh(x @ w)
        loss = (h * h).sum()
    graph = viz.build(loss)
    assert {n.group for n in graph.nodes if n.kind == "op"} == {"layer1", None}
    tw = torch.tensor(w0, requires_grad=True)
    (torch.tanh(torch.tensor(x0) @ tw) ** 2).sum().backward()
    [w_node] = [n for n in graph.nodes if n.label == "layer1/W"]
    g = tw.grad.numpy()
    assert [float(w_node.grad[k]) for k in ("min", "mean", "max")] == pytest.approx(
        [g.min(), g.mean(), g.max()], rel=1e-5)
    assert float(w_node.grad["head"][0]) == pytest.approx(g.ravel()[0], rel=1e-5)
