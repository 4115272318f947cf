"""ONNX export (checked by onnx.checker and ONNX Runtime), import (against graphgrad and PyTorch), bad input."""
from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

onnx = pytest.importorskip("onnx", reason="onnx is not installed (pip install -e '.[onnx]')")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install -e '.[onnx]')")

import graphgrad as gg  # noqa: E402
import graphgrad.graph as G  # noqa: E402
import graphgrad.onnx as gonnx  # noqa: E402
from graphgrad import nn  # noqa: E402
from graphgrad.onnx import ONNXError, UnsupportedOperatorError  # noqa: E402

BATCHES = (3, 7)


def _trained(model, in_shape, steps=3, seed=1):
    """A few forward passes in training mode, so batch norm's running statistics are not the defaults."""
    rng = np.random.default_rng(seed)
    model.train()
    for _ in range(steps):
        model(gg.tensor(rng.standard_normal((16, *in_shape)).astype(np.float32) * 2 + 0.5))
    return model.eval()


class Everything(nn.Module):
    """Every op of the export table in one forward, with two outputs (one float64)."""

    def __init__(self):
        super().__init__()
        rng = np.random.default_rng(0)
        self.fc = nn.Linear(6, 8, generator=0)
        self.w = nn.Parameter(rng.standard_normal((8, 8)).astype(np.float32) * 0.3)
        self.mask = rng.random(8) > 0.5

    def forward(self, x):
        h = self.fc(x)
        a = gg.tanh(h) @ self.w
        b = (h * 0.5 - a / 3.0 + 1.0) ** 2
        c = gg.sqrt(gg.abs(h) + 1) + gg.log(gg.exp(-gg.abs(a)) + 1)
        d = gg.maximum(b, c) - gg.minimum(b, c).clip(0.1, 2.0) + 1.0 - h.clip(min=0.0)
        e = gg.where(self.mask, d, -d)
        f = gg.concatenate([e, h.sigmoid()], axis=1)
        g = f.reshape(x.shape[0], 4, 4).transpose(0, 2, 1)
        s = g.sum(axis=2) + g.mean(axis=(1, 2), keepdims=True)[:, 0] + g.max(axis=1) - g.min(axis=-1)
        t = gg.stack([s, s * 2], axis=1)
        u = t[:, 1, ::2] + t[:, 0, [3, 0]] + t[..., -1, 1:3]
        v = gg.softmax(u, -1) + gg.log_softmax(u, axis=-1) + u.logsumexp(axis=1, keepdims=True) + u.relu()
        w = v[:, None, :].broadcast_to((x.shape[0], 3, 2)).expand_dims(0).squeeze(0)
        return w.sum(), (w ** gg.tensor(2.0)).astype("float64") + h.sum(axis=1).reshape(-1, 1, 1)


MODELS = {
    "mlp": (lambda: nn.Sequential(nn.Linear(10, 16, generator=0), nn.ReLU(), nn.Linear(16, 16, generator=1),
                                  nn.Tanh(), nn.Linear(16, 8, generator=2), nn.Sigmoid(),
                                  nn.Linear(8, 4, bias=False, generator=3), nn.LogSoftmax()), (10,)),
    "linear_3d": (lambda: nn.Sequential(nn.Linear(4, 5, generator=0), nn.ReLU(), nn.Linear(5, 3, bias=False, generator=1),
                                        nn.Softmax(dim=1)), (3, 4)),
    "batchnorm": (lambda: _trained(nn.Sequential(nn.Linear(10, 16, generator=0), nn.BatchNorm1d(16), nn.ReLU(),
                                                 nn.Linear(16, 4, generator=1), nn.Softmax()), (10,)), (10,)),
    "batchnorm_3d_no_affine": (lambda: _trained(nn.Sequential(nn.BatchNorm1d(3, affine=False), nn.Flatten(),
                                                              nn.Linear(15, 4, generator=0)), (3, 5)), (3, 5)),
    "batchnorm_batch_statistics": (lambda: nn.Sequential(nn.Linear(10, 6, generator=0),
                                                         nn.BatchNorm1d(6, track_running_stats=False)), (10,)),
    "dropout_leaky": (lambda: nn.Sequential(nn.Linear(10, 16, generator=0), nn.Dropout(0.5, generator=0),
                                            nn.LeakyReLU(0.2), nn.Linear(16, 4, generator=1)), (10,)),
    "layernorm": (lambda: nn.Sequential(nn.Flatten(), nn.Linear(12, 16, generator=0), nn.LayerNorm(16), nn.ReLU(),
                                        nn.Linear(16, 4, generator=1), nn.LayerNorm(4, elementwise_affine=False)),
                  (3, 4)),
    "everything": (Everything, (6,)),
    "activations": (lambda: nn.Sequential(nn.Linear(6, 8, generator=0), nn.GELU(), nn.Linear(8, 8, generator=1),
                                          nn.GELU(approximate="tanh"), nn.SiLU(), nn.ELU(0.7), nn.SELU(),
                                          nn.Softplus(beta=2.0, threshold=3.0), nn.Mish(), nn.Hardtanh(-0.5, 0.8),
                                          nn.Linear(8, 4, generator=2), nn.ReLU6()), (6,)),
}


