"""Where converted datasets live, and how they are written (atomically, with their hashes) and read back verified."""
from __future__ import annotations

import hashlib
import math
import os
import zipfile
from pathlib import Path

import numpy as np

from ..io import atomic_write


def cache_dir() -> Path:
    """`$XDG_CACHE_HOME/graphgrad`, else `~/.cache/graphgrad`."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "graphgrad"


DIGESTS = "sha256"  # the member holding "name=hex digest" for every other array
MAX_BYTES = 1 << 28  # a cached array declaring more than this (256 MiB) is refused unread
_DTYPES = (np.dtype(np.uint8), np.dtype("<U80"))


class CacheError(ValueError):
    """A cache file is unreadable, incomplete, or fails its integrity check."""


def digest(array: np.ndarray) -> str:
    """Hex SHA-256 of an array's bytes in C order (its dtype and shape are checked separately)."""
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def save_npz(path: Path, **arrays: np.ndarray) -> None:
    """Write uint8 arrays into an uncompressed `.npz`, atomically, with the SHA-256 of each."""
    arrays = {**arrays, DIGESTS: np.array([f"{k}={digest(v)}" for k, v in arrays.items()], dtype="<U80")}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: np.savez(f, **arrays))


def load_npz(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Read `keys` from a cache written by `save_npz`, verified against the hashes it records.

    Headers are checked before data is read (no pickle, uint8 only, at most MAX_BYTES an array);
    any problem raises CacheError with the file's name and the reason.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            recorded = dict(line.split("=", 1) for line in _member(archive, DIGESTS, path).tolist())
            out = {}
            for key in keys:
                out[key] = _member(archive, key, path)
                if recorded.get(key) != digest(out[key]):
                    raise CacheError(
                        f"{path}: {key} fails its integrity check (its SHA-256 differs from the one "
                        f"recorded when the cache was written)")
            return out
    except (OSError, EOFError, zipfile.BadZipFile, ValueError) as err:
        if isinstance(err, CacheError):
            raise
        raise CacheError(f"{path}: not a readable cache file ({err})") from None


def recorded_digests(path: Path) -> dict[str, str] | None:
    """The hashes a cache file records, or None when it has none or cannot be read."""
    try:
        with zipfile.ZipFile(path) as archive:
            return dict(line.split("=", 1) for line in _member(archive, DIGESTS, path).tolist())
    except (OSError, EOFError, zipfile.BadZipFile, ValueError):
        return None


def _member(archive: zipfile.ZipFile, key: str, path: Path) -> np.ndarray:
    """One `.npy` member, its header checked against the allowed dtypes and MAX_BYTES first."""
    try:
        info = archive.getinfo(key + ".npy")
    except KeyError:
        raise CacheError(f"{path}: missing array {key!r} (written by an older graphgrad, or damaged)") from None
    with archive.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise CacheError(f"{path}: {key} has .npy format version {version}, not 1.0 or 2.0")
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(f)
        nbytes = math.prod(shape) * dtype.itemsize
        if dtype not in _DTYPES or nbytes > MAX_BYTES or min(shape, default=0) < 0:
            raise CacheError(f"{path}: {key} declares shape {shape} of {dtype} ({nbytes:,} bytes); refused unread")
        data = f.read(nbytes)
    if len(data) != nbytes:
        raise CacheError(f"{path}: {key} is truncated ({len(data)} of {nbytes} bytes)")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
