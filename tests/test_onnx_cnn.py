"""ONNX export and import of convolutional networks: Conv, ConvTranspose, the pools, Pad, 2-D batch norm."""
from __future__ import annotations

import re

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="onnx is not installed (pip install -e '.[onnx]')")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install -e '.[onnx]')")

import graphgrad as gg  # noqa: E402
import graphgrad.onnx as gonnx  # noqa: E402
from graphgrad import nn  # noqa: E402
from graphgrad.onnx import ONNXError, UnsupportedOperatorError  # noqa: E402
from graphgrad.train.models import deep_cnn, simple_cnn  # noqa: E402
from test_onnx import BATCHES, _outputs, _randn, _session, _trained  # noqa: E402


class Padded(nn.Module):
    """Reflect, replicate and constant padding, then a dilated max pool whose ceil_mode padding exceeds its kernel."""

    def forward(self, x):
        a = gg.pad(x, (1, 2, 2, 1), "reflect")
        b = gg.pad(x, (0, 3, 1, 0), "replicate")[:, :, :, :6]
        c = gg.pad(a[:, :, :8, :8] + b[:, :, :8, :6].sum(axis=3, keepdims=True), (1, 0, 0, 2), "constant", 0.5)
        return nn.MaxPool2d(2, stride=4, dilation=3, ceil_mode=True)(c)


CNN_MODELS = {
    "simple_cnn": (lambda: simple_cnn(seed=0), (784,)),
    "deep_cnn": (lambda: deep_cnn(seed=0), (784,)),
    "grouped_dilated_same": (lambda: _trained(nn.Sequential(
        nn.Conv2d(4, 8, 3, padding="same", dilation=2, groups=2, generator=0), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Dropout2d(0.3), nn.MaxPool2d(3, 2, padding=1, ceil_mode=True),
        nn.Conv2d(8, 6, (3, 2), stride=(2, 1), padding=(1, 0), bias=False, generator=1),
        nn.AdaptiveAvgPool2d(1), nn.Flatten()), (4, 11, 10)), (4, 11, 10)),
    "transposed": (lambda: nn.Sequential(
        nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, generator=0), nn.Tanh(),
        nn.ConvTranspose2d(6, 3, 3, dilation=2, bias=False, generator=1)), (4, 5, 6)),
    # (a Tanh between: ONNX Runtime's optimizer folds a zero Pad into the next pool's pads, and then refuses
    # the pool when a pad reaches the kernel's size; a limitation of ONNX Runtime 1.30, not of the file)
    "avg_pools": (lambda: nn.Sequential(
        nn.ZeroPad2d((1, 2, 0, 3)), nn.Tanh(), nn.AvgPool2d(3, 2, padding=1, ceil_mode=True),
        nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False), nn.AvgPool2d(3, 1, padding=1, count_include_pad=False),
        nn.AdaptiveAvgPool2d((2, 3)), nn.AdaptiveMaxPool2d((1, 3)), nn.AdaptiveMaxPool2d(1)), (3, 9, 8)),
    "one_d": (lambda: nn.Sequential(
        nn.Conv1d(3, 4, 3, padding=2, stride=2, generator=0), nn.MaxPool1d(2, ceil_mode=True),
        nn.AvgPool1d(2, padding=1), nn.Conv1d(4, 4, 3, padding="same", groups=2, dilation=2, generator=1),
        nn.BatchNorm1d(4), nn.AvgPool1d(3, 2, ceil_mode=True)), (3, 17)),
    "padded": (Padded, (2, 7, 6)),
    "batchnorm2d_variants": (lambda: _trained(nn.Sequential(nn.BatchNorm2d(3, affine=False), nn.Tanh(),
                                                            nn.BatchNorm2d(3, track_running_stats=False)), (3, 4, 5)),
                             (3, 4, 5)),
}


