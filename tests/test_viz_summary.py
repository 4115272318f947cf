"""What the pictures carry: numbers for small arrays, heatmaps and image grids for big ones, and
a page that stays small however big the arrays are."""
from __future__ import annotations

import base64
import math

import numpy as np
import pytest

from graphgrad import viz
from graphgrad.viz.examples import two_layer_net
from graphgrad.viz.html import html_text
from graphgrad.viz.summary import HEAT_SIDE, MAX_TILES, SMALL, TILE_CELLS, fmt, summarize


def _bytes(pic: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(pic["data"]), dtype=np.uint8).astype(int)


def test_arrays_of_up_to_six_numbers_are_written_out_a_matrix_one_row_a_line():
    s = summarize(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.5]]))
    assert s["label"] == "[1, 2, 3, 4, 5, 6.5]" and s["lines"] == ["[1, 2, 3]", "[4, 5, 6.5]"]
    assert "pic" not in s and SMALL == 6
    assert "lines" not in summarize(np.arange(4.0)) and "pic" in summarize(np.arange(7.0))


def test_a_signed_matrix_is_a_diverging_heatmap_with_its_scale():
    a = np.array([[-2.0, 0.0, 1.0, 2.0], [0.5, -0.5, 0.0, 1.5]])
    pic = summarize(a)["pic"]
    assert (pic["kind"], pic["rows"], pic["cols"], pic["scale"]) == ("heat", 2, 4, "diverging")
    assert (pic["lo"], pic["hi"]) == ("-2", "2") and "note" not in pic
    # 128 is zero; 1 and 255 the ends of the symmetric scale
    np.testing.assert_array_equal(_bytes(pic).reshape(2, 4), np.rint(128 + 127 * a / 2))


def test_a_non_negative_array_is_sequential_from_zero_and_a_vector_is_one_row():
    pic = summarize(np.linspace(0, 3, 10))["pic"]
    assert (pic["kind"], pic["rows"], pic["cols"], pic["scale"], pic["lo"], pic["hi"]) == ("heat", 1, 10, "sequential", "0", "3")
    np.testing.assert_array_equal(_bytes(pic), np.rint(255 * np.linspace(0, 1, 10)))


def test_a_big_matrix_is_shown_as_block_means():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(784, 50))
    pic = summarize(a)["pic"]
    assert (pic["rows"], pic["cols"]) == (HEAT_SIDE, 50) and "block means" in pic["note"]
    starts = np.linspace(0, 784, HEAT_SIDE + 1).astype(int)
    means = np.stack([a[s:e].mean(axis=0) for s, e in zip(starts[:-1], starts[1:])])
    top = np.abs(a).max()
    np.testing.assert_array_equal(_bytes(pic).reshape(HEAT_SIDE, 50), np.rint(128 + 127 * means / top))


@pytest.mark.parametrize("shape, grid, tile", [
    ((4, 784), [1, 4], [28, 28]),  # MNIST rows: digits
    ((100, 28, 28), [2, 8], [28, 28]),  # the first 16 of a stack of images
    ((2, 3, 8, 8), [2, 3], [8, 8]),  # (N, C, H, W) feature maps: a row per sample
    ((16, 3, 5, 5), [8, 3], [5, 5]),  # filters: the first 8
    ((64, 64, 32, 32), [8, 8], [16, 16]),  # a big map: 8 x 8 tiles, each downsampled
])
def test_image_shaped_arrays_are_grids_of_tiles(shape, grid, tile):
    a = np.random.default_rng(1).random(shape)
    pic = summarize(a)["pic"]
    assert (pic["kind"], pic["grid"], pic["tile"]) == ("tiles", grid, tile)
    assert pic["count"] == math.prod(grid) <= 64 and pic["count"] * math.prod(tile) <= TILE_CELLS
    assert _bytes(pic).size == pic["count"] * math.prod(tile)
    if shape[0] > grid[0] * (grid[1] if len(shape) < 4 else 1):
        assert "the first" in pic["note"]


def test_an_mnist_digit_keeps_its_pixels():
    digit = np.zeros((1, 784))
    digit[0, 28 * 10 + 5: 28 * 10 + 20] = 1.0  # a horizontal stroke on row 10
    pic = summarize(np.repeat(digit, 2, axis=0))["pic"]
    img = _bytes(pic).reshape(2, 28, 28)
    assert (img[:, 10, 5:20] == 255).all() and img.sum() == 2 * 15 * 255


def test_small_trailing_axes_are_a_heatmap_and_non_finite_values_do_not_break_it():
    assert summarize(np.ones((3, 3, 3)))["pic"]["kind"] == "heat"  # 3x3 is too small for an image
    a = np.array([1.0, np.nan, np.inf, -np.inf, 2.0, 3.0, -1.0])
    pic = summarize(a)["pic"]
    assert pic["hi"] == "3" and _bytes(pic).size == 7


def test_pages_stay_small_with_big_arrays():
    rng = np.random.default_rng(0)
    for shape in [(1000, 784), (256, 256), (32, 16, 28, 28)]:
        pic = summarize(rng.normal(size=shape))["pic"]
        assert len(pic["data"]) <= 4 * TILE_CELLS / 3 + 4, shape  # base64 of at most TILE_CELLS bytes
    assert HEAT_SIDE ** 2 <= TILE_CELLS and MAX_TILES * 28 * 28 <= TILE_CELLS
    page = html_text(viz.build(two_layer_net(batch=100)), "net")
    assert len(page.encode()) < 400_000, len(page.encode())
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "") and "https://" not in page


def test_a_grid_that_shows_part_of_an_array_keeps_the_whole_arrays_scale():
    maps = np.random.default_rng(3).random((2, 30, 8, 8))
    maps[1, 20, 4, 4] = 7.0  # the largest value, in a channel the grid leaves out
    s = summarize(maps)
    pic = s["pic"]
    assert pic["grid"] == [2, 8] and pic["hi"] == fmt(7.0) == fmt(s["max"])
    shown = maps[:, :8].reshape(16, 8, 8)
    np.testing.assert_array_equal(_bytes(pic).reshape(16, 8, 8), np.rint(255 * shown / 7.0))


def test_one_channel_images_and_filters_are_a_stack():
    pic = summarize(np.random.default_rng(4).normal(size=(30, 1, 5, 5)))["pic"]  # SimpleConvNet's filters
    assert (pic["grid"], pic["count"], pic["tile"]) == ([2, 8], 16, [5, 5]) and "first 16 of 30" in pic["note"]
    assert summarize(np.ones((2, 1, 28, 28)))["pic"]["grid"] == [1, 2]  # two MNIST images in a row
