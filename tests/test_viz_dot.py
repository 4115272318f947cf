"""graphgrad.viz without a browser: the graph model, DOT text, Graphviz rendering, limits, the CLI."""
from __future__ import annotations

import ast
import re
import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad import viz
from graphgrad.cli import main
from graphgrad.viz.examples import EXAMPLES, two_layer_batch
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


def dot_clusters(dot: str) -> list:
    """[(group name, "member; member")] for each cluster, in order."""
    return [(m[1], m[2]) for m in re.finditer(r"label=<([^<>]*)>; style[^}]*?#8c959f\"; (.*?); }", dot)]


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
    xs, labels, params, _ = two_layer_batch()  # the example's own data and parameters
    W1, W2 = params["W1"], params["W2"]
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
    leaves = [t for fn in gg.autograd.engine.topological_order([out]) for t in fn.inputs]
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


# ---- a fused Linear drawn as @ then + ----------------------------------------------------------
def _leaves_by_label(out) -> dict:
    """The arrays of the graph's leaves, by the label the picture gives them (x, 0.weight, ...)."""
    from graphgrad.viz.groups import label_of

    return {label_of(t): t.data for fn in gg.autograd.engine.topological_order([out]) for t in fn.inputs
            if t.creator is None and label_of(t)}


def _small(a: np.ndarray) -> str:
    """How DOT writes a small array: shape for a matrix, then every number in 4 significant digits."""
    from graphgrad.viz.summary import long_label, summarize

    return long_label(summarize(a))


def test_nn_linear_boxes_expand_to_matmul_and_add_with_torchs_values(torch_oracle):
    torch = torch_oracle
    loss = EXAMPLES["nn-mlp"]()
    dot = viz.to_dot(loss)
    nodes, edges = parse(dot)
    # 6 leaves (x, t, two weights, two biases); @ + per Linear, ReLU, −, x**2, mean; the output
    assert len(nodes) == 6 + 8 + 1 and len(edges) == 14
    assert dot_clusters(dot) == [
        ("0 (Linear)", "op0_matmul; op0_add"), ("1 (ReLU)", "op1"), ("2 (Linear)", "op2_matmul; op2_add")]
    for layer in ("op0", "op2"):
        assert "label=<@<br/>" in nodes[f"{layer}_matmul"] and "label=<+<br/>" in nodes[f"{layer}_add"]

    arrays = _leaves_by_label(loss)
    tp = {k: torch.tensor(v, requires_grad=k != "x" and k != "t") for k, v in arrays.items()}
    z1 = tp["x"] @ tp["0.weight"].T
    a1 = z1 + tp["0.bias"]
    h = torch.relu(a1)
    z2 = h @ tp["2.weight"].T
    y = z2 + tp["2.bias"]
    for t in (z1, a1, h, z2, y):
        t.retain_grad()
    ((y - tp["t"]) ** 2).mean().backward()

    def edge(src, dst):
        [e] = [e for e in edges if e[:2] == (src, dst)]
        return e[2:]

    # the intermediate z = x @ Wᵀ on the edge between @ and +, its gradient the output's (add passes it on)
    for layer, z, out in (("op0", z1, a1), ("op2", z2, y)):
        assert edge(f"{layer}_matmul", f"{layer}_add") == (_small(z.detach().numpy()), _small(z.grad.numpy()))
        np.testing.assert_allclose(z.grad.numpy(), out.grad.numpy())
    # the parameters enter where the op uses them: the weight (as stored) at @, the bias at +
    weight, bias = node_named(nodes, "0.weight"), node_named(nodes, "0.bias")
    assert edge(weight, "op0_matmul") == (_small(arrays["0.weight"]), _small(tp["0.weight"].grad.numpy()))
    assert edge(bias, "op0_add") == (_small(arrays["0.bias"]), _small(tp["0.bias"].grad.numpy()))
    assert edge(node_named(nodes, "2.bias"), "op2_add")[1] == _small(tp["2.bias"].grad.numpy())
    assert edge(node_named(nodes, "x"), "op0_matmul") == (_small(arrays["x"]), None)  # x wants no gradient
    assert edge("op1", "op2_matmul")[1] == _small(h.grad.numpy())  # dx = g @ W

    # the model holds the full numbers: check them tightly against numpy
    graph = viz.build(loss)
    g1 = a1.grad.numpy()
    mm, add = graph.node("op0_matmul"), graph.node("op0_add")
    np.testing.assert_allclose(_full(mm.value), arrays["x"] @ arrays["0.weight"].T, atol=1e-6)
    np.testing.assert_allclose(_full(add.value), arrays["x"] @ arrays["0.weight"].T + arrays["0.bias"], atol=1e-6)
    np.testing.assert_allclose(_full(mm.grad), g1, atol=1e-6)
    w_edge = next(e for e in graph.edges if e.dst == "op0_matmul" and e.index == 1)
    np.testing.assert_allclose(_full(w_edge.grad), g1.T @ arrays["x"], atol=1e-6)  # dW = gᵀ @ x
    b_edge = next(e for e in graph.edges if e.dst == "op0_add" and e.index == 1)
    np.testing.assert_allclose(_full(b_edge.grad), g1.sum(axis=0), atol=1e-6)  # db = Σₙ g
    assert mm.detail["rule"].startswith("z = x @ Wᵀ") and add.detail["rule"].startswith("y = z + b")


