"""The IDX file format of MNIST and Fashion-MNIST: a magic number, the dimensions, then raw values.

Header: two zero bytes, a type code, the number of dimensions, then one big-endian uint32 per
dimension. Files may be gzipped (recognised by their first two bytes, not by their name).
"""
from __future__ import annotations

import gzip
import os

import numpy as np

_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
          0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
          np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}
_GZIP_MAGIC = b"\x1f\x8b"


def read_bytes(path: str | os.PathLike) -> bytes:
    """The file's bytes, decompressed when it is gzipped."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise ValueError(f"IDX file {path}: corrupt gzip data ({err}); download it again") from None
    return raw


def parse_idx(raw: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode IDX bytes into an array of the stored dtype (native byte order)."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _TYPES:
        raise ValueError(
            f"IDX file {name}: bad magic number {raw[:4].hex() or '(empty file)'}; expected 0000 "
            f"then a type code (08 for uint8) and the number of dimensions. Is this an IDX file?"
        )
    dtype, ndim = np.dtype(_TYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"IDX file {name}: truncated header ({len(raw)} bytes, needs {header})")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "has trailing bytes"
        raise ValueError(
            f"IDX file {name}: {what}: header says shape {shape} ({expected} bytes in all) but the "
            f"file holds {len(raw)} bytes; download it again"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (gzipped or plain) into an ndarray."""
    return parse_idx(read_bytes(path), os.fspath(path))


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


def read_image_label_pair(images_path, labels_path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, rows, cols) uint8 and labels (N,) uint8 from two IDX files, checked to match."""
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or labels.ndim != 1:
        raise ValueError(
            f"IDX pair: expected images of 3 dimensions and labels of 1, got {images.shape} from "
            f"{images_path} and {labels.shape} from {labels_path}; are the two files swapped?"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"IDX pair: {len(images)} images in {images_path} but {len(labels)} labels in "
            f"{labels_path}; the files belong to different splits or one is incomplete"
        )
    return images, labels
