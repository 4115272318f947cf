"""The IDX reader on small files the tests write: gzipped and plain, and every kind of damage."""
from __future__ import annotations

import gzip

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from graphgrad.datasets.idx import read_idx, read_image_label_pair, write_idx


@settings(max_examples=30, deadline=None)
@given(arr=hnp.arrays(st.sampled_from([np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]),
                      hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5)),
       gz=st.booleans())
def test_round_trip(tmp_path_factory, arr, gz):
    path = tmp_path_factory.mktemp("idx") / ("a.idx.gz" if gz else "a.idx")
    write_idx(path, arr)
    back = read_idx(path)
    assert back.dtype == arr.dtype and back.shape == arr.shape
    np.testing.assert_array_equal(back, arr)


def test_known_bytes_of_an_mnist_label_file(tmp_path):
    # magic 0x00000801 (uint8, 1 dimension), count 3, then the labels
    raw = bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1])
    (tmp_path / "labels").write_bytes(raw)
    (tmp_path / "labels.gz").write_bytes(gzip.compress(raw))
    for name in ("labels", "labels.gz"):  # gzip is recognised by content, not the name
        np.testing.assert_array_equal(read_idx(tmp_path / name), [7, 2, 1])
    (tmp_path / "renamed").write_bytes(gzip.compress(raw))
    np.testing.assert_array_equal(read_idx(tmp_path / "renamed"), [7, 2, 1])


def test_wrong_magic_number(tmp_path):
    (tmp_path / "x").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20))
    with pytest.raises(ValueError, match="bad magic number 89504e47"):
        read_idx(tmp_path / "x")


def test_empty_file(tmp_path):
    (tmp_path / "x").write_bytes(b"")
    with pytest.raises(ValueError, match="empty file"):
        read_idx(tmp_path / "x")


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_data(tmp_path, gz):
    write_idx(tmp_path / "full", np.zeros((4, 3, 3), np.uint8), compress=False)
    raw = (tmp_path / "full").read_bytes()[:-5]
    (tmp_path / "cut").write_bytes(gzip.compress(raw) if gz else raw)
    with pytest.raises(ValueError, match=r"truncated: header says shape \(4, 3, 3\)"):
        read_idx(tmp_path / "cut")


def test_truncated_header(tmp_path):
    (tmp_path / "x").write_bytes(bytes([0, 0, 8, 3, 0, 0, 0, 4]))
    with pytest.raises(ValueError, match="truncated header"):
        read_idx(tmp_path / "x")


def test_corrupt_gzip(tmp_path):
    data = gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
    (tmp_path / "x.gz").write_bytes(data[:-6])
    with pytest.raises(ValueError, match="corrupt gzip"):
        read_idx(tmp_path / "x.gz")


def test_mismatched_image_and_label_counts(tmp_path):
    write_idx(tmp_path / "img", np.zeros((5, 2, 2), np.uint8))
    write_idx(tmp_path / "lab", np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="5 images .* but 4 labels"):
        read_image_label_pair(tmp_path / "img", tmp_path / "lab")


def test_swapped_pair(tmp_path):
    write_idx(tmp_path / "img", np.zeros((5, 2, 2), np.uint8))
    write_idx(tmp_path / "lab", np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match="swapped"):
        read_image_label_pair(tmp_path / "lab", tmp_path / "img")