def _full(s: dict) -> np.ndarray:
    """The numbers of a small summarised array (its 'full' text, 6 decimals)."""
    return np.array(ast.literal_eval(s["full"]), dtype=np.float64)


def test_linear_steps_run_matmul_then_add_forward_and_back_in_reverse():
    graph = viz.build(EXAMPLES["nn-mlp"]())
    forward = [s.node for s in graph.steps if s.phase == "forward"]
    backward = [s.node for s in graph.steps if s.phase == "backward"]
    assert forward == ["inputs", "op0_matmul", "op0_add", "op1", "op2_matmul", "op2_add", "op3", "op4", "op5"]
    assert backward == ["outputs"] + forward[:0:-1]
    index = {(s.phase, s.node): i for i, s in enumerate(graph.steps)}
    z_edge = next(e for e in graph.edges if e.src == "op0_matmul")
    assert z_edge.fwd_step == index["forward", "op0_matmul"] and z_edge.bwd_step == index["backward", "op0_add"]
    back_add = graph.steps[index["backward", "op2_add"]].lines
    assert back_add[1].startswith("∂/∂z = g: [-0.5, 1.74]") and back_add[2] == "∂/∂2.bias = Σₙ g: 1.24"
    back_mm = graph.steps[index["backward", "op0_matmul"]].lines
    assert [line.split(":")[0] for line in back_mm] == ["upstream gradient", "∂/∂0.weight = gᵀ @ x"]


def test_scalar_linear_steps_read_local_times_upstream():
    x, w = (gg.tensor([[v]], dtype="float64", requires_grad=True) for v in (2.0, 3.0))
    b = gg.tensor([0.5], dtype="float64", requires_grad=True)
    for t, name in ((x, "x"), (w, "w"), (b, "b")):
        t.name = name
    y = gg.nn.functional.linear(x, w, b) * 4.0  # upstream gradient 4 reaches the Linear
    graph = viz.build(y)
    assert [n.group for n in graph.nodes if n.kind == "op"] == ["Linear", "Linear", None]  # named for the op
    lines = {s.node: s.lines for s in graph.steps if s.phase == "backward"}
    assert lines["op0_add"][1:] == ["∂/∂z: local 1 × upstream 4 = 4", "∂/∂b: local 1 × upstream 4 = 4"]
    assert lines["op0_matmul"][1:] == ["∂/∂x: local 3 × upstream 4 = 12", "∂/∂w: local 2 × upstream 4 = 8"]
    fwd = {s.node: s.lines for s in graph.steps if s.phase == "forward"}
    assert fwd["op0_matmul"] == ["inputs: 2, 3", "output: 6"] and fwd["op0_add"] == ["inputs: 6, 0.5", "output: 6.5"]


def test_unclaimed_linears_get_boxes_of_their_own_and_no_bias_is_one_node():
    F = gg.nn.functional
    rng = np.random.default_rng(0)
    x = gg.tensor(rng.normal(size=(2, 3)), requires_grad=True)
    w1, w2 = (gg.tensor(rng.normal(size=s), requires_grad=True) for s in ((3, 3), (1, 3)))
    b1 = gg.tensor(rng.normal(size=3), requires_grad=True)
    h = F.linear(F.linear(x, w1, b1), w1, b1)
    out = F.linear(h, w2).sum()  # no bias: just x @ Wᵀ
    graph = viz.build(out)
    ops = [(n.id, n.label, n.group) for n in graph.nodes if n.kind == "op"]
    assert ops == [("op0_matmul", "@", "Linear"), ("op0_add", "+", "Linear"),
                   ("op1_matmul", "@", "Linear 2"), ("op1_add", "+", "Linear 2"),
                   ("op2", "@", None), ("op3", "Σ", None)]
    assert graph.visible_count() == 2 + 2 + 4 + 1  # two boxes, two ops, x, w1, b1, w2, the output
    np.testing.assert_allclose(_full(graph.node("op2").value), h.data @ w2.data.T, atol=1e-6)
    nodes, edges = parse(viz.to_dot(graph))
    assert len(nodes) == 6 + 4 + 1 and len(edges) == 12  # w1 and b1 feed both boxes
    assert dot_clusters(viz.to_dot(graph)) == [("Linear", "op0_matmul; op0_add"), ("Linear 2", "op1_matmul; op1_add")]