def _outputs(result) -> list[np.ndarray]:
    return [t.data for t in (result if isinstance(result, tuple) else (result,))]


def _session(model_proto):
    return ort.InferenceSession(model_proto.SerializeToString(), providers=["CPUExecutionProvider"])


def _randn(n, shape, seed):
    return np.random.default_rng(seed).standard_normal((n, *shape)).astype(np.float32)


@pytest.mark.parametrize("opset", [13, 17, 18])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_export_matches_onnx_runtime_and_imports_back(name, opset, tmp_path):
    make, in_shape = MODELS[name]
    model = make()
    path = tmp_path / f"{name}.onnx"
    model.train()
    proto = gonnx.export(model, _randn(5, in_shape, 0), path, opset_version=opset)  # traced in eval mode
    onnx.checker.check_model(onnx.load(path), full_check=True)
    assert proto.opset_import[0].version == opset and model.training is True  # and put back
    model.eval()
    session, imported = _session(proto), gonnx.load(path)
    assert session.get_inputs()[0].shape[0] == "batch"
    for seed, n in enumerate(BATCHES):
        x = _randn(n, in_shape, seed + 10)
        ours = _outputs(model(gg.tensor(x)))
        theirs = session.run(None, {"input": x})
        assert len(theirs) == len(ours)
        for a, b in zip(theirs, ours):
            assert a.shape == b.shape and a.dtype == b.dtype
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
        for a, b in zip(_outputs(imported(x)), ours):  # round trip: the same ops, the same numbers
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


_bounds = st.one_of(st.none(), st.integers(-7, 7))
_axis_item = st.one_of(
    st.integers(-5, 4),
    st.builds(slice, _bounds, _bounds, st.sampled_from([None, 1, 2, -1, -2])),
    st.lists(st.integers(-5, 4), min_size=1, max_size=4),
    st.none(),
)


class Indexing(nn.Module):
    def __init__(self, index):
        super().__init__()
        self.index = index

    def forward(self, x):
        return x[self.index] * 1.0


@settings(max_examples=40, deadline=None)
@given(batch=st.one_of(st.just(slice(None)), st.just(Ellipsis), st.integers(-3, 2),
                       st.builds(slice, _bounds, _bounds, st.sampled_from([None, 1, -1]))),
       items=st.lists(_axis_item, min_size=1, max_size=3))
def test_indexing_exports_like_numpy(batch, items):
    """Ints, slices (any step), None, one integer array, '...', on the dynamic batch axis and the others."""
    if sum(isinstance(i, list) for i in items) > 1 or sum(i is not None for i in items) > 2:
        return
    index = (batch,) + tuple(np.array(i) if isinstance(i, list) else i for i in items)
    model = Indexing(index)
    try:
        session = _session(gonnx.export(model, _randn(3, (5, 6), 0), io.BytesIO()))
    except ONNXError as err:  # refused, never wrong: NumPy moves the axes of an array and an int apart,
        if "mixes integer arrays and ints" in str(err):
            assert any(isinstance(i, np.ndarray) for i in index) and any(isinstance(i, int) for i in index)
        else:  # or clamps a negative step's start below -size differently from ONNX on the batch axis
            assert "ONNX and NumPy differ" in str(err) and batch.step == -1 and batch.start < 0
        return
    for n in (3, 4):
        x = _randn(n, (5, 6), n)
        np.testing.assert_array_equal(session.run(None, {"input": x})[0], x[index])


