"""Pooling, padding, flatten, BatchNorm2d and Dropout2d against PyTorch (values, gradients, second order)."""
from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad import nn
from graphgrad.ops import pooling

torch = pytest.importorskip("torch", reason="PyTorch is the oracle (pip install torch==2.13.0)")
from test_conv import FEW, compare_with_torch  # noqa: E402  (the same oracle helper)

F = torch.nn.functional


@st.composite
def pool_configs(draw, spatial: int = 2, dilation: bool = True):
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(spatial))
    stride = draw(st.one_of(st.none(), st.tuples(*[st.integers(1, 3)] * spatial)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dil = tuple(draw(st.integers(1, 2)) for _ in range(spatial)) if dilation else (1,) * spatial
    size = tuple(max(draw(st.integers(1, 7)), d * (k - 1) + 1 - 2 * p) for k, d, p in zip(kernel, dil, padding))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3))) + size
    return dict(shape=shape, kernel_size=kernel, stride=stride, padding=padding, dilation=dil,
                ceil_mode=draw(st.booleans()))


def _distinct(shape, seed=0):
    """Values without ties, so the maximum's position is unambiguous."""
    return np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) / 7.0 - 3.0


def _max_pool_case(ours, theirs, cfg, return_indices):
    """Compare with PyTorch; where a dilated window reads only padding (PyTorch gives -inf), ours must refuse."""
    x = _distinct(cfg.pop("shape"))
    if np.isinf(theirs(torch.tensor(x), **cfg).numpy()).any():
        with pytest.raises(ValueError, match="reads only padding"):
            ours(gg.tensor(x), **cfg)
        return
    compare_with_torch(ours, theirs, [x], return_indices=return_indices, **cfg)


@FEW
@given(cfg=pool_configs(), return_indices=st.booleans())
def test_max_pool2d_matches_torch(cfg, return_indices):
    _max_pool_case(gg.max_pool2d, F.max_pool2d, cfg, return_indices)


@FEW
@given(cfg=pool_configs(spatial=1), return_indices=st.booleans())
def test_max_pool1d_matches_torch(cfg, return_indices):
    _max_pool_case(gg.max_pool1d, F.max_pool1d, cfg, return_indices)


@FEW
@given(cfg=pool_configs(dilation=False), count_include_pad=st.booleans())
def test_avg_pool2d_matches_torch(cfg, count_include_pad):
    shape, _ = cfg.pop("shape"), cfg.pop("dilation")
    compare_with_torch(gg.avg_pool2d, F.avg_pool2d, [_distinct(shape)], count_include_pad=count_include_pad, **cfg)


@FEW
@given(cfg=pool_configs(spatial=1, dilation=False), count_include_pad=st.booleans())
def test_avg_pool1d_matches_torch(cfg, count_include_pad):
    shape, _ = cfg.pop("shape"), cfg.pop("dilation")
    compare_with_torch(gg.avg_pool1d, F.avg_pool1d, [_distinct(shape)], count_include_pad=count_include_pad, **cfg)


@FEW
@given(size=st.tuples(st.integers(1, 7), st.integers(1, 7)), out=st.tuples(st.integers(1, 4), st.integers(1, 4)))
def test_adaptive_pools_match_torch(size, out):
    x = _distinct((2, 3) + size)
    compare_with_torch(gg.adaptive_avg_pool2d, F.adaptive_avg_pool2d, [x], output_size=out)
    compare_with_torch(gg.adaptive_max_pool2d, F.adaptive_max_pool2d, [x], output_size=out, return_indices=True)


@FEW
@given(mode=st.sampled_from(["constant", "reflect", "replicate", "circular"]),
       pad=st.tuples(*[st.integers(0, 2)] * 4), size=st.tuples(st.integers(3, 5), st.integers(3, 5)))
def test_pad_matches_torch(mode, pad, size):
    x = _distinct((2, 2) + size)
    extra = {"value": 1.5} if mode == "constant" else {}
    compare_with_torch(gg.pad, F.pad, [x], pad=pad, mode=mode, **extra)
    compare_with_torch(gg.pad, F.pad, [x[:, 0]], pad=pad[:2], mode=mode, **extra)  # the last axis only


