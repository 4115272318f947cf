"""The HTML explorer in a real headless Chromium, driven by Playwright (tests/browser/drive.mjs).

Needs `chromium` (apt-get install chromium), Node and `playwright-core`
(cd tests/browser && npm install); .ci/run installs all three. Screenshots are written to
test-artifacts/viz/.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import viz
from graphgrad.viz.examples import EXAMPLES, two_layer_batch
from graphgrad.viz.summary import HEAD, fmt, shape_text

HERE = Path(__file__).parent / "browser"
ARTIFACTS = Path(__file__).parent.parent / "test-artifacts" / "viz"


@pytest.fixture(scope="module")
def drive():
    """A function that opens a page in Chromium and returns the driver's report."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    node = shutil.which("node")
    if chromium is None:
        pytest.skip("Chromium is not installed: apt-get install chromium")
    if node is None or not (HERE / "node_modules" / "playwright-core").is_dir():
        pytest.skip("Node's playwright-core is not installed: cd tests/browser && npm install")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def run(page: Path, *flags: str, shot: str | None = None) -> dict:
        report = page.with_suffix(".json")
        cmd = [node, str(HERE / "drive.mjs"), str(page), str(report)]
        if shot:
            cmd.append(str(ARTIFACTS / shot))
        done = subprocess.run(cmd + list(flags), capture_output=True, text=True, timeout=120,
                              env={**os.environ, "CHROMIUM": chromium})
        assert done.returncode == 0, done.stderr
        return json.loads(report.read_text())

    return run


def edge_text(s: dict) -> str:
    """What the page writes on an edge, its lines joined by spaces: the numbers of an array of up
    to six (a matrix one row a line, a long row three numbers a line), else its shape and the
    range of its picture's colour scale."""
    if "pic" in s:
        pic = s["pic"]
        scale = f"±{pic['hi']}" if pic["scale"] == "diverging" else f"{pic['lo']}…{pic['hi']}"
        return f"{shape_text(s['shape'])} {scale}"
    lines = []
    for line in s.get("lines", [s["label"]]):
        if len(line) <= 30:
            lines.append(line)
            continue
        parts = line.split(", ")
        lines += [", ".join(parts[i:i + 3]) + ("," if i + 3 < len(parts) else "") for i in range(0, len(parts), 3)]
    return " ".join(lines)


def _page(tmp_path: Path, name: str, output, **kw) -> Path:
    return viz.to_html(output, tmp_path / f"{name}.html", **kw)


def test_apple_steps_forward_then_backward(drive, tmp_path):
    r = drive(_page(tmp_path, "apple", EXAMPLES["apple"]()), "--hover", "op0", shot="apple.png")
    assert r["console_errors"] == [] and r["requests"] == []
    steps = r["steps"]
    assert [s["phase"] for s in steps] == ["forward"] * 3 + ["backward"] * 3
    assert [s["current"] for s in steps] == [["in0", "in1", "in2"], ["op0"], ["op1"], ["out0"], ["op1"], ["op0"]]
    # e0 apple, e1 apple_num -> op0; e2 apple_price op0 -> op1; e3 tax -> op1; e4 price -> output
    assert steps[0]["values"] == {"e0": "100", "e1": "2", "e3": "1.1"} and steps[0]["grads"] == {}
    assert steps[1]["values"]["e2"] == "200" and "e4" not in steps[1]["values"]
    assert steps[2]["values"]["e4"] == "220"
    assert steps[3]["grads"] == {"e4": "1"}
    assert steps[4]["grads"] == {"e4": "1", "e2": "1.1", "e3": "200"}
    assert "local 200 × upstream 1 = 200" in steps[4]["info"]
    assert steps[5]["grads"] == {"e4": "1", "e2": "1.1", "e3": "200", "e0": "2.2", "e1": "110"}
    assert "local 2 × upstream 1.1 = 2.2" in steps[5]["info"]
    assert r["after_back"] == 4
    assert "Mul" in r["hover"] and "output: 200" in r["hover"] and "gradient: 1.1" in r["hover"]
    assert (ARTIFACTS / "apple.png").stat().st_size > 10_000
    _check_readable(r["geometry"])  # stepping never pushed the book's small figure off the window