def test_modules_export_as_one_onnx_node_each(tmp_path):
    model = nn.Sequential(_trained(nn.Sequential(nn.Linear(4, 6, generator=0), nn.BatchNorm1d(6)), (4,)),
                          nn.LeakyReLU(0.3), nn.Dropout(0.4), nn.LayerNorm(6))
    ops = [n.op_type for n in gonnx.export(model, _randn(2, (4,), 0), tmp_path / "m.onnx").graph.node]
    assert ops == ["Gemm", "BatchNormalization", "LeakyRelu", "LayerNormalization"]
    init = {t.name for t in onnx.load(tmp_path / "m.onnx").graph.initializer}
    assert {"0.0.weight", "0.1.running_mean", "0.1.running_var", "3.weight"} <= init
    old = [n.op_type for n in gonnx.export(model, _randn(2, (4,), 0), tmp_path / "m.onnx", opset_version=16).graph.node]
    assert "LayerNormalization" not in old and old.count("ReduceMean") == 2  # opset 16 has none: the ops themselves


def test_names_and_dynamic_axes(tmp_path):
    model = MODELS["mlp"][0]()
    proto = gonnx.export(model, _randn(2, (10,), 0), tmp_path / "m.onnx", input_names=["pixels"],
                         output_names=["log_probs"], dynamic_axes={"pixels": {0: "n"}})
    session = _session(proto)
    assert session.get_inputs()[0].name == "pixels" and session.get_inputs()[0].shape == ["n", 10]
    assert session.get_outputs()[0].name == "log_probs" and session.get_outputs()[0].shape == ["n", 4]
    static = _session(gonnx.export(model, _randn(2, (10,), 0), tmp_path / "s.onnx", dynamic_axes={}))
    assert static.get_inputs()[0].shape == [2, 10]
    with pytest.raises(Exception, match="(?i)dimension|shape"):
        static.run(None, {"input": _randn(3, (10,), 0)})
    buffer = io.BytesIO()
    gonnx.export(model, _randn(2, (10,), 0), buffer)
    assert gonnx.load(buffer.getvalue())(_randn(1, (10,), 0)).shape == (1, 4)


def _static_graph(rng):
    with G.Graph():
        x = G.Variable((None, 10), trainable=False, name="x")
        w = G.Variable((10, 6), init=rng.standard_normal((10, 6)).astype(np.float32), name="w")
        b = G.Variable((6,), init=rng.standard_normal(6).astype(np.float32), name="b")
        w2 = G.Variable((3, 6), init=rng.standard_normal((3, 6)).astype(np.float32), name="w2")
        h = G.relu(x @ w + b)
        y = G.softmax(G.linear(G.tanh(h) * 2.0 - G.sigmoid(h), w2), axis=-1)
    return x, y