@pytest.mark.parametrize("opset", [13, 18])
@pytest.mark.parametrize("name", sorted(CNN_MODELS))
def test_cnn_export_matches_onnx_runtime_and_imports_back(name, opset, tmp_path):
    make, in_shape = CNN_MODELS[name]
    model = make()
    path = tmp_path / f"{name}.onnx"
    model.train()
    proto = gonnx.export(model, _randn(2, in_shape, 0), path, opset_version=opset)  # traced in eval mode
    onnx.checker.check_model(onnx.load(path), full_check=True)
    assert model.training is True
    model.eval()  # (DeepConvNet's dropout)
    session, imported = _session(proto), gonnx.load(path)
    assert session.get_inputs()[0].shape[0] == "batch"
    for seed, n in enumerate(BATCHES):
        x = _randn(n, in_shape, seed + 10)
        (ours,) = _outputs(model(gg.tensor(x)))
        (theirs,) = session.run(None, {"input": x})
        assert theirs.shape == ours.shape and theirs.dtype == ours.dtype
        np.testing.assert_allclose(theirs, ours, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(imported(x).data, ours, rtol=1e-5, atol=1e-6)  # round trip


def test_cnn_layers_export_as_one_node_each(tmp_path):
    model = _trained(nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, generator=0), nn.BatchNorm2d(4), nn.ReLU(),
                                   nn.Dropout2d(0.5), nn.MaxPool2d(2), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1)),
                     (3, 8, 8))
    proto = gonnx.export(model, _randn(2, (3, 8, 8), 0), tmp_path / "m.onnx")
    assert [n.op_type for n in proto.graph.node] == ["Conv", "BatchNormalization", "Relu", "MaxPool", "AveragePool",
                                                     "GlobalAveragePool"]
    conv = {a.name: onnx.helper.get_attribute_value(a) for a in proto.graph.node[0].attribute}
    assert conv == {"group": 1, "kernel_shape": [3, 3], "strides": [1, 1], "pads": [1, 1, 1, 1], "dilations": [1, 1]}
    init = {t.name for t in proto.graph.initializer}
    assert {"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var"} == init
    imported = gonnx.load(proto)  # the running statistics stay buffers: fine-tuning trains the weights only
    assert sorted(k for k, _ in imported.named_parameters()) == ["0.bias", "0.weight", "1.bias", "1.weight"]


def test_imported_cnn_has_the_original_gradients(tmp_path):
    model = CNN_MODELS["grouped_dilated_same"][0]()
    gonnx.export(model, _randn(2, (4, 11, 10), 0), tmp_path / "m.onnx")
    imported = gonnx.load(tmp_path / "m.onnx")
    x, weights = _randn(5, (4, 11, 10), 1), _randn(5, (6,), 2)
    for net in (model, imported):
        net.zero_grad()
        (net(gg.tensor(x)) * gg.tensor(weights)).sum().backward()
    ours = dict(model.named_parameters())
    assert sorted(ours) == sorted(k for k, _ in imported.named_parameters())
    for name, p in imported.named_parameters():
        assert np.abs(p.grad.data).max() > 0
        np.testing.assert_allclose(p.grad.data, ours[name].grad.data, rtol=1e-4, atol=1e-6, err_msg=name)


def test_spatial_axes_may_be_dynamic_where_the_mapping_does_not_depend_on_them(tmp_path):
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding="same", generator=0), nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(1))
    axes = {"input": {0: "n", 2: "h", 3: "w"}}
    session = _session(gonnx.export(model, _randn(2, (2, 8, 8), 0), tmp_path / "m.onnx", dynamic_axes=axes))
    for n, h, w in ((3, 8, 8), (2, 11, 6)):
        x = _randn(n, (2, h, w), h)
        np.testing.assert_allclose(session.run(None, {"input": x})[0], model(gg.tensor(x)).data, rtol=1e-5, atol=1e-6)
    for layer, size, what in ((nn.MaxPool2d(2, ceil_mode=True), (7, 8), "ceil_mode's extra padding"),
                              (nn.AdaptiveAvgPool2d(2), (8, 6), r"output size \(2, 2\) as equal windows")):
        with pytest.raises(ONNXError, match=rf"\(in module 0 \({type(layer).__name__}\)\): {what} depends on the "
                                            rf"spatial size {re.escape(str(size))}"):
            gonnx.export(nn.Sequential(layer), _randn(2, (2, *size), 0), tmp_path / "m.onnx", dynamic_axes=axes)