@pytest.mark.parametrize("name", ["apple-orange", "cs231n-gates", "sigmoid", "two-layer-net", "nn-mlp", "simple-cnn"])
def test_every_example_steps_in_topological_order(drive, tmp_path, name):
    out = EXAMPLES[name]()
    graph = viz.build(out)
    r = drive(_page(tmp_path, name, out), shot=f"{name}.png")
    assert r["console_errors"] == [] and r["requests"] == []
    assert len(r["steps"]) == len(graph.steps)
    folded = {n.id: f"group:{n.group}" if n.group else n.id for n in graph.nodes}
    for seen, step in zip(r["steps"], graph.steps):
        assert seen["node"] == step.node and seen["phase"] == step.phase
        if step.node.startswith("op"):
            assert seen["current"] == [folded[step.node]]
    # at the end every edge that is drawn shows its value and its gradient, as the model says
    last = r["steps"][-1]
    for e in graph.edges:
        inside = folded[e.src] == folded[e.dst]  # an edge inside a folded group is not drawn
        if not inside:
            assert last["values"][e.id] == edge_text(e.value)
            if e.grad is not None:
                assert e.id in last["grads"]


def test_a_folded_layer_expands_to_matmul_and_add(drive, tmp_path):
    r = drive(_page(tmp_path, "net", EXAMPLES["two-layer-net"]()), "--no-steps", "--expand", "Affine1",
              shot="two-layer-net-affine1.png")
    assert r["console_errors"] == []
    assert "group:Affine1" in r["nodes_before"] and "op0" not in r["nodes_before"]
    assert {"op0", "op1"} <= set(r["nodes_after"]) and "group:Affine1" not in r["nodes_after"]
    assert "group:Affine2" in r["nodes_after"]  # the other layers stay folded


def test_a_500_op_graph_opens_in_under_two_seconds(drive, tmp_path):
    rng = np.random.default_rng(0)
    vals = [gg.tensor(rng.normal(size=3), dtype="float64", requires_grad=True) for _ in range(8)]
    for i in range(499):
        a, b = vals[rng.integers(len(vals))], vals[-1]
        vals.append((a * b, a + b, gg.tanh(b), a - b)[i % 4])
    out = vals[-1].sum()
    page = _page(tmp_path, "ops500", out, fold_groups=False)
    # The page's own cost, not the shared machine's load: the best of up to three loads must be
    # under 2 s (one slow load on a busy machine is noise; three are the page).
    times = []
    for attempt in range(3):
        r = drive(page, "--no-steps", shot="ops500.png" if attempt == 0 else None)
        assert r["console_errors"] == [] and r["requests"] == []
        assert r["nodes_drawn"] >= 500
        times.append(r["load_ms"])
        if r["load_ms"] < 2000:
            break
    assert min(times) < 2000, f"a 500-op graph took {min(times)} ms at best to open (loads, ms: {times})"