def test_max_pool_nan_propagates_and_ties_pick_the_first():
    x = np.zeros((1, 1, 2, 4))
    x[0, 0, 1, 1] = np.nan
    y, i = gg.max_pool2d(gg.tensor(x), 2, return_indices=True)
    yt, it = F.max_pool2d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(y.data, yt.numpy())
    np.testing.assert_array_equal(i.data, it.numpy())


@st.composite
def tiled_pools(draw):
    """2x2 windows at stride 2 over even sizes (max pooling's paired fast path), values full of ties."""
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 3)), 2 * draw(st.integers(1, 4)), 2 * draw(st.integers(1, 4)))
    values = draw(st.lists(st.sampled_from([0.0, 0.0, 1.0, -1.0, 0.5]), min_size=int(np.prod(shape)),
                           max_size=int(np.prod(shape))))
    return np.array(values).reshape(shape), draw(st.sampled_from(["nchw", "channel-major", "strided"]))


def _laid_out(x, layout):
    if layout == "channel-major":  # how convolutions hand on their outputs
        return np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    if layout == "strided":  # neither memory order: the window scan's path
        return np.repeat(x, 2, axis=3)[..., ::2]
    return x


@FEW
@given(case=tiled_pools(), return_indices=st.booleans(), chunk=st.sampled_from([pooling.PAIR_CHUNK_BYTES, 1, 300]))
def test_tiled_max_pool_picks_the_first_of_ties_in_every_layout(case, return_indices, chunk):
    """Every layout, with the paired kernels' chunks of one window row, of a few, or the whole array."""
    x, layout = case
    with mock.patch.object(pooling, "PAIR_CHUNK_BYTES", chunk):
        for second_order in (False, True):  # plain backward runs the paired kernel; create_graph, its scatter op
            compare_with_torch(lambda t, **k: gg.max_pool2d(t, 2, **k),
                               lambda t, **k: F.max_pool2d(t.contiguous(), 2, **k), [_laid_out(x, layout)],
                               second_order=second_order, return_indices=return_indices)


@pytest.mark.parametrize("layout", ["nchw", "channel-major"])
def test_tiled_max_pool_nan_and_infinite_gradients(layout):
    x = _laid_out(np.arange(2 * 3 * 4 * 4, dtype=np.float64).reshape(2, 3, 4, 4) % 5, layout)
    x[1, 2, 3, 0] = np.nan
    y, i = gg.max_pool2d(gg.tensor(x), 2, return_indices=True)
    yt, it = F.max_pool2d(torch.tensor(np.ascontiguousarray(x)), 2, return_indices=True)
    np.testing.assert_array_equal(y.data, yt.numpy())
    np.testing.assert_array_equal(i.data, it.numpy())
    seed = np.ones((2, 3, 2, 2))
    seed[0, 1, 1, 0] = np.inf  # an infinite gradient goes to its winner only, zeros elsewhere (not inf·0 = NaN)
    xs, xt = gg.tensor(np.nan_to_num(x), requires_grad=True), torch.tensor(np.nan_to_num(x), requires_grad=True)
    gg.max_pool2d(xs, 2).backward(gg.tensor(seed))
    F.max_pool2d(xt, 2).backward(torch.tensor(seed))
    np.testing.assert_array_equal(xs.grad.data, xt.grad.numpy())


def test_pooling_gradients_match_central_differences():
    x = gg.tensor(_distinct((2, 2, 5, 6)), requires_grad=True)
    assert gg.gradcheck(lambda x: gg.max_pool2d(x, (2, 3), stride=1, padding=1, dilation=(2, 1), ceil_mode=True), [x])
    assert gg.gradcheck(lambda x: gg.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), [x])
    assert gg.gradcheck(lambda x: gg.pad(x, (1, 2, 2, 0), mode="reflect"), [x])
    assert gg.gradcheck(lambda x: gg.adaptive_max_pool2d(x, (2, 4)), [x])