def test_adaptive_pool_with_uneven_bins_is_refused(tmp_path):
    with pytest.raises(ONNXError, match=r"AdaptiveAvgPool2d \(in module 0 \(AdaptiveAvgPool2d\)\): output size "
                                        r"\(3, 2\) does not divide the input's \(8, 6\)"):
        gonnx.export(nn.Sequential(nn.AdaptiveAvgPool2d((3, 2))), _randn(2, (1, 8, 6), 0), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_circular_padding_needs_opset_19(tmp_path):
    class Circular(nn.Module):
        def forward(self, x):
            return gg.pad(x, (2, 1, 0, 3), "circular")

    with pytest.raises(ONNXError, match=r"Pad \(in module Circular\): circular padding needs opset_version 19"):
        gonnx.export(Circular(), _randn(2, (1, 4, 5), 0), tmp_path / "m.onnx", opset_version=18)
    proto = gonnx.export(Circular(), _randn(2, (1, 4, 5), 0), tmp_path / "m.onnx", opset_version=19)
    x = _randn(3, (1, 4, 5), 1)
    expected = Circular()(gg.tensor(x)).data
    np.testing.assert_array_equal(_session(proto).run(None, {"input": x})[0], expected)
    np.testing.assert_array_equal(gonnx.load(proto)(x).data, expected)


# ---- importers against ONNX Runtime, on a graph written by hand -------------------------------
def _hand_cnn(dtype=np.float32):
    """What graphgrad's export never writes: auto_pad, ONNX's default stride 1, uneven pads, Pad's axes."""
    h = onnx.helper
    f = h.np_dtype_to_tensor_dtype(np.dtype(dtype))
    rng = np.random.default_rng(0)
    n = h.make_node
    nodes = [
        n("Conv", ["x", "w"], ["c1"], auto_pad="SAME_UPPER", strides=[2, 1]),
        n("Conv", ["x", "w"], ["c2"], auto_pad="SAME_LOWER", strides=[1, 2]),
        n("Conv", ["x", "w", "b"], ["s"], pads=[2, 1, 1, 3], dilations=[1, 2]),
        n("Conv", ["x", "w"], ["c3"], pads=[0, 1, 2, 0]),
        n("MaxPool", ["s"], ["mp"], kernel_shape=[3, 2], pads=[0, 1, 1, 1]),
        n("AveragePool", ["s"], ["ap0"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 0, 2, 1]),
        n("AveragePool", ["s"], ["ap1"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 0, 2, 1], count_include_pad=1),
        n("AveragePool", ["s"], ["ap2"], kernel_shape=[2, 3], strides=[2, 2], ceil_mode=1),
        n("ConvTranspose", ["mp", "wt"], ["ct"], strides=[2, 1], pads=[1, 0, 0, 2], output_padding=[1, 0]),
        n("Pad", ["ap0", "pads", "", "axes"], ["pe"], mode="edge"),
        n("Pad", ["ap1", "pads4"], ["pr"], mode="reflect"),
        n("GlobalMaxPool", ["ct"], ["gm"]), n("GlobalAveragePool", ["pe"], ["ga"]),
        n("Squeeze", ["x", "one"], ["x1"]), n("ConvTranspose", ["x1", "wt1"], ["ct1"], strides=[3], pads=[2, 1]),
    ]
    outputs = ["c1", "c2", "c3", "mp", "ap1", "ap2", "ct", "pe", "pr", "gm", "ga", "ct1"]
    weights = {"w": (4, 1, 3, 3), "b": (4,), "wt": (4, 2, 3, 2), "wt1": (7, 3, 4)}
    settings = {"pads": [1, 2, 0, 1], "axes": [3, 2], "pads4": [0, 0, 1, 2, 0, 0, 2, 1], "one": [1]}
    inits = [onnx.numpy_helper.from_array(rng.standard_normal(shape).astype(dtype), k) for k, shape in weights.items()]
    inits += [onnx.numpy_helper.from_array(np.array(v, np.int64), k) for k, v in settings.items()]
    graph = h.make_graph(nodes, "hand_cnn", [h.make_tensor_value_info("x", f, ["n", 1, 7, 6])],
                         [h.make_tensor_value_info(o, f, None) for o in outputs], initializer=inits)
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 18)])
    model.ir_version = h.find_min_ir_version_for(list(model.opset_import))
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)  # the outputs' shapes, by ONNX's rules
    for out, found in zip(model.graph.output, inferred.graph.output):
        out.CopyFrom(found)
    onnx.checker.check_model(model, full_check=True)
    return model