def test_an_nn_linear_box_expands_and_steps_matmul_then_add(drive, tmp_path):
    loss = EXAMPLES["nn-mlp"]()
    graph = viz.build(loss)
    r = drive(_page(tmp_path, "mlp", loss), "--expand", "0 (Linear)", "--hover", "op0_matmul",
              shot="nn-mlp-linear-expanded.png")
    assert r["console_errors"] == [] and r["requests"] == []
    assert "group:0 (Linear)" in r["nodes_before"] and "op0_matmul" not in r["nodes_before"]
    assert {"op0_matmul", "op0_add"} <= set(r["nodes_after"]) and "group:2 (Linear)" in r["nodes_after"]
    steps = r["steps"]
    order = [(s["phase"], s["node"]) for s in steps]
    fwd = ["op0_matmul", "op0_add", "op1", "op2_matmul", "op2_add", "op3", "op4", "op5"]
    assert order == [("forward", "inputs")] + [("forward", n) for n in fwd] + [("backward", "outputs")] + [
        ("backward", n) for n in reversed(fwd)]
    # the open box shows each step at its own node; the folded one highlights its box for both
    current = {(s["phase"], s["node"]): s["current"] for s in steps}
    assert current["forward", "op0_matmul"] == ["op0_matmul"] and current["forward", "op0_add"] == ["op0_add"]
    assert current["backward", "op2_add"] == current["backward", "op2_matmul"] == ["group:2 (Linear)"]

    z = next(e for e in graph.edges if e.src == "op0_matmul" and e.dst == "op0_add")
    b = next(e for e in graph.edges if e.dst == "op0_add" and e.index == 1)
    w = next(e for e in graph.edges if e.dst == "op0_matmul" and e.index == 1)
    at = {key: i for i, key in enumerate(order)}
    # forward: z = x @ Wᵀ appears when @ runs, not before; the bias was there from the start
    assert z.id not in steps[at["forward", "inputs"]]["values"] and b.id in steps[0]["values"]
    # four numbers, written out one row a line
    assert steps[at["forward", "op0_matmul"]]["values"][z.id] == "[0.7406, -0.9684] [0.2861, 0.1713]"
    assert "output: [0.7406, -0.9684, 0.2861, 0.1713]" in steps[at["forward", "op0_matmul"]]["info"]
    assert "output: [0.8637, -0.7034, 0.4092, 0.4363]" in steps[at["forward", "op0_add"]]["info"]
    # backward: + hands g to z and Σg to the bias, then @ hands gᵀ @ x to the weight
    before, add, mm = (steps[at["backward", n]] for n in ("op1", "op0_add", "op0_matmul"))
    assert z.id not in before["grads"] and b.id not in before["grads"]
    assert add["grads"][z.id] == edge_text(z.grad) and add["grads"][b.id] == b.grad["label"] == "[0.07652, 1.071]"
    assert w.id not in add["grads"] and w.id in mm["grads"]
    assert "∂/∂z = g: [-0.03085, 0, 0.1074, 1.071]" in add["info"] and "∂/∂0.bias = Σₙ g: [0.07652, 1.071]" in add["info"]
    assert "∂/∂0.weight = gᵀ @ x: [-0.1351, -0.006899, -0.05169, -1.334, -0.7841, -0.5828]" in mm["info"]
    assert "z = x @ Wᵀ" in r["hover"] and "in 0 (Linear)" in r["hover"]


# ---- the node panel follows the steps ---------------------------------------------------------
def test_the_panel_shows_a_gradient_only_once_backward_reaches_the_node(drive, tmp_path):
    r = drive(_page(tmp_path, "apple", EXAMPLES["apple"]()))
    steps = r["steps"]
    # op0 is apple × apple_num: forward at step 1, backward at step 5 (its gradient is 1.1)
    assert steps[1]["details_node"] == "op0" and "output: 200" in steps[1]["details"]
    assert "gradient: 1.1" not in steps[1]["details"]
    assert "gradient: not yet (backward reaches it at step 6)" in steps[1]["details"]
    assert steps[4]["details_node"] == "op1" and "gradient: 1" in steps[4]["details"]
    assert steps[5]["details_node"] == "op0" and "gradient: 1.1" in steps[5]["details"]
    # a leaf's gradient appears with the step that sends it: apple's 2.2 at op0's backward
    assert steps[0]["details_node"] == "in0" and "gradient: not yet" in steps[0]["details"]


def test_the_seed_step_shows_the_output_and_inputs_are_listed_by_name(drive, tmp_path):
    r = drive(_page(tmp_path, "apple", EXAMPLES["apple"]()))
    seed = r["steps"][3]
    assert seed["phase"] == "backward" and seed["current"] == ["out0"]
    assert seed["details_node"] == "out0" and seed["details"].startswith("price — output")
    assert "gradient: 1" in seed["details"]
    op0, op1 = r["steps"][1]["details"], r["steps"][2]["details"]
    assert "apple: 100 () float64" in op0 and "apple_num: 2 () float64" in op0
    assert "apple_price: 200 () float64" in op1 and "tax: 1.1 () float64" in op1
    assert "input 0" not in op0 + op1


