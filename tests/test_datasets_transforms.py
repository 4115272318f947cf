"""torchvision-style transforms, checked against torchvision's documented semantics computed
with PyTorch's own ops (torchvision itself has no CPU wheel on the package index)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import graphgrad as gg
from graphgrad.datasets.transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip, ToTensor

uint8_images = hnp.arrays(np.uint8, st.one_of(hnp.array_shapes(min_dims=2, max_dims=2, max_side=6),
                                             st.tuples(st.integers(1, 5), st.integers(1, 5), st.sampled_from([1, 3, 4]))))


@settings(max_examples=50, deadline=None)
@given(image=uint8_images)
def test_to_tensor_is_torchvisions_hwc_to_chw_divided_by_255(image):
    out = ToTensor()(image)
    hwc = image[:, :, None] if image.ndim == 2 else image
    expected = torch.from_numpy(hwc.transpose(2, 0, 1).copy()).to(torch.float32).div(255)
    assert isinstance(out, gg.Tensor) and out.dtype == np.float32
    np.testing.assert_array_equal(out.data, expected.numpy())  # bit for bit: the same float32 division


def test_to_tensor_keeps_other_dtypes_unscaled_and_refuses_other_ranks():
    image = np.arange(12, dtype=np.float64).reshape(2, 3, 2) * 100
    out = ToTensor()(image)
    assert out.dtype == np.float64 and out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.data, image.transpose(2, 0, 1))
    with pytest.raises(ValueError, match=r"ToTensor: pic should be 2 or 3 dimensional .* shape \(1, 2, 3, 4\)"):
        ToTensor()(np.zeros((1, 2, 3, 4), np.uint8))


@settings(max_examples=40, deadline=None)
@given(x=hnp.arrays(st.sampled_from([np.float32, np.float64]), st.tuples(st.integers(1, 3), st.integers(1, 4),
                                                                         st.integers(1, 4)),
                    elements=st.floats(-10, 10, width=32)),
       data=st.data())
def test_normalize_is_sub_then_div_per_channel_in_the_images_dtype(x, data):
    c = x.shape[0]
    n = data.draw(st.sampled_from([1, c]))
    mean = data.draw(st.lists(st.floats(-2, 2, width=32), min_size=n, max_size=n))
    std = data.draw(st.lists(st.floats(0.125, 3, width=32), min_size=n, max_size=n))
    out = Normalize(mean, std)(gg.Tensor(x.copy()))
    t = torch.from_numpy(x.copy())
    m, s = torch.as_tensor(mean, dtype=t.dtype).view(-1, 1, 1), torch.as_tensor(std, dtype=t.dtype).view(-1, 1, 1)
    expected = t.sub(m).div(s)
    assert out.dtype == x.dtype
    np.testing.assert_array_equal(out.data, expected.numpy())


def test_normalize_inplace_edits_its_input_and_refuses_bad_input():
    x = gg.Tensor(np.ones((2, 2, 2), np.float32))
    assert Normalize((0.5, 0.25), (0.5, 0.25), inplace=True)(x) is x
    np.testing.assert_array_equal(x.data[0], 1.0)
    np.testing.assert_array_equal(x.data[1], 3.0)
    with pytest.raises(TypeError, match="float image, got dtype uint8; apply ToTensor"):
        Normalize((0.5,), (0.5,))(np.zeros((1, 2, 2), np.uint8))
    with pytest.raises(ValueError, match=r"\(\.\.\., C, H, W\), got shape \(2, 2\)"):
        Normalize((0.5,), (0.5,))(np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="std .* is zero"):
        Normalize((0.5,), (0.0,))(np.zeros((1, 2, 2), np.float32))
    with pytest.raises(ValueError, match="mean has 2 values for an image of 3 channels"):
        Normalize((0.5, 0.5), (1.0,))(np.zeros((3, 2, 2), np.float32))


def windows(padded: np.ndarray, size: tuple[int, int]) -> set[tuple[int, int]]:
    return {(i, j) for i in range(padded.shape[-2] - size[0] + 1) for j in range(padded.shape[-1] - size[1] + 1)}


def offset_of(out: np.ndarray, padded: np.ndarray) -> tuple[int, int]:
    th, tw = out.shape[-2:]
    found = [(i, j) for i, j in windows(padded, (th, tw)) if np.array_equal(padded[..., i:i + th, j:j + tw], out)]
    assert found, "the crop is not a window of the padded image"
    return found[0]


@pytest.mark.parametrize("mode, torch_mode", [("constant", "constant"), ("edge", "replicate"), ("reflect", "reflect")])
def test_random_crop_pads_as_torch_and_draws_every_window_uniformly(mode, torch_mode):
    x = np.arange(1 * 5 * 6, dtype=np.float32).reshape(1, 5, 6) + 1  # distinct values: windows are unique
    crop = RandomCrop((4, 3), padding=(2, 1), padding_mode=mode, generator=0)  # left/right 2, top/bottom 1
    padded = F.pad(torch.from_numpy(x)[None], (2, 2, 1, 1), mode=torch_mode)[0].numpy()
    assert padded.shape == (1, 7, 10)
    seen = [offset_of(crop(gg.Tensor(x)).data, padded) for _ in range(2000)]
    counts = np.array([seen.count(w) for w in sorted(windows(padded, (4, 3)))])
    assert len(counts) == 4 * 8 and counts.min() > 0
    assert abs(counts - 2000 / 32).max() < 6 * np.sqrt(2000 / 32)  # uniform within 6 sigma


def test_random_crop_padding_forms_fill_and_symmetric_mode():
    x = np.arange(9, dtype=np.uint8).reshape(3, 3)
    full = RandomCrop(5, padding=1, fill=7, generator=0)(x)  # the only 5x5 window: everything
    expected = np.full((5, 5), 7, np.uint8)
    expected[1:4, 1:4] = x
    np.testing.assert_array_equal(full, expected)
    four = RandomCrop((3 + 2 + 4, 3 + 1 + 3), padding=(1, 2, 3, 4), generator=0)(x)  # left, top, right, bottom
    assert four.shape == (9, 7)
    np.testing.assert_array_equal(four[2:5, 1:4], x)
    symmetric = RandomCrop((5, 5), padding=1, padding_mode="symmetric", generator=0)(x)
    np.testing.assert_array_equal(symmetric[0, 1:4], x[0])  # the edge row repeated, unlike reflect


def test_random_crop_pad_if_needed_and_errors():
    x = np.ones((1, 3, 2), np.float32)
    out = RandomCrop((4, 4), pad_if_needed=True, generator=0)(x)  # pads both sides by the shortfall
    assert out.shape == (1, 4, 4)
    with pytest.raises(ValueError, match=r"required crop size \(4, 4\) is larger than the input image size \(3, 2\)"):
        RandomCrop(4)(x)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        RandomCrop(2, padding_mode="circular")


def test_random_crop_of_an_equal_size_image_is_the_image():
    x = np.arange(16, dtype=np.uint8).reshape(4, 4)
    np.testing.assert_array_equal(RandomCrop(4)(x), x)


def test_random_horizontal_flip_probability_and_result():
    x = np.arange(6, dtype=np.float32).reshape(1, 2, 3)
    flipped = torch.flip(torch.from_numpy(x), dims=[-1]).numpy()
    np.testing.assert_array_equal(RandomHorizontalFlip(p=1.0)(gg.Tensor(x)).data, flipped)
    assert RandomHorizontalFlip(p=0.0)(x) is x
    flip = RandomHorizontalFlip(generator=np.random.default_rng(3))
    flips = sum(np.array_equal(flip(x), flipped) for _ in range(4000))
    assert abs(flips - 2000) < 6 * np.sqrt(1000)  # p = 0.5 within 6 sigma
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\]"):
        RandomHorizontalFlip(p=1.5)


def test_seeds_make_augmentation_reproducible():
    x = np.arange(64, dtype=np.uint8).reshape(8, 8)

    def run(seed):
        pipeline = Compose([RandomCrop(6, padding=2, generator=seed), RandomHorizontalFlip(generator=seed + 1)])
        return [pipeline(x) for _ in range(20)]

    first, again, other = run(1), run(1), run(2)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))
    with pytest.raises(TypeError, match="numpy.random.Generator, an int seed or None"):
        RandomCrop(2, generator="seed")


def test_compose_applies_in_order_as_torchvisions_mnist_recipe():
    image = np.arange(784, dtype=np.uint8).reshape(28, 28)
    out = Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])(image)
    expected = torch.from_numpy(image[None].copy()).float().div(255).sub(0.1307).div(0.3081)
    assert out.shape == (1, 28, 28)
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=0, atol=1e-6)
    assert "ToTensor()" in repr(Compose([ToTensor()]))