def test_cnn_importers_agree_with_onnx_runtime():
    model = _hand_cnn()
    imported, session = gonnx.load(model), _session(model)
    assert sorted(k for k, _ in imported.named_parameters()) == ["b", "w", "wt", "wt1"]  # pads and axes: buffers
    for n in BATCHES:
        x = _randn(n, (1, 7, 6), n)
        theirs, ours = session.run(None, {"x": x}), _outputs(imported(x))
        for name, a, b in zip([o.name for o in model.graph.output], theirs, ours):
            assert a.shape == b.shape, name
            np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5, err_msg=name)
    # and the imported graph differentiates right, through the explicit pads and crops (in float64)
    imported = gonnx.load(_hand_cnn(np.float64))
    x = gg.tensor(np.random.default_rng(1).standard_normal((2, 1, 7, 6)), requires_grad=True)
    assert gg.gradcheck(imported, [x])
    for name, weight in imported.named_parameters():  # gradcheck perturbs the module's own weight in place
        assert gg.gradcheck(lambda w: imported(x.detach()), [weight]), name


def test_static_cnn_graph_exports(tmp_path):
    import graphgrad.graph as G

    rng = np.random.default_rng(0)
    with G.Graph():
        image = G.Variable((None, 1, 6, 6), trainable=False, name="image")
        kernel = G.Variable((2, 1, 3, 3), init=rng.normal(size=(2, 1, 3, 3)).astype(np.float32), name="kernel")
        shift = G.Variable((2,), init=rng.normal(size=2).astype(np.float32), name="shift")
        w = G.Variable((8, 3), init=rng.normal(size=(8, 3)).astype(np.float32), name="W")
        maps = G.relu(G.conv2d(image, kernel, shift, padding=0))
        probs = G.softmax(G.flatten(G.max_pool2d(maps, 2), 1) @ w)
    image.set_value(_randn(2, (1, 6, 6), 0))
    proto = gonnx.export_graph(probs, [image], tmp_path / "g.onnx")
    onnx.checker.check_model(onnx.load(tmp_path / "g.onnx"), full_check=True)
    assert [n.op_type for n in proto.graph.node][:3] == ["Conv", "Relu", "MaxPool"]
    session, imported = _session(proto), gonnx.load(proto)
    for n in BATCHES:
        batch = _randn(n, (1, 6, 6), n)
        image.set_value(batch)
        np.testing.assert_allclose(session.run(None, {"image": batch})[0], probs.forward(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(imported(batch).data, probs.forward(), rtol=1e-6, atol=1e-7)


# ---- models exported by PyTorch -----------------------------------------------------------------
def _torch_cnn(torch):
    torch.manual_seed(0)
    tnn = torch.nn
    model = tnn.Sequential(
        tnn.Conv2d(3, 8, 3, padding="same", dilation=2), tnn.BatchNorm2d(8), tnn.ReLU(),
        tnn.MaxPool2d(3, 2, padding=1, ceil_mode=True), tnn.Conv2d(8, 8, 3, groups=4, stride=2, padding=1),
        tnn.Dropout2d(0.2), tnn.AvgPool2d(2, ceil_mode=True, count_include_pad=False),
        tnn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1), tnn.ZeroPad2d((1, 0, 2, 1)),
        tnn.AvgPool2d(3, 1, padding=1),
        tnn.AdaptiveAvgPool2d(1), tnn.Flatten(), tnn.Linear(4, 5), tnn.GELU(approximate="tanh"))
    model.train()
    for _ in range(3):
        model(torch.randn(8, 3, 13, 14))
    return model.eval()


def _torch_export(torch, model, example, path, exporter, opset):
    if exporter == "dynamo":
        pytest.importorskip("onnxscript", reason="torch's dynamo ONNX exporter needs onnxscript (pip install onnxscript)")
        torch.onnx.export(model, example, path, dynamo=True, input_names=["x"], opset_version=opset,
                          dynamic_shapes=({0: torch.export.Dim("batch")},), verbose=False)
    else:
        torch.onnx.export(model, example, path, dynamo=False, input_names=["x"], opset_version=opset,
                          dynamic_axes={"x": {0: "batch"}})


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning", "ignore::UserWarning")
@pytest.mark.parametrize("exporter", ["torchscript", "dynamo"])
def test_pytorch_exported_cnn_imports_with_pytorch_outputs(exporter, torch_oracle, tmp_path):
    torch = torch_oracle
    model = _torch_cnn(torch)
    path = tmp_path / "torch_cnn.onnx"
    _torch_export(torch, model, (torch.randn(2, 3, 13, 14),), path, exporter, 18)
    ops = {n.op_type for n in onnx.load(path).graph.node}
    assert {"Conv", "MaxPool", "AveragePool", "ConvTranspose", "Pad"} <= ops
    imported = gonnx.load(path)
    for n in BATCHES:
        x = torch.randn(n, 3, 13, 14)
        np.testing.assert_allclose(imported(x.numpy()).data, model(x).detach().numpy(), rtol=1e-5, atol=1e-5)
    x, weights = torch.randn(5, 3, 13, 14), torch.randn(5, 5)
    (model(x) * weights).sum().backward()
    (imported(x.numpy()) * weights.numpy()).sum().backward()
    matched = 0  # the weights the exporter kept as they were (the dynamo one folds batch norm into the conv)
    for p in imported.parameters():
        for q in model.parameters():
            if tuple(q.shape) == p.shape and np.array_equal(q.detach().numpy(), p.data):
                np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-4, atol=1e-5)
                matched += 1
    assert matched >= 6


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning", "ignore::UserWarning")
def test_pytorch_gelu_imports(torch_oracle, tmp_path):
    """The tanh form always; the exact one (Erf, or Gelu at opset 20) needs graphgrad's erf op."""
    torch = torch_oracle
    x = torch.randn(4, 6)
    for approximate, opset in (("tanh", 17), ("tanh", 20), ("none", 17), ("none", 20)):
        model = torch.nn.Sequential(torch.nn.Linear(6, 3), torch.nn.GELU(approximate=approximate)).eval()
        path = tmp_path / f"gelu_{approximate}_{opset}.onnx"
        _torch_export(torch, model, (x[:2],), path, "torchscript", opset)
        ops = [n.op_type for n in onnx.load(path).graph.node]
        assert ("Gelu" in ops) == (opset == 20) and ("Erf" in ops) == (approximate == "none" and opset < 20)
        if approximate == "none" and not hasattr(gg.ops, "erf"):
            with pytest.raises(ONNXError, match="unsupported operator: Erf;" if opset < 20 else "needs graphgrad's erf op"):
                gonnx.load(path)(x.numpy())
            continue
        np.testing.assert_allclose(gonnx.load(path)(x.numpy()).data, model(x).detach().numpy(), rtol=1e-5, atol=1e-6)