# ---- layout --------------------------------------------------------------------------------------
def _overlap(a, b, slack=1.0) -> bool:
    return a[0] < b[2] - slack and b[0] < a[2] - slack and a[1] < b[3] - slack and b[1] < a[3] - slack


def _check_readable(geometry: dict) -> None:
    """No edge label under a node or over another label; every node inside the canvas."""
    nodes, labels = geometry["nodes"], geometry["labels"]
    for lab in labels:
        for node_id, box in nodes.items():
            assert not _overlap(lab["box"], box), (lab, node_id)
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            assert not _overlap(a["box"], b["box"]), (a, b)
    c = geometry["canvas"]
    for node_id, box in nodes.items():
        assert c[0] <= box[0] and box[2] <= c[2] and c[1] <= box[1] and box[3] <= c[3], node_id


@pytest.mark.parametrize("name", ["nn-mlp", "two-layer-net", "apple-orange", "cs231n-gates"])
def test_expanded_graphs_at_fit_show_every_node_and_uncovered_labels(drive, tmp_path, name):
    r = drive(_page(tmp_path, name, EXAMPLES[name]()), "--unfold", "--fit", shot=f"{name}-expanded-fit.png")
    assert r["console_errors"] == []
    # after the walk through every step all values and gradients are on the page
    assert len(r["geometry"]["labels"]) >= len(viz.build(EXAMPLES[name]()).edges)
    _check_readable(r["geometry"])


def test_highlighted_edges_keep_a_small_arrowhead(drive, tmp_path):
    r = drive(_page(tmp_path, "apple", EXAMPLES["apple"]()), "--shot-step", "4", shot="apple-step-4.png")
    g = r["geometry"]
    # the head is sized in the drawing's units, not in stroke widths: a thicker edge keeps it
    for marker in ("arrow", "arrow-active"):
        assert g["marker_defs"][marker] == {"units": "userSpaceOnUse", "width": 9, "height": 9}
    assert g["active_markers"] == ["url(#arrow-active)"] * 2  # apple_price and tax into op1
    assert g["markers"].count("url(#arrow-active)") == 2


def test_a_long_chain_wraps_and_stepping_zooms_to_the_current_node(drive, tmp_path):
    page = _page(tmp_path, "net", EXAMPLES["two-layer-net"]())
    at_fit = drive(page, "--no-steps", "--unfold", "--fit", shot="two-layer-net-wrapped-fit.png")["geometry"]
    ys = [(b[1] + b[3]) / 2 for b in at_fit["nodes"].values()]
    top, bottom = at_fit["canvas"][1], at_fit["canvas"][3]
    # wrapped into bands, the drawing fills the window's height instead of a quarter of it
    assert (max(ys) - min(ys)) > 0.6 * (bottom - top)
    assert min(at_fit["node_text_px"].values()) >= 8.5  # one long row gave ~5 px
    stepped = drive(page, "--no-steps", "--unfold", "--shot-step", "13",
                    shot="two-layer-net-expanded-step-13.png")["geometry"]
    # step 13 is backward at mean; stepping from the fitted view zoomed in to it
    assert stepped["current"] == ["op8"] and stepped["scale"] >= 1
    box, c = stepped["nodes"]["op8"], stepped["canvas"]
    assert c[0] <= box[0] and box[2] <= c[2] and c[1] <= box[1] and box[3] <= c[3]
    assert stepped["node_text_px"]["op8"] >= 12


# ---- arrays as pictures ------------------------------------------------------------------------
def _decoded(pic: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(pic["data"]), dtype=np.uint8)