@pytest.mark.parametrize("call, message", [
    (lambda: gg.max_pool2d(np.zeros((1, 1, 2, 2)), 3), r"max_pool2d: kernel size 3.*larger than the padded input 2"),
    (lambda: gg.max_pool2d(np.zeros((1, 2, 2)), 2), r"max_pool2d: expected a 4-D input.*\(1, 2, 2\)"),
    (lambda: gg.max_pool2d(np.zeros((1, 1, 4, 4)), 2, padding=-1), "max_pool2d: padding must be at least 0"),
    (lambda: gg.max_pool2d(np.zeros((1, 1, 4, 4)), 2, padding=2), "at most half the kernel size"),
    (lambda: gg.avg_pool1d(np.zeros((1, 1, 4, 4)), 2), "avg_pool1d: expected a 3-D input"),
    (lambda: gg.max_pool1d(np.zeros((1, 1, 1)), 2, padding=1, dilation=2), "some window .* reads only padding"),
    (lambda: gg.pad(np.zeros((1, 1, 3, 3)), (3, 3), mode="reflect"), "must be smaller than the axis"),
    (lambda: gg.pad(np.zeros((1, 1, 3, 3)), (-1, 1)), "negative padding"),
    (lambda: gg.pad(np.zeros((1, 1, 3, 3)), (1, 1), mode="wrap"), "mode must be one of"),
    (lambda: gg.flatten(np.zeros((2, 3, 4)), 2, 1), "start_dim 2 comes after end_dim 1"),
])
def test_bad_input_names_the_op_and_parameter(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_flatten_unflatten_zeropad_layers():
    x = gg.tensor(_distinct((2, 3, 4, 5)), requires_grad=True)
    y = nn.Flatten()(x)
    assert y.shape == (2, 60)
    assert gg.flatten(x, 1, 2).shape == (2, 12, 5) and gg.flatten(x).shape == (120,) and x.flatten(-2).shape == (2, 3, 20)
    back = nn.Unflatten(1, (3, -1, 5))(y)
    np.testing.assert_array_equal(back.data, x.data)
    padded = nn.ZeroPad2d((1, 0, 2, 1))(x)
    np.testing.assert_array_equal(padded.data, F.pad(torch.tensor(x.data), (1, 0, 2, 1)).numpy())
    padded.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.ones(x.shape))
    with pytest.raises(ValueError, match="cannot be split"):
        nn.Unflatten(1, (7, 9))(y)


@pytest.mark.parametrize("affine, track", [(True, True), (False, True), (True, False)])
def test_batchnorm2d_matches_torch(affine, track):
    rng = np.random.default_rng(0)
    ours = nn.BatchNorm2d(3, momentum=0.3, affine=affine, track_running_stats=track, dtype="float64")
    theirs = torch.nn.BatchNorm2d(3, momentum=0.3, affine=affine, track_running_stats=track).double()
    if affine:
        w, b = rng.standard_normal(3), rng.standard_normal(3)
        ours.weight.data[...], ours.bias.data[...] = w, b
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(w))
            theirs.bias.copy_(torch.tensor(b))
    for step in range(3):
        x = rng.standard_normal((4, 3, 5, 2)) * 2 + 1
        xg, xt = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, yt = ours(xg), theirs(xt)
        np.testing.assert_allclose(y.data, yt.detach().numpy(), atol=1e-10)
        seed = rng.standard_normal(x.shape)
        y.backward(gg.tensor(seed))
        yt.backward(torch.tensor(seed))
        np.testing.assert_allclose(xg.grad.data, xt.grad.numpy(), atol=1e-10)
        if track:
            np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), atol=1e-12)
            np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), atol=1e-12)
    ours.eval(), theirs.eval()
    x = rng.standard_normal((2, 3, 3, 3))
    np.testing.assert_allclose(ours(gg.tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(), atol=1e-10)
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected input of shape \(N, 3, H, W\)"):
        ours(gg.tensor(np.zeros((2, 3))))


def test_dropout2d_zeroes_whole_channels():
    x = gg.tensor(np.ones((20, 10, 3, 3)), requires_grad=True)
    layer = nn.Dropout2d(0.4, generator=0)
    y = layer(x).data
    per_channel = y.reshape(20, 10, -1)
    assert np.all((per_channel == 0).all(axis=2) | (per_channel == 1 / 0.6).all(axis=2))
    assert 0.25 < (per_channel[:, :, 0] == 0).mean() < 0.55
    layer.eval()
    assert layer(x) is x
    with pytest.raises(ValueError, match="dropout2d: expected"):
        nn.functional.dropout2d(gg.tensor(np.ones((2, 3))), 0.5)
