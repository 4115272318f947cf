"""The IDX reader on small files the tests write: gzipped and plain, and every kind of damage."""
from __future__ import annotations

import gzip
import time
import tracemalloc
import zlib

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
        read_image_label_pair(tmp_path / "img", tmp_path / "lab", image_shape=(2, 2))


def test_swapped_pair(tmp_path):
    write_idx(tmp_path / "img", np.zeros((5, 2, 2), np.uint8))
    write_idx(tmp_path / "lab", np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match="swapped"):
        read_image_label_pair(tmp_path / "lab", tmp_path / "img", image_shape=(2, 2))


def gzip_stream(head: bytes, zeros: int) -> bytes:
    """`head` then `zeros` zero bytes, gzipped chunk by chunk (never held decompressed)."""
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
    chunk = bytes(1 << 20)
    out = [packer.compress(head)]
    for _ in range(zeros >> 20):
        out.append(packer.compress(chunk))
    return b"".join(out) + packer.flush()


def test_a_gzip_bomb_is_refused_without_decompressing_it(tmp_path):
    header = bytes([0, 0, 8, 3]) + np.asarray([10, 28, 28], ">u4").tobytes()
    (tmp_path / "bomb.gz").write_bytes(gzip_stream(header + bytes(10 * 784), 256 << 20))  # 256 MB inside
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(ValueError, match=r"has trailing bytes: header says shape \(10, 28, 28\)"):
        read_idx(tmp_path / "bomb.gz")
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 << 20 and elapsed < 2.0  # the 256 MB were never decompressed


@pytest.mark.parametrize("gz", [False, True])
def test_a_declared_size_over_the_limit_is_refused_before_reading(tmp_path, gz):
    raw = bytes([0, 0, 0x0E, 3]) + np.asarray([65535, 65535, 65535], ">u4").tobytes() + bytes(64)
    (tmp_path / "huge").write_bytes(gzip.compress(raw) if gz else raw)
    with pytest.raises(ValueError, match=r"declares shape \(65535, 65535, 65535\) \(2,251,696,736,043,000 bytes\), "
                                         r"over the limit of 1,073,741,824 bytes; refused before reading"):
        read_idx(tmp_path / "huge")
    with pytest.raises(ValueError, match="over the limit of 100 bytes"):
        write_idx(tmp_path / "small", np.zeros(101, np.uint8))
        read_idx(tmp_path / "small", max_bytes=100)


def write_pair(tmp_path, images, labels):
    write_idx(tmp_path / "img", images)
    write_idx(tmp_path / "lab", labels)
    return tmp_path / "img", tmp_path / "lab"


def test_float_images_are_refused_by_their_header(tmp_path):
    paths = write_pair(tmp_path, np.full((3, 28, 28), 1e30, np.float32), np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match=r"img declares images of shape \(3, 28, 28\) and dtype float32; "
                                         r"expected \(N, 28, 28\) uint8 with N <= 60,000"):
        read_image_label_pair(*paths)


def test_more_samples_than_mnist_has_are_refused_before_reading(tmp_path):
    (tmp_path / "img").write_bytes(bytes([0, 0, 8, 3]) + np.asarray([60_001, 28, 28], ">u4").tobytes())
    write_idx(tmp_path / "lab", np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match=r"shape \(60001, 28, 28\) and dtype uint8; expected .* N <= 60,000"):
        read_image_label_pair(tmp_path / "img", tmp_path / "lab")
    with pytest.raises(ValueError, match=r"N <= 10\. Is this"):
        read_image_label_pair(*write_pair(tmp_path, np.zeros((11, 28, 28), np.uint8), np.zeros(11, np.uint8)),
                              max_count=10)


@pytest.mark.parametrize("images, labels, message", [
    (np.zeros((2, 27, 28), np.uint8), np.zeros(2, np.uint8), r"images of shape \(2, 27, 28\)"),
    (np.zeros((2, 28, 28), np.uint8), np.array([3, 10], np.uint8), r"holds label 10 at index 1; labels must lie in 0..9"),
    (np.zeros((2, 28, 28), np.uint8), np.array([3, 1], np.int32), r"labels of shape \(2,\) and dtype int32"),
])
def test_wrong_image_sizes_label_values_and_dtypes_are_refused(tmp_path, images, labels, message):
    with pytest.raises(ValueError, match=message):
        read_image_label_pair(*write_pair(tmp_path, images, labels))