@pytest.mark.parametrize("entry", ["export_graph", "export"])
def test_static_graph_export(entry, tmp_path):
    x, y = _static_graph(np.random.default_rng(0))
    x.set_value(_randn(4, (10,), 0))
    fn = getattr(gonnx, entry)
    proto = fn(y, [x], tmp_path / "g.onnx")
    onnx.checker.check_model(onnx.load(tmp_path / "g.onnx"), full_check=True)
    session = _session(proto)
    assert session.get_inputs()[0].name == "x" and session.get_inputs()[0].shape == ["batch", 10]
    assert session.get_outputs()[0].shape == ["batch", 3]
    imported = gonnx.load(proto)
    for seed, n in enumerate(BATCHES):
        batch = _randn(n, (10,), seed + 1)
        x.set_value(batch)
        np.testing.assert_allclose(session.run(None, {"x": batch})[0], y.forward(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(imported(batch).data, y.forward(), rtol=1e-6, atol=1e-6)


def test_imported_model_fine_tunes_like_the_original(tmp_path):
    model = _trained(nn.Sequential(nn.Linear(10, 8, generator=0), nn.BatchNorm1d(8), nn.ReLU(),
                                   nn.Linear(8, 3, generator=1)), (10,))
    gonnx.export(model, _randn(2, (10,), 0), tmp_path / "m.onnx")
    imported = gonnx.load(tmp_path / "m.onnx")
    names = [k for k, _ in imported.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"]
    assert sorted(imported.state_dict()) == sorted(names + ["1.running_mean", "1.running_var"])
    x, t = _randn(6, (10,), 3), np.array([0, 1, 2, 0, 1, 2])
    for net in (model, imported):
        opt = gg.optim.SGD(net.parameters(), lr=0.5)
        opt.zero_grad()
        nn.CrossEntropyLoss()(net(gg.tensor(x)), t).backward()
        opt.step()
    ours = dict(model.named_parameters())
    for name, p in imported.named_parameters():
        assert p.grad is not None and np.abs(p.grad.data).max() > 0
        np.testing.assert_allclose(p.grad.data, ours[name].grad.data, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(p.data, ours[name].data, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(imported(x).data, model(gg.tensor(x)).data, rtol=1e-5, atol=1e-6)


def test_imported_model_can_be_drawn(tmp_path):
    gonnx.export(MODELS["layernorm"][0](), _randn(2, (3, 4), 0), tmp_path / "m.onnx")
    imported = gonnx.load(tmp_path / "m.onnx")
    from graphgrad import viz

    with viz.record_modules(imported):
        out = imported(_randn(2, (3, 4), 0)).sum()
    picture = viz.build(out)
    labels = " ".join(n.label for n in picture.nodes)
    assert "1.weight" in labels and {n.group for n in picture.nodes} >= {"ONNXModule"}
    assert "digraph" in viz.to_dot(picture)


# ---- models exported by PyTorch -------------------------------------------------------------
def _torch_models(torch):
    torch.manual_seed(0)
    tnn = torch.nn
    mlp = tnn.Sequential(tnn.Flatten(), tnn.Linear(12, 16), tnn.BatchNorm1d(16), tnn.ReLU(), tnn.Dropout(0.3),
                         tnn.Linear(16, 8), tnn.Tanh(), tnn.Linear(8, 4), tnn.Softmax(dim=1))
    norm = tnn.Sequential(tnn.Flatten(), tnn.Linear(12, 8), tnn.LayerNorm(8), tnn.LeakyReLU(0.1), tnn.Linear(8, 8),
                          tnn.Sigmoid(), tnn.Linear(8, 3), tnn.LogSoftmax(dim=-1))
    for m in (mlp, norm):
        m.train()
        for _ in range(3):
            m(torch.randn(16, 3, 4) * 2 + 0.5)
        m.eval()
    return {"mlp_batchnorm": mlp, "layernorm_leaky": norm}


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
@pytest.mark.parametrize("exporter", ["torchscript", "dynamo"])
@pytest.mark.parametrize("which", ["mlp_batchnorm", "layernorm_leaky"])
def test_pytorch_exported_model_imports_with_pytorch_outputs(which, exporter, torch_oracle, tmp_path):
    torch = torch_oracle
    model = _torch_models(torch)[which]
    path = tmp_path / "torch.onnx"
    example = (torch.randn(2, 3, 4),)
    if exporter == "dynamo":
        pytest.importorskip("onnxscript", reason="torch's dynamo ONNX exporter needs onnxscript (pip install onnxscript)")
        torch.onnx.export(model, example, path, dynamo=True, input_names=["x"],
                          dynamic_shapes=({0: torch.export.Dim("batch")},), verbose=False)
    else:
        torch.onnx.export(model, example, path, dynamo=False, input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    imported = gonnx.load(path)
    for n in BATCHES:
        x = torch.randn(n, 3, 4)
        expected = model(x).detach().numpy()
        np.testing.assert_allclose(imported(x.numpy()).data, expected, rtol=1e-5, atol=1e-5)
    # gradients flow to the imported weights exactly as in PyTorch (those the exporter kept as they
    # were: the dynamo exporter folds batch norm into the Linear before it)
    x = torch.randn(5, 3, 4)
    weights = torch.randn(5, expected.shape[1])
    (model(x) * weights).sum().backward()
    (imported(x.numpy()) * weights.numpy()).sum().backward()
    matched = 0
    for p in imported.parameters():
        for q in model.parameters():
            if tuple(q.shape) == p.shape and np.array_equal(q.detach().numpy(), p.data):
                np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-4, atol=1e-6)
                matched += 1
    assert matched >= 4


# ---- importers against ONNX Runtime, on graphs written by hand ---------------------------------
def _graph(nodes, outputs, opset, initializers=()):
    h, f = onnx.helper, onnx.TensorProto.FLOAT
    graph = h.make_graph(nodes, "hand", [h.make_tensor_value_info("x", f, ["n", 3, 4])],
                         [h.make_tensor_value_info(o, t, shape) for o, t, shape in outputs],
                         initializer=[onnx.numpy_helper.from_array(a, k) for k, a in initializers])
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", opset)])
    model.ir_version = h.find_min_ir_version_for(list(model.opset_import))
    onnx.checker.check_model(model, full_check=True)
    return model


def _hand_models():
    h, f, d = onnx.helper, onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE
    rng = np.random.default_rng(0)
    n = h.make_node
    old = _graph([  # opset 11: axes as attributes, Softmax over the block of axes from `axis` on
        n("Shape", ["x"], ["s"]), n("Gather", ["s", "zero"], ["n0"]), n("Unsqueeze", ["n0"], ["n1"], axes=[0]),
        n("Concat", ["n1", "minus1"], ["shape"], axis=0), n("Reshape", ["x", "shape"], ["flat"]),
        n("Gemm", ["flat", "w", "c"], ["g"], alpha=0.5, beta=2.0),
        n("Gemm", ["w", "flat"], ["gtt"], transA=1, transB=1), n("Transpose", ["gtt"], ["gt"]),
        n("Softmax", ["x"], ["sm"], axis=1), n("ReduceMean", ["sm"], ["rm"], axes=[2], keepdims=0),
        n("Clip", ["rm", "lo", "hi"], ["clipped"]), n("Unsqueeze", ["clipped"], ["u"], axes=[1]),
        n("Squeeze", ["u"], ["sq"], axes=[1]), n("Dropout", ["sq"], ["dropped"], ratio=0.3),
        n("LeakyRelu", ["g"], ["lr"], alpha=0.3), n("Concat", ["lr", "dropped"], ["out1"], axis=1),
        n("Transpose", ["x"], ["xt"], perm=[0, 2, 1]), n("Flatten", ["xt"], ["out2"], axis=1),
        n("LogSoftmax", ["g"], ["ls"], axis=1), n("Max", ["ls", "gt", "floor"], ["out3"]),
        n("Min", ["ls", "ceil"], ["out4"]), n("ReduceSum", ["x"], ["out5"], axes=[0, 2], keepdims=1),
    ], [("out1", f, ["n", 8]), ("out2", f, ["n", 12]), ("out3", f, ["n", 5]), ("out4", f, ["n", 5]),
        ("out5", f, [1, 3, 1])], 11, [
        ("zero", np.array(0, np.int64)), ("minus1", np.array([-1], np.int64)),
        ("w", rng.standard_normal((12, 5)).astype(np.float32)), ("c", rng.standard_normal((1, 5)).astype(np.float32)),
        ("lo", np.array(0.05, np.float32)), ("hi", np.array(0.5, np.float32)),
        ("floor", np.array(-1.5, np.float32)), ("ceil", np.array(-0.5, np.float32))])
    new = _graph([  # opset 18: axes as inputs, Slice, Expand, casts, the normalisations
        n("Slice", ["x", "starts", "ends", "axes", "steps"], ["sl"]), n("Expand", ["sl", "big"], ["ex"]),
        n("Where", ["mask", "ex", "neg1"], ["wh"]), n("Cast", ["wh"], ["out1"], to=d),
        n("Pow", ["x", "two"], ["p"]), n("Abs", ["x"], ["a"]), n("Sqrt", ["a"], ["r"]), n("Exp", ["r"], ["e"]),
        n("Neg", ["e"], ["ne"]), n("Div", ["p", "e"], ["q"]), n("Sub", ["q", "ne"], ["df"]),
        n("Sigmoid", ["df"], ["sg"]), n("Tanh", ["sg"], ["th"]), n("ReduceSum", ["th", "ax1"], ["out2"], keepdims=0),
        n("ReduceMax", ["x"], ["mx"], keepdims=1), n("Identity", ["mx"], ["out3"]),
        n("BatchNormalization", ["x", "scale", "bias", "mean", "var"], ["bn"], epsilon=1e-3),
        n("LayerNormalization", ["bn", "lnw", "lnb"], ["out4"], axis=1, epsilon=1e-4),
        n("Squeeze", ["mx", "ax1"], ["sq"]), n("Unsqueeze", ["sq", "ax1"], ["out5"]),
        n("ReduceLogSumExp", ["x", "ax1"], ["out6"]), n("ReduceMin", ["x"], ["out7"], keepdims=0),
    ], [("out1", d, [2, "n", 2, 3]), ("out2", f, ["n", 4]), ("out3", f, [1, 1, 1]), ("out4", f, ["n", 3, 4]),
        ("out5", f, [1, 1, 1]), ("out6", f, ["n", 1, 4]), ("out7", f, [])], 18, [
        ("starts", np.array([2, 0], np.int64)), ("ends", np.array([-100, 3], np.int64)),
        ("axes", np.array([2, 1], np.int64)), ("steps", np.array([-1, 2], np.int64)),
        ("big", np.array([2, 1, 1, 1], np.int64)), ("mask", rng.random((2, 1, 1, 3)) > 0.5),
        ("neg1", np.array(-1.0, np.float32)), ("two", np.array(2.0, np.float32)), ("ax1", np.array([1], np.int64)),
        ("scale", rng.random(3).astype(np.float32) + 0.5), ("bias", rng.standard_normal(3).astype(np.float32)),
        ("mean", rng.standard_normal(3).astype(np.float32)), ("var", rng.random(3).astype(np.float32) + 0.1),
        ("lnw", rng.standard_normal((3, 4)).astype(np.float32)), ("lnb", rng.standard_normal((3, 4)).astype(np.float32))])
    return {"opset11": old, "opset18": new}


@pytest.mark.parametrize("which", ["opset11", "opset18"])
def test_importers_agree_with_onnx_runtime(which):
    model = _hand_models()[which]
    imported, session = gonnx.load(model), _session(model)
    for n in BATCHES:
        x = _randn(n, (3, 4), n)
        theirs, ours = session.run(None, {"x": x}), _outputs(imported(x))
        assert len(theirs) == len(ours)
        for name, a, b in zip([o.name for o in model.graph.output], theirs, ours):
            assert a.shape == b.shape and a.dtype == b.dtype, name
            np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5, err_msg=name)
    settings = {"mean", "var", "starts", "ends", "axes", "steps", "big", "ax1", "zero", "minus1", "lo", "hi"}
    assert not settings & {k for k, _ in imported.named_parameters()}  # read as numbers, so buffers


# ---- bad input --------------------------------------------------------------------------------
def test_truncated_and_foreign_files_are_refused(tmp_path):
    good = gonnx.export(MODELS["mlp"][0](), _randn(2, (10,), 0), tmp_path / "m.onnx").SerializeToString()
    (tmp_path / "cut.onnx").write_bytes(good[: len(good) // 2])
    with pytest.raises(ONNXError, match=r"cut\.onnx is not a (readable|valid) ONNX model"):
        gonnx.load(tmp_path / "cut.onnx")
    np.savez(tmp_path / "weights.npz", a=np.arange(3))
    for foreign in (tmp_path / "weights.npz", tmp_path / "notes.onnx"):
        if foreign.suffix == ".onnx":
            foreign.write_text("just some text, not a model\n")
        with pytest.raises(ONNXError, match=rf"{foreign.name} is not (a readable ONNX model|an ONNX model)"):
            gonnx.load(foreign)
    with pytest.raises(ONNXError, match="no such file"):
        gonnx.load(tmp_path / "missing.onnx")


def test_unsupported_operators_are_listed_in_one_error():
    h = onnx.helper
    nodes = [h.make_node("Softsign", ["x"], ["a"]), h.make_node("HardSwish", ["a"], ["b"]),
             h.make_node("Softsign", ["b"], ["c"]), h.make_node("Relu", ["c"], ["y"])]
    graph = h.make_graph(nodes, "g", [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [None, 3])],
                         [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [None, 3])])
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    with pytest.raises(UnsupportedOperatorError, match=r"unsupported operators: HardSwish, Softsign \(x2\);"):
        gonnx.load(model.SerializeToString())


def test_mismatched_input_is_refused(tmp_path):
    imported = gonnx.load(gonnx.export(MODELS["mlp"][0](), _randn(2, (10,), 0), tmp_path / "m.onnx"))
    with pytest.raises(ONNXError, match=r"input 'input' must have shape \(batch, 10\), got \(3, 11\)"):
        imported(_randn(3, (11,), 0))
    with pytest.raises(ONNXError, match=r"must have shape \(batch, 10\), got \(10,\)"):
        imported(np.zeros(10, np.float32))
    with pytest.raises(ONNXError, match=r"must have dtype float32, got float64"):
        imported(np.zeros((2, 10)))
    with pytest.raises(ONNXError, match=r"takes 1 input\(s\) \(input\), got 2"):
        imported(np.zeros((2, 10), np.float32), np.zeros((2, 10), np.float32))


class Swish(gg.Function):
    def forward(self, x):
        self.s = 1 / (1 + np.exp(-x))
        return x * self.s

    def backward(self, gy):
        return gy * self.s * (1 + (1 - self.s) * 0)


class SwishLayer(nn.Module):
    def forward(self, x):
        return Swish()(x)


class InputDependentConstant(nn.Module):
    def forward(self, x):
        return x * gg.tensor(x.data > 0)  # a mask made from the data, outside the graph


def test_export_refuses_ops_without_mapping_and_input_dependent_constants(tmp_path):
    model = nn.Sequential(nn.Linear(4, 4, generator=0), SwishLayer())
    with pytest.raises(UnsupportedOperatorError, match=r"no ONNX mapping for Swish \(in module 1 \(SwishLayer\)\)"):
        gonnx.export(model, _randn(2, (4,), 0), tmp_path / "m.onnx")
    with pytest.raises(ONNXError, match=r"Mul \(in module 1 \(InputDependentConstant\)\) uses a constant of shape "
                                        r"\(2, 4\) computed from the input"):
        gonnx.export(nn.Sequential(nn.Linear(4, 4, generator=0), InputDependentConstant()), _randn(2, (4,), 0),
                     tmp_path / "m.onnx")
    with pytest.raises(ONNXError, match="opset_version 12 is not supported"):
        gonnx.export(model, _randn(2, (4,), 0), tmp_path / "m.onnx", opset_version=12)
    assert not (tmp_path / "m.onnx").exists()


# ---- the command line ---------------------------------------------------------------------------
def _checkpoint(directory, model_name="mlp", architecture=(784, 32, 10)):
    from graphgrad.cli.train import build_model
    from graphgrad.train import save_checkpoint

    meta = {"model": model_name, "architecture": list(architecture), "dtype": "float32", "seed": 0, "weight_init_std": 0.01}
    model = build_model(meta)
    for p in model.parameters():  # not the freshly built weights: export must read the checkpoint's
        p.data[...] = np.random.default_rng(p.numel()).standard_normal(p.shape) * 0.05
    save_checkpoint(directory, {"meta": meta, "model": model.state_dict(), "iteration": 7})
    return model


def test_cli_export_writes_a_checked_file(tmp_path, capsys):
    from graphgrad.cli import main

    model = _checkpoint(tmp_path / "run")
    assert main(["export", "--checkpoint", str(tmp_path / "run"), "--onnx", str(tmp_path / "m.onnx")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"wrote {tmp_path / 'm.onnx'} (3 nodes, opset 17, input (batch, 784) float32)")
    assert out[1].startswith("ONNX Runtime agrees with graphgrad to ") and float(out[1].split()[6]) < 1e-5
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    x = _randn(4, (784,), 0)
    np.testing.assert_allclose(session.run(None, {"input": x})[0], model(gg.tensor(x)).data, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["cnn", "deepcnn"])
def test_cli_export_of_a_cnn_checkpoint(name, tmp_path, capsys):
    from graphgrad.cli import main
    from graphgrad.train.models import CNN_MODELS

    model = _checkpoint(tmp_path / "run", name, [784, *CNN_MODELS[name][1]]).eval()
    assert main(["export", "--checkpoint", str(tmp_path / "run"), "--onnx", str(tmp_path / "m.onnx")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"wrote {tmp_path / 'm.onnx'} (") and "input (batch, 784) float32" in out[0]
    assert float(out[1].split()[6]) < 1e-5
    onnx.checker.check_model(onnx.load(tmp_path / "m.onnx"), full_check=True)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    assert "Conv" in {n.op_type for n in onnx.load(tmp_path / "m.onnx").graph.node}
    for n in BATCHES:
        x = _randn(n, (784,), n)
        np.testing.assert_allclose(session.run(None, {"input": x})[0], model(gg.tensor(x)).data, rtol=1e-5, atol=1e-5)


def test_cli_export_bad_input_is_one_line_and_status_2(tmp_path, capsys):
    from graphgrad.cli import main

    assert main(["export", "--checkpoint", str(tmp_path / "none"), "--onnx", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("graphgrad export: error: no checkpoint in")
    _checkpoint(tmp_path / "run")
    (tmp_path / "taken").mkdir()
    args = ["export", "--checkpoint", str(tmp_path / "run"), "--onnx", str(tmp_path / "taken")]
    assert main(args) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert main(args[:-1] + [str(tmp_path / "m.onnx"), "--opset", "7"]) == 2
    assert "opset_version 7 is not supported" in capsys.readouterr().err


def test_gelu_exports_as_the_gelu_operator_from_opset_20(tmp_path):
    model = nn.Sequential(nn.Linear(6, 8, generator=0), nn.GELU(), nn.GELU(approximate="tanh"))
    model.eval()
    x = _randn(3, (6,), 0)
    proto = gonnx.export(model, x, tmp_path / "gelu.onnx", opset_version=20)
    onnx.checker.check_model(onnx.load(tmp_path / "gelu.onnx"), full_check=True)
    assert [n.op_type for n in proto.graph.node] == ["Gemm", "Gelu", "Gelu"]
    ours = model(gg.tensor(x)).data
    np.testing.assert_allclose(_session(proto).run(None, {"input": x})[0], ours, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gonnx.load(tmp_path / "gelu.onnx")(x).data, ours, rtol=1e-6, atol=1e-7)


def test_embedding_exports_as_gather_with_integer_inputs(tmp_path):
    model = nn.Sequential(nn.Embedding(10, 4, padding_idx=0), nn.Flatten(), nn.Linear(12, 3, generator=0))
    model.eval()
    x = np.array([[1, 2, 3], [4, 0, 9]], dtype=np.int64)
    proto = gonnx.export(model, x, tmp_path / "emb.onnx", opset_version=17)
    onnx.checker.check_model(onnx.load(tmp_path / "emb.onnx"), full_check=True)
    assert proto.graph.node[0].op_type == "Gather" and proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    session, imported = _session(proto), gonnx.load(tmp_path / "emb.onnx")
    for batch in (x, np.array([[5, 6, 7], [8, 9, 1], [0, 0, 2]], dtype=np.int64)):  # another batch size too
        ours = model(gg.tensor(batch)).data
        np.testing.assert_allclose(session.run(None, {"input": batch})[0], ours, rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(imported(batch).data, ours)
