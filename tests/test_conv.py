"""Convolutions (conv1d, conv2d, conv_transpose2d, unfold, fold) against PyTorch and central differences.

Values, first derivatives and second derivatives (the gradient of the gradients' squared norm with
respect to the inputs and to the upstream gradient) over hypothesis-drawn configurations, float64.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad.autograd import grad
from graphgrad.ops import conv as conv_ops

torch = pytest.importorskip("torch", reason="PyTorch is the oracle (pip install torch==2.13.0)")
F = torch.nn.functional
pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same.:UserWarning")
FEW = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def compare_with_torch(ours, theirs, arrays, second_order: bool = True, atol: float = 1e-9, **config):
    """ours(*tensors, **config) and theirs(*torch tensors, **config): values, gradients and second derivatives."""
    rng = np.random.default_rng(0)
    ts = [gg.tensor(a, requires_grad=True) for a in arrays]
    tt = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, yt = ours(*ts, **config), theirs(*tt, **config)
    if isinstance(yt, tuple):
        assert isinstance(y, tuple) and len(y) == len(yt)
        for a, b in zip(y[1:], yt[1:]):
            np.testing.assert_array_equal(a.data, b.numpy())
        y, yt = y[0], yt[0]
    np.testing.assert_allclose(y.data, yt.detach().numpy(), atol=atol, rtol=1e-7)
    seed = rng.standard_normal(y.shape)
    g, gt = gg.tensor(seed, requires_grad=True), torch.tensor(seed, requires_grad=True)
    grads = grad(y, ts, g, create_graph=second_order)
    grads_t = torch.autograd.grad(yt, tt, gt, create_graph=second_order)
    for a, b in zip(grads, grads_t):
        np.testing.assert_allclose(a.data, b.detach().numpy(), atol=atol, rtol=1e-7)
    if not second_order:
        return
    total = sum((a * a).sum() for a in grads)
    total_t = sum((b * b).sum() for b in grads_t)
    second = grad(total, ts + [g], allow_unused=True)
    second_t = torch.autograd.grad(total_t, tt + [gt], allow_unused=True)
    for a, b in zip(second, second_t):
        expected = np.zeros(()) if b is None else b.numpy()
        np.testing.assert_allclose(0 if a is None else a.data, expected, atol=atol * 10, rtol=1e-6)


@st.composite
def conv_configs(draw, spatial: int = 2):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    c, o = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(spatial))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(spatial))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(spatial))
    padding = draw(st.one_of(st.just("valid"), st.just("same"), st.tuples(*[st.integers(0, 2)] * spatial)))
    if padding == "same":
        stride = (1,) * spatial
    pad = [0] * spatial if isinstance(padding, str) else padding
    size = tuple(max(draw(st.integers(1, 6)), d * (k - 1) + 1 - 2 * p) for k, d, p in zip(kernel, dilation, pad))
    return dict(n=draw(st.integers(1, 2)), c=c, o=o, size=size, kernel=kernel, stride=stride, padding=padding,
                dilation=dilation, groups=groups, bias=draw(st.booleans()))


def _conv_arrays(cfg, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((cfg["n"], cfg["c"]) + cfg["size"])
    w = rng.standard_normal((cfg["o"], cfg["c"] // cfg["groups"]) + cfg["kernel"])
    return [x, w] + ([rng.standard_normal(cfg["o"])] if cfg["bias"] else [])


@FEW
@given(cfg=conv_configs())
def test_conv2d_matches_torch_to_second_order(cfg):
    compare_with_torch(gg.conv2d, F.conv2d, _conv_arrays(cfg), stride=cfg["stride"], padding=cfg["padding"],
                       dilation=cfg["dilation"], groups=cfg["groups"])


@FEW
@given(cfg=conv_configs(spatial=1))
def test_conv1d_matches_torch_to_second_order(cfg):
    compare_with_torch(gg.conv1d, F.conv1d, _conv_arrays(cfg), stride=cfg["stride"], padding=cfg["padding"],
                       dilation=cfg["dilation"], groups=cfg["groups"])


@FEW
@given(cfg=conv_configs(), extra=st.integers(0, 2))
def test_conv_transpose2d_matches_torch_to_second_order(cfg, extra):
    rng = np.random.default_rng(1)
    padding = (0, 0) if isinstance(cfg["padding"], str) else cfg["padding"]
    output_padding = tuple(min(extra, max(s, d) - 1) for s, d in zip(cfg["stride"], cfg["dilation"]))
    size = tuple(max(n, 1 - (-2 * p // st)) for n, p, st in zip(cfg["size"], padding, cfg["stride"]))  # output >= 1
    x = rng.standard_normal((cfg["n"], cfg["c"]) + size)
    w = rng.standard_normal((cfg["c"], cfg["o"] // cfg["groups"]) + cfg["kernel"])
    arrays = [x, w] + ([rng.standard_normal(cfg["o"])] if cfg["bias"] else [])
    compare_with_torch(gg.conv_transpose2d, F.conv_transpose2d, arrays, stride=cfg["stride"], padding=padding,
                       output_padding=output_padding, groups=cfg["groups"], dilation=cfg["dilation"])


@pytest.mark.parametrize("block_bytes", [1, 20000])  # one image per block; blocks of 2, 2 and 1 images
@pytest.mark.parametrize("config", [dict(padding=1), dict(stride=2), dict(padding="same", dilation=2)],
                         ids=["pad1", "stride2", "same-dilated"])
def test_patch_blocks_split_the_batch_exactly(monkeypatch, block_bytes, config):
    """The NumPy kernels' patch matrices in blocks of the batch: values and derivatives stay PyTorch's."""
    monkeypatch.setattr(conv_ops, "PATCH_BLOCK_BYTES", block_bytes)
    rng = np.random.default_rng(3)
    kernel = (2, 3) if config.get("padding") == "same" else (3, 3)  # an even kernel: 'same' pads unevenly
    arrays = [rng.standard_normal((5, 3, 6, 7)), rng.standard_normal((4, 3) + kernel), rng.standard_normal(4)]
    compare_with_torch(gg.conv2d, F.conv2d, arrays, **config)


def test_stride_1_transpose_with_output_padding_reads_every_input_row():
    """conv_transpose2d at stride 1 with output_padding (dilation 2) leaves an input row the flipped-kernel
    convolution would not reach: the col2im path must take it."""
    rng = np.random.default_rng(4)
    compare_with_torch(gg.conv_transpose2d, F.conv_transpose2d,
                       [rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((3, 2, 3, 3))],
                       stride=1, padding=1, output_padding=1, dilation=2)


def test_conv2d_float32_and_a_typical_layer():
    rng = np.random.default_rng(2)
    x = rng.random((4, 3, 12, 12), dtype=np.float32)
    w = rng.standard_normal((8, 3, 5, 5)).astype(np.float32)
    b = rng.standard_normal(8).astype(np.float32)
    y = gg.conv2d(gg.tensor(x), gg.tensor(w), gg.tensor(b), padding=2)
    assert y.dtype == np.float32
    expected = F.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), padding=2).numpy()
    np.testing.assert_allclose(y.data, expected, atol=1e-5)


@FEW
@given(kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)), stride=st.integers(1, 2),
       padding=st.integers(0, 1), dilation=st.integers(1, 2), size=st.tuples(st.integers(5, 7), st.integers(5, 7)))
def test_unfold_and_fold_match_torch(kernel, stride, padding, dilation, size):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3) + size)
    config = dict(kernel_size=kernel, dilation=dilation, padding=padding, stride=stride)
    compare_with_torch(gg.unfold, F.unfold, [x], **config)
    blocks = F.unfold(torch.tensor(x), **config).numpy()
    compare_with_torch(gg.fold, F.fold, [rng.standard_normal(blocks.shape)], output_size=size, **config)


def test_conv_gradients_match_central_differences():
    rng = np.random.default_rng(4)
    x = gg.tensor(rng.standard_normal((2, 2, 5, 4)), requires_grad=True)
    w = gg.tensor(rng.standard_normal((4, 1, 3, 2)), requires_grad=True)
    b = gg.tensor(rng.standard_normal(4), requires_grad=True)
    assert gg.gradcheck(lambda x, w, b: gg.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=2),
                        [x, w, b])
    wt = gg.tensor(rng.standard_normal((2, 3, 2, 2)), requires_grad=True)
    assert gg.gradcheck(lambda x, w: gg.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1), [x, wt])


def test_small_cnn_gradcheck():
    """conv -> ReLU -> max-pool -> conv -> avg-pool -> flatten -> linear, against central differences."""
    rng = np.random.default_rng(5)
    params = [gg.tensor(rng.standard_normal(s) * 0.5, requires_grad=True)
              for s in [(3, 1, 3, 3), (3,), (2, 3, 2, 2), (2,), (4, 2), (4,)]]
    x = gg.tensor(rng.standard_normal((2, 1, 8, 8)))

    def net(w1, b1, w2, b2, w3, b3):
        h = gg.max_pool2d(gg.relu(gg.conv2d(x, w1, b1, padding=1)), 2)
        h = gg.avg_pool2d(gg.conv2d(h, w2, b2), 3)
        return gg.linear(gg.flatten(h, 1), w3, b3)

    assert gg.gradcheck(net, params)


@pytest.mark.parametrize("call, message", [
    (lambda: gg.conv2d(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 5, 5))), r"kernel size \(5, 5\).*larger than the padded input \(3, 3\)"),
    (lambda: gg.conv2d(np.zeros((1, 3, 8, 8)), np.zeros((4, 1, 3, 3)), groups=2), "divisible by groups=2"),
    (lambda: gg.conv2d(np.zeros((3, 8, 8)), np.zeros((4, 3, 3, 3))), r"conv2d: expected a 4-D input.*\(3, 8, 8\)"),
    (lambda: gg.conv2d(np.zeros((1, 3, 8, 8)), np.zeros((4, 3, 3, 3)), padding=-1), "conv2d: padding must be at least 0"),
    (lambda: gg.conv2d(np.zeros((1, 3, 8, 8)), np.zeros((4, 2, 3, 3))), "expects 2 input channels"),
    (lambda: gg.conv2d(np.zeros((1, 3, 8, 8)), np.zeros((4, 3, 3, 3)), padding="same", stride=2), "needs stride 1"),
    (lambda: gg.conv2d(np.zeros((1, 3, 8, 8)), np.zeros((4, 3, 3, 3)), np.zeros(3)), r"bias of shape \(3,\)"),
    (lambda: gg.conv1d(np.zeros((1, 3, 8, 8)), np.zeros((4, 3, 3))), "conv1d: expected a 3-D input"),
    (lambda: gg.conv_transpose2d(np.zeros((1, 2, 4, 4)), np.zeros((2, 1, 3, 3)), stride=2, output_padding=2),
     "output_padding"),
    (lambda: gg.fold(np.zeros((1, 5, 4)), (3, 3), 2), "fold: input of shape"),
    (lambda: gg.conv_transpose2d(np.zeros((1, 1, 1, 2)), np.zeros((1, 1, 1, 1)), padding=(0, 1)),
     r"conv_transpose2d: .*gives an empty output \(1, 0\)"),
])
def test_bad_input_names_the_op_shapes_and_parameter(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_conv_layer_default_initialisation_is_pytorchs():
    from graphgrad import nn

    layer = nn.Conv2d(6, 20, (5, 3), generator=0)
    bound = 1 / np.sqrt(6 * 5 * 3)  # kaiming_uniform(a=√5) gives U(±1/√fan_in) too
    assert layer.weight.shape == (20, 6, 5, 3) and layer.bias.shape == (20,)
    for p in (layer.weight.data, layer.bias.data):
        assert np.abs(p).max() <= bound and np.abs(p).max() > 0.8 * bound
    assert abs(layer.weight.data.std() - bound / np.sqrt(3)) < 0.1 * bound  # uniform's standard deviation
    np.testing.assert_array_equal(nn.Conv2d(6, 20, 3, generator=7).weight.data, nn.Conv2d(6, 20, 3, generator=7).weight.data)
    t = nn.ConvTranspose2d(4, 6, 3, groups=2, generator=0)
    assert t.weight.shape == (4, 3, 3, 3) and t.bias.shape == (6,)
    assert np.abs(t.weight.data).max() <= 1 / np.sqrt(3 * 9)


def test_conv_layers_match_torch_layers():
    from graphgrad import nn

    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 4, 9, 7)).astype(np.float32)
    for ours, theirs in [(nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2), torch.nn.Conv2d(4, 6, 3, 2, 1, groups=2)),
                         (nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1),
                          torch.nn.ConvTranspose2d(4, 6, 3, 2, 1, output_padding=1))]:
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(ours.weight.data))
            theirs.bias.copy_(torch.tensor(ours.bias.data))
        np.testing.assert_allclose(ours(gg.tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(), atol=1e-5)
    conv1 = nn.Conv1d(4, 2, 3, padding="same", bias=False)
    expected = F.conv1d(torch.tensor(x[:, :, 0]), torch.tensor(conv1.weight.data), padding="same").numpy()
    np.testing.assert_allclose(conv1(gg.tensor(x[:, :, 0])).data, expected, atol=1e-5)


@pytest.mark.parametrize("size, stride, dilation", [((2, 3), (1, 2), (2, 1)), ((1, 1), (3, 1), (1, 1))])
def test_windows_by_slicing_equal_the_strided_view(size, stride, dilation):
    from graphgrad.backend.namespaces import GenericOps, NumpyOps

    x = np.arange(2 * 3 * 7 * 6, dtype=np.float64).reshape(2, 3, 7, 6)
    view = NumpyOps.windows(x, (2, 3), size, stride, dilation)
    assert not view.flags.writeable and np.shares_memory(view, x)
    np.testing.assert_array_equal(GenericOps(np).windows(x, (2, 3), size, stride, dilation), view)
    i, j, a, b = 1, 0, size[0] - 1, size[1] - 1
    assert view[1, 2, i, j, a, b] == x[1, 2, i * stride[0] + a * dilation[0], j * stride[1] + b * dilation[1]]
