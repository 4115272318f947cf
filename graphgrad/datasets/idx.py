"""The IDX file format of MNIST and Fashion-MNIST: a magic number, the dimensions, then raw values.

Header: two zero bytes, a type code, the number of dimensions, then one big-endian uint32 per
dimension. Files may be gzipped (recognised by their first two bytes, not by their name).
"""
from __future__ import annotations

import gzip
import math
import os
import zlib
from typing import BinaryIO, Callable

import numpy as np

_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
          0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
          np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}
_GZIP_MAGIC = b"\x1f\x8b"


MAX_BYTES = 1 << 30  # refuse files whose header declares more data than this (1 GiB)
HeaderCheck = Callable[[np.dtype, tuple], None]


def read_idx(path: str | os.PathLike, max_bytes: int = MAX_BYTES, check: HeaderCheck | None = None) -> np.ndarray:
    """Read one IDX file (gzipped or plain) into an ndarray of its stored dtype (native byte order).

    The header is read first: a declared size over `max_bytes`, or one that `check(dtype, shape)`
    refuses (it raises ValueError), is refused before any data is read or allocated. Gzipped data
    is decompressed only as far as the header says, so a gzip bomb costs nothing.
    """
    name = os.fspath(path)
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        size = None if gzipped else os.fstat(raw.fileno()).st_size
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw
        try:
            return _read(stream, name, size, max_bytes, check)
        except (OSError, EOFError, zlib.error) as err:  # gzip.BadGzipFile is an OSError
            if not gzipped:
                raise
            raise ValueError(f"IDX file {name}: corrupt gzip data ({err}); download it again") from None


def _read(stream: BinaryIO, name: str, size: int | None, max_bytes: int, check: HeaderCheck | None) -> np.ndarray:
    magic = stream.read(4)
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in _TYPES:
        raise ValueError(
            f"IDX file {name}: bad magic number {magic.hex() or '(empty file)'}; expected 0000 "
            f"then a type code (08 for uint8) and the number of dimensions. Is this an IDX file?"
        )
    dtype, ndim = np.dtype(_TYPES[magic[2]]), magic[3]
    dims = stream.read(4 * ndim)
    header = 4 + 4 * ndim
    if len(dims) < 4 * ndim:
        raise ValueError(f"IDX file {name}: truncated header ({4 + len(dims)} bytes, needs {header})")
    shape = tuple(int(d) for d in np.frombuffer(dims, dtype=">u4"))
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > max_bytes:
        raise ValueError(
            f"IDX file {name}: header declares shape {shape} ({nbytes:,} bytes), over the limit of "
            f"{max_bytes:,} bytes; refused before reading. Is this the right file?"
        )
    if check is not None:
        check(dtype.newbyteorder("="), shape)
    expected = header + nbytes
    if size is not None and size != expected:  # a plain file's length is known before reading it
        raise _length_error(name, shape, expected, size)
    body = stream.read(nbytes)
    if len(body) < nbytes:
        raise _length_error(name, shape, expected, header + len(body))
    if size is None and stream.read(1):
        raise _length_error(name, shape, expected, None)
    return np.frombuffer(body, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="), copy=True)


def _length_error(name: str, shape: tuple, expected: int, held: int | None) -> ValueError:
    """`held` bytes where the header says `expected`; None: a gzip stream that goes on past them."""
    what = "truncated" if held is not None and held < expected else "has trailing bytes"
    holds = "more (it decompresses past the end)" if held is None else f"{held} bytes"
    return ValueError(
        f"IDX file {name}: {what}: header says shape {shape} ({expected} bytes in all) but the "
        f"file holds {holds}; download it again"
    )


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> None:
    """Write `array` as an IDX file; gzipped when `compress` is True or the name ends in `.gz`."""
    array = np.asarray(array)
    if array.dtype not in _CODES:
        raise ValueError(f"write_idx: dtype {array.dtype} has no IDX type code; use one of {list(_CODES)}")
    header = bytes([0, 0, _CODES[array.dtype], array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    body = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    if compress if compress is not None else os.fspath(path).endswith(".gz"):
        body = gzip.compress(body, mtime=0)
    with open(path, "wb") as f:
        f.write(body)


def read_image_label_pair(images_path, labels_path, max_count: int = 60_000,
                          image_shape: tuple[int, int] = (28, 28),
                          classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, rows, cols) uint8 and labels (N,) uint8 in [0, classes) from two IDX files.

    The headers are checked before any data is read: uint8 values, `image_shape` images, at most
    `max_count` samples (MNIST's and Fashion-MNIST's sizes are the defaults' and the callers').
    """
    def check_images(dtype: np.dtype, shape: tuple) -> None:
        if len(shape) == 1:
            raise ValueError(f"IDX pair: {images_path} holds labels {shape}, not images; are the two files swapped?")
        _check_header(images_path, "images", dtype, shape, (max_count, *image_shape))

    def check_labels(dtype: np.dtype, shape: tuple) -> None:
        if len(shape) == 3:
            raise ValueError(f"IDX pair: {labels_path} holds images {shape}, not labels; are the two files swapped?")
        _check_header(labels_path, "labels", dtype, shape, (max_count,))

    images = read_idx(images_path, check=check_images)
    labels = read_idx(labels_path, check=check_labels)
    if len(images) != len(labels):
        raise ValueError(
            f"IDX pair: {len(images)} images in {images_path} but {len(labels)} labels in "
            f"{labels_path}; the files belong to different splits or one is incomplete"
        )
    if labels.size and labels.max() >= classes:
        raise ValueError(
            f"IDX pair: {labels_path} holds label {labels.max()} at index {int(labels.argmax())}; "
            f"labels must lie in 0..{classes - 1}. Is this the right file?"
        )
    return images, labels


def _check_header(path, what: str, dtype: np.dtype, shape: tuple, limit: tuple) -> None:
    """`shape` must have `limit`'s rank, at most limit[0] rows and exactly limit[1:] after."""
    if dtype != np.uint8 or len(shape) != len(limit) or shape[0] > limit[0] or shape[1:] != limit[1:]:
        expected = "(N" + "".join(f", {d}" for d in limit[1:]) + ")"
        raise ValueError(
            f"IDX pair: {path} declares {what} of shape {shape} and dtype {dtype}; expected {expected} "
            f"uint8 with N <= {limit[0]:,}. Is this the right file?"
        )