def _mosaic(pic: dict, rgb: list, width: int) -> np.ndarray:
    """The (tiles, h, w, 3) pixels of an image grid, or (rows, cols, 3) of a heatmap, from the page."""
    px = np.array(rgb, dtype=np.int64).reshape(-1, width, 3)
    if pic["kind"] == "heat":
        return px
    (th, tw), (_, gc) = pic["tile"], pic["grid"]
    return np.stack([px[(t // gc) * (th + 1):(t // gc) * (th + 1) + th, (t % gc) * (tw + 1):(t % gc) * (tw + 1) + tw]
                     for t in range(pic["count"])])


def test_mnist_rows_are_drawn_as_digits_and_gradients_as_signed_heatmaps(drive, tmp_path):
    out = EXAMPLES["two-layer-net"]()
    graph = viz.build(out)
    x_edge = next(e for e in graph.edges if graph.node(e.src).label == "x")
    r = drive(_page(tmp_path, "net", out), "--unfold", "--pixels", "--hover", x_edge.src,
              shot="two-layer-net-pictures.png")
    pic = x_edge.value["pic"]
    assert pic["kind"] == "tiles" and pic["tile"] == [28, 28] and pic["grid"] == [1, 4]
    seen = r["pixels"][f"{x_edge.id}:val-label"]
    tiles = _mosaic(pic, seen["rgb"], seen["width"])
    assert (tiles[..., 0] == tiles[..., 2]).all()  # grey: ink on paper
    x = two_layer_batch()[0].reshape(4, 28, 28)
    # the page shows the example's own rows, darker where the digit is: 255 - 255 x / max
    np.testing.assert_array_equal(tiles[..., 0], 255 - np.rint(255 * x / x.max()))
    w1 = next(e for e in graph.edges if graph.node(e.src).label == "W1")
    gpic = w1.grad["pic"]
    assert gpic["scale"] == "diverging" and gpic["kind"] == "heat" and (gpic["rows"], gpic["cols"]) == (64, 50)
    seen = r["pixels"][f"{w1.id}:grad-label"]
    heat = _mosaic(gpic, seen["rgb"], seen["width"])
    q = _decoded(gpic).reshape(64, 50).astype(int)
    red, blue = heat[..., 0] > heat[..., 2], heat[..., 2] > heat[..., 0]
    assert (red == (q > 128)).all() and (blue == (q < 128)).all()  # positive red, negative blue
    assert (heat[q == 128] == 255).all()  # zero is white
    # the x node's panel: its statistics, its first numbers, and its picture's scale up to x's max
    flat = two_layer_batch()[0].ravel()
    panel = r["hover"].splitlines()
    assert panel[0] == "x — input" and pic["lo"] == "0" and pic["hi"] == fmt(flat.max())
    assert f"max {fmt(flat.max())}" in panel[2]
    assert panel[3] == "first values: " + ", ".join(fmt(v, 6) for v in flat[:HEAD]) + " …"
    assert panel[4:6] == ["0", pic["hi"]]  # the colour bar's two ends


def test_hovering_a_picture_reads_out_the_number_under_the_mouse(drive, tmp_path):
    rng = np.random.default_rng(1)
    w = gg.tensor(rng.normal(size=(5, 9)), requires_grad=True)
    w.name = "w"
    page = _page(tmp_path, "w", (w * 2).sum())
    edge = next(e for e in viz.build((w * 2).sum()).edges if e.src == "in0")
    r = drive(page, "--no-steps", "--hover-pic", edge.id)
    # the middle cell of a 5x9 heatmap is row 2, column 4
    q = _decoded(edge.value["pic"])[2 * 9 + 4]
    hi = float(edge.value["pic"]["hi"])
    assert edge.value["pic"]["scale"] == "diverging" and r["tooltip"].startswith("value row 2, column 4: ≈ ")
    shown = float(r["tooltip"].split("≈ ")[1])
    assert shown == pytest.approx((int(q) - 128) / 127 * hi, rel=1e-3)
    assert shown == pytest.approx(w.data[2, 4], abs=hi / 127)  # one byte's step of the scale


def test_feature_maps_and_filters_are_drawn_as_image_grids(drive, tmp_path):
    rng = np.random.default_rng(2)
    x = gg.tensor(rng.random((2, 3, 8, 8)), requires_grad=True)  # (N, C, H, W) feature maps
    k = gg.tensor(rng.normal(size=(4, 3, 8, 8)), requires_grad=True)  # (out, in, kh, kw) filters
    x.name, k.name = "x", "k"
    out = (x.reshape(2, 1, 3, 8, 8) * k.reshape(1, 4, 3, 8, 8)).sum()
    graph = viz.build(out)
    r = drive(_page(tmp_path, "conv", out), "--pixels", shot="feature-maps.png")
    assert r["console_errors"] == []
    for name, grid in (("x", [2, 3]), ("k", [4, 3])):
        edge = next(e for e in graph.edges if graph.node(e.src).label == name)
        for side, s in (("val-label", edge.value), ("grad-label", edge.grad)):
            pic = s["pic"]
            assert pic["kind"] == "tiles" and pic["grid"] == grid and pic["tile"] == [8, 8], (name, side)
            seen = r["pixels"][f"{edge.id}:{side}"]
            assert (seen["width"], seen["height"]) == (grid[1] * 9 - 1, grid[0] * 9 - 1)
            tiles = _mosaic(pic, seen["rgb"], seen["width"])
            q = _decoded(pic).reshape(-1, 8, 8).astype(int)
            if pic["scale"] == "sequential":
                np.testing.assert_array_equal(tiles[..., 0], 255 - q)
            else:
                assert ((tiles[..., 0] > tiles[..., 2]) == (q > 128)).all()
                assert ((tiles[..., 2] > tiles[..., 0]) == (q < 128)).all()


def test_a_2x3_weight_is_written_out_as_two_rows(drive, tmp_path):
    loss = EXAMPLES["nn-mlp"]()
    graph = viz.build(loss)
    r = drive(_page(tmp_path, "mlp", loss), "--unfold")
    w = next(e for e in graph.edges if graph.node(e.src).label == "0.weight")
    assert w.value["shape"] == [2, 3] and "pic" not in w.value
    assert r["steps"][-1]["values"][w.id] == "[0.1581, -0.2658, -0.53] [-0.5583, 0.3617, 0.4766]"
    assert r["steps"][-1]["grads"][w.id] == "[-0.1351, -0.006899, -0.05169] [-1.334, -0.7841, -0.5828]"


def _bytes_of(v: np.ndarray) -> np.ndarray:
    """The explorer's one byte per cell, written out: diverging around 0 when `v` has negative
    values (128 is 0, ±127 the largest magnitude), else sequential from 0 to its max."""
    if v.min() < 0:
        return np.rint(128 + 127 * v / np.abs(v).max())
    return np.rint(255 * v / v.max())


def test_a_conv_nets_gradients_flow_back_through_its_feature_maps_and_filters(drive, tmp_path):
    """`graphgrad graph simple-cnn`: the digits, the convolution's feature maps and filters, and
    their gradients are image grids holding PyTorch's numbers, each shown once its step is reached."""
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    from graphgrad.train.models import simple_cnn
    from graphgrad.viz.examples import mnist_digits

    out = EXAMPLES["simple-cnn"]()
    graph = viz.build(out)
    order = [(s.phase, s.node) for s in graph.steps]
    at = {key: i for i, key in enumerate(order)}
    r = drive(_page(tmp_path, "cnn", out), "--unfold", "--pixels", "--shot-step", str(at["backward", "op0"]),
              shot="simple-cnn-conv-backward.png")
    assert r["console_errors"] == [] and r["requests"] == []
    assert [(s["phase"], s["node"]) for s in r["steps"]] == order
    assert r["geometry"]["current"] == ["op0"]  # the screenshot: backward has reached conv2d
    edge = {(e.src, e.dst): e for e in graph.edges}
    x_e, w_e, maps_e = edge["in0", "op0"], edge["in1", "op0"], edge["op0", "op1"]
    assert graph.node("op0").label == "conv2d" and graph.node("in1").label == "1.weight"
    # the view follows the step: the filters and the gradient that just reached them are on screen
    c = r["geometry"]["canvas"]
    shown = {(lab["edge"], lab["side"]): lab["box"] for lab in r["geometry"]["labels"]}
    for key in ((w_e.id, "val-label"), (w_e.id, "grad-label"), (maps_e.id, "grad-label")):
        box = shown[key]
        assert c[0] <= box[0] and box[2] <= c[2] and c[1] <= box[1] and box[3] <= c[3], key

    # step by step: the maps appear with conv2d's forward, their gradient with ReLU's backward,
    # the filters' gradient with conv2d's backward
    steps = r["steps"]
    assert maps_e.id not in steps[at["forward", "inputs"]]["values"]
    assert maps_e.id in steps[at["forward", "op0"]]["values"]
    assert maps_e.id not in steps[at["backward", "op2"]]["grads"]
    assert maps_e.id in steps[at["backward", "op1"]]["grads"] and w_e.id not in steps[at["backward", "op1"]]["grads"]
    assert w_e.id in steps[at["backward", "op0"]]["grads"]

    # the oracle: the same step in PyTorch, float64
    params = {k: torch.tensor(v.data, dtype=torch.float64, requires_grad=True)
              for k, v in simple_cnn(0).named_parameters()}
    images, labels, _ = mnist_digits(2, np.random.default_rng(0))
    x = torch.tensor(images, dtype=torch.float64).reshape(2, 1, 28, 28)
    maps = tf.conv2d(x, params["1.weight"], params["1.bias"])
    maps.retain_grad()
    h = tf.relu(tf.linear(tf.max_pool2d(tf.relu(maps), 2).flatten(1), params["5.weight"], params["5.bias"]))
    tf.cross_entropy(tf.linear(h, params["7.weight"], params["7.bias"]), torch.tensor(labels)).backward()
    assert out.item() == pytest.approx(tf.cross_entropy(tf.linear(h, params["7.weight"], params["7.bias"]),
                                                        torch.tensor(labels)).item(), rel=1e-5)

    def check(s: dict, expected, grid: list, tile: list, side: str, e) -> None:
        """The picture holds `expected` (its first tiles) and the page draws those bytes."""
        pic = s["pic"]
        assert (pic["kind"], pic["grid"], pic["tile"]) == ("tiles", grid, tile), (e.id, side)
        expected = expected.detach().numpy()
        q = _decoded(pic).reshape(-1, *tile).astype(int)
        wanted = _bytes_of(expected).reshape(-1, *tile) if expected.ndim == 4 and expected.shape[1] == 1 else \
            _bytes_of(expected)[:, :grid[1]].reshape(-1, *tile)
        np.testing.assert_allclose(q, wanted[:pic["count"]], atol=1)  # float32 against float64: one byte
        seen = r["pixels"][f"{e.id}:{side}"]
        assert (seen["width"], seen["height"]) == (grid[1] * (tile[1] + 1) - 1, grid[0] * (tile[0] + 1) - 1)
        drawn = _mosaic(pic, seen["rgb"], seen["width"])
        if pic["scale"] == "sequential":
            np.testing.assert_array_equal(drawn[..., 0], 255 - q)
        else:
            assert ((drawn[..., 0] > drawn[..., 2]) == (q > 128)).all()
            assert ((drawn[..., 2] > drawn[..., 0]) == (q < 128)).all()

    check(x_e.value, x, [1, 2], [28, 28], "val-label", x_e)  # the two digits
    assert x_e.value["pic"]["scale"] == "sequential"
    check(w_e.value, params["1.weight"], [2, 8], [5, 5], "val-label", w_e)  # the first 16 of 30 filters
    check(w_e.grad, params["1.weight"].grad, [2, 8], [5, 5], "grad-label", w_e)
    check(maps_e.value, maps, [2, 8], [24, 24], "val-label", maps_e)  # 2 samples x the first 8 maps
    check(maps_e.grad, maps.grad, [2, 8], [24, 24], "grad-label", maps_e)
    assert "the first 16 of 30" in w_e.grad["pic"]["note"] and "the first 8 of 30" in maps_e.value["pic"]["note"]