def test_a_linear_after_backward_still_shows_z_from_the_recorded_inputs():
    loss = EXAMPLES["nn-mlp"]()
    arrays = _leaves_by_label(loss)
    loss.backward()  # frees what forward saved; the inputs stay
    graph = viz.build(loss)
    assert "freed" in graph.note
    z_edge = next(e for e in graph.edges if e.src == "op0_matmul")
    np.testing.assert_allclose(_full(z_edge.value), arrays["x"] @ arrays["0.weight"].T, atol=1e-6)
    assert z_edge.grad is None
    back = {s.node: s.lines for s in graph.steps if s.phase == "backward"}
    assert back["op0_add"][0].startswith("gradient unknown here (backward() already freed")


def test_static_linear_draws_as_matmul_and_add_in_its_scope(torch_oracle):
    import graphgrad.graph as G

    torch = torch_oracle
    rng = np.random.default_rng(2)
    x0, w0, b0 = rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), rng.normal(size=2)
    with G.Graph():
        x = G.Variable((2, 3), init=x0, trainable=False, name="x")
        with G.name_scope("fc"):
            h = G.linear(x, G.Variable((2, 3), init=w0, name="W"), G.Variable((2,), init=b0, name="b"))
        loss = (h * h).sum()
    graph = viz.build(loss)
    assert [(n.label, n.group) for n in graph.nodes if n.kind == "op"][:2] == [("@", "fc"), ("+", "fc")]
    tw, tb = torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    z = torch.tensor(x0) @ tw.T
    z.retain_grad()
    ((z + tb) ** 2).sum().backward()
    z_edge = next(e for e in graph.edges if e.src.endswith("_matmul"))
    np.testing.assert_allclose(_full(z_edge.value), z.detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(_full(z_edge.grad), z.grad.numpy(), atol=1e-6)


def test_two_layer_net_uses_cached_mnist_digits_else_noise(tmp_path, monkeypatch):
    from graphgrad.datasets import DatasetUnavailable, load_arrays

    monkeypatch.delenv("GRAPHGRAD_DATA", raising=False)
    try:
        mnist = load_arrays("mnist", download=False, quiet=True)
    except DatasetUnavailable:
        mnist = None
    x, labels, params, source = two_layer_batch()
    if mnist is not None:  # the first four training digits, scaled to [0, 1]
        assert source == "MNIST"
        np.testing.assert_array_equal(x, (mnist["x_train"][:4].reshape(4, 784) / 255).astype(np.float32))
        np.testing.assert_array_equal(labels, mnist["t_train"][:4])
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # no cache here: the noise fallback, no download
    x2, labels2, params2, source2 = two_layer_batch()
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(x2, rng.random((4, 784)).astype(np.float32))
    assert source2 == "noise" and not list(tmp_path.iterdir())
    for k in params:  # the same parameters either way
        np.testing.assert_array_equal(params2[k], params[k])


def test_cli_draws_simple_cnn_with_named_digits_filters_and_feature_maps(tmp_path, capsys):
    import base64
    import json

    from graphgrad.viz.examples import mnist_digits

    page = tmp_path / "cnn.html"
    assert main(["graph", "simple-cnn", "--html", str(page)]) == 0
    text = page.read_text()
    start = text.index('id="graph-data">') + len('id="graph-data">')
    data = json.loads(text[start:text.index("</script>", start)])
    label = {n["id"]: n["label"] for n in data["nodes"]}
    edges = {(label[e["src"]], label[e["dst"]]): e for e in data["edges"]}
    x_pic = edges["x", "conv2d"]["value"]["pic"]
    images = mnist_digits(2, np.random.default_rng(0))[0]  # the example's own digits (MNIST when cached)
    shown = np.frombuffer(base64.b64decode(x_pic["data"]), np.uint8).reshape(2, 784)
    np.testing.assert_array_equal(shown, np.rint(255 * images / images.max()))
    assert (x_pic["kind"], x_pic["grid"]) == ("tiles", [1, 2])
    filters = edges["1.weight", "conv2d"]
    for side in ("value", "grad"):  # 16 of the 30 5x5 filters, and their gradients
        assert (filters[side]["pic"]["grid"], filters[side]["pic"]["tile"]) == ([2, 8], [5, 5])
    maps = edges["conv2d", "ReLU"]
    assert maps["value"]["shape"] == [2, 30, 24, 24] and maps["grad"]["pic"]["grid"] == [2, 8]
    assert "t" in label.values()  # the labels are a named input too
