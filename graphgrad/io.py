"""save / load for state dicts: one `.npz` file (read with allow_pickle=False) holding the arrays
plus a JSON description of the nesting, written atomically.

The JSON lives in the archive as the entry `__graphgrad__` (UTF-8 bytes); every array is its
own entry `a0`, `a1`, ... . Nothing is ever unpickled, so loading a file cannot run code.
Writing goes to a temporary file in the same folder, is flushed to disk, then renamed over the
target: a crash mid-write leaves the old file (or none), never a broken one.
"""
from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from .autograd.tensor import Tensor
from .backend import devices, to_numpy

FORMAT, VERSION = "graphgrad-state", 1
_HEADER = "__graphgrad__"


class CheckpointError(ValueError):
    """A file that is not a readable graphgrad checkpoint (truncated, corrupted, or foreign)."""


def save(obj, path) -> None:
    """Write `obj` (nested dicts/lists/tuples of arrays, Tensors, numbers, strings, None) to `path` atomically."""
    arrays: dict[str, np.ndarray] = {}
    structure = _encode(obj, arrays, "obj")
    header = json.dumps({"format": FORMAT, "version": VERSION, "structure": structure})
    arrays[_HEADER] = np.frombuffer(header.encode("utf-8"), dtype=np.uint8)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(path, map_location=None):
    """Read what `save` wrote: arrays come back as ndarrays, Tensors as ndarrays, structure as saved.

    `map_location` ('cpu', 'cuda', 'cuda:N', a graphgrad.device) places every array on that device.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"graphgrad.load: no such file {path!r}")
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise CheckpointError(f"graphgrad.load: {path!r} is a single .npy array, not one written by graphgrad.save")
        with archive:
            if _HEADER not in archive.files:
                raise CheckpointError(f"graphgrad.load: {path!r} is an npz file but not one written by graphgrad.save")
            header = json.loads(archive[_HEADER].tobytes().decode("utf-8"))
            if header.get("format") != FORMAT:
                raise CheckpointError(f"graphgrad.load: {path!r} has an unknown format {header.get('format')!r}")
            if header.get("version", 0) > VERSION:
                raise CheckpointError(
                    f"graphgrad.load: {path!r} was written by a newer graphgrad (format version "
                    f"{header['version']}, this one reads {VERSION}); upgrade graphgrad"
                )
            obj = _decode(header["structure"], archive)
    except CheckpointError:
        raise
    except Exception as err:  # zip, zlib, JSON and pickle-refusal errors all mean the same thing here
        raise CheckpointError(
            f"graphgrad.load: {path!r} is not a readable graphgrad checkpoint (truncated, corrupted or "
            f"another format): {type(err).__name__}: {err}"
        ) from err
    return obj if map_location is None else devices.move(obj, map_location)


def _encode(obj, arrays: dict, where: str):
    if isinstance(obj, Tensor):
        obj = obj.data
    if devices.is_array(obj) and not isinstance(obj, (np.ndarray, np.generic)):
        obj = to_numpy(obj)  # device arrays are saved from host memory
    if isinstance(obj, (np.ndarray, np.generic)):
        arr = np.asarray(obj)
        if arr.dtype.hasobject:
            raise TypeError(f"graphgrad.save: {where} is an object array; only numeric and string arrays can be saved")
        name = f"a{len(arrays)}"
        arrays[name] = arr
        return {"array": name, "scalar": isinstance(obj, np.generic)}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"graphgrad.save: {where} has a key {key!r}; only str and int keys can be saved")
            items.append([key, _encode(value, arrays, f"{where}[{key!r}]")])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]}
    raise TypeError(
        f"graphgrad.save: {where} is a {type(obj).__name__}; only dicts, lists, tuples, arrays, Tensors, "
        f"numbers, strings and None can be saved (save a model's state_dict(), not the model)"
    )


def _decode(node: dict, archive):
    if "array" in node:
        arr = archive[node["array"]]
        return arr[()] if node.get("scalar") else arr
    if "value" in node:
        return node["value"]
    if "dict" in node:
        return {key: _decode(value, archive) for key, value in node["dict"]}
    if "list" in node:
        return [_decode(v, archive) for v in node["list"]]
    if "tuple" in node:
        return tuple(_decode(v, archive) for v in node["tuple"])
    raise CheckpointError(f"graphgrad.load: unknown entry {sorted(node)} in the file's structure")
