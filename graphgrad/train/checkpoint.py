"""Checkpoints: arrays in `checkpoint.npz` (no pickle), everything else in `checkpoint.json`.

Both files are written atomically (temporary file, then `os.replace`), arrays first; each holds
the same write token, so a crash between the two renames is detected on load, never misread.
Any nested state (a model's or an optimizer's `state_dict()`, a loader's RNG state) is stored:
arrays go to the `.npz` under a generated key and are replaced in the JSON by a reference.
"""
from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import numpy as np

from ..datasets.cache import atomic_write_bytes
from ..autograd.tensor import Tensor
from ..backend import to_numpy
from ..backend.devices import is_array

NPZ, JSON = "checkpoint.npz", "checkpoint.json"
FORMAT = "graphgrad-checkpoint-1"


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable, inconsistent, or made for something else."""


def save_checkpoint(directory: str | os.PathLike, state: dict) -> None:
    """Write `state` (nested dicts/lists of arrays, Tensors, numbers, strings) into `directory`."""
    arrays: dict[str, np.ndarray] = {}
    tree = _flatten(state, arrays)
    token = uuid.uuid4().hex
    arrays["__token__"] = np.frombuffer(token.encode(), dtype=np.uint8)
    doc = json.dumps({"format": FORMAT, "token": token, "state": tree}, indent=1)
    directory = Path(directory)
    atomic_write_bytes(directory / NPZ, lambda f: np.savez(f, **arrays))
    atomic_write_bytes(directory / JSON, lambda f: f.write(doc.encode()))


def load_checkpoint(directory: str | os.PathLike) -> dict:
    """Read back what `save_checkpoint` wrote; CheckpointError says what is wrong when it cannot."""
    directory = Path(directory)
    try:
        doc = json.loads((directory / JSON).read_text())
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint in {directory} (missing {JSON})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{directory / JSON} is not a readable checkpoint ({err})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CheckpointError(f"{directory / JSON} is not a graphgrad checkpoint (format {FORMAT} expected)")
    try:
        with np.load(directory / NPZ, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise CheckpointError(f"{directory / NPZ} is missing; the checkpoint is incomplete") from None
    except Exception as err:  # zip, header and pickle refusals all mean the same thing here
        raise CheckpointError(f"{directory / NPZ} is not a readable checkpoint ({err})") from None
    token = bytes(arrays.pop("__token__", np.zeros(0, np.uint8))).decode(errors="replace")
    if token != doc.get("token"):
        raise CheckpointError(
            f"{directory}: {NPZ} and {JSON} come from different saves (interrupted while writing?); "
            f"restart the run without --resume"
        )
    try:
        return _unflatten(doc["state"], arrays)
    except KeyError as err:
        raise CheckpointError(f"{directory}: malformed checkpoint (no array or entry {err})") from None


def _flatten(obj, arrays: dict):
    if isinstance(obj, (Tensor, np.ndarray)) or (is_array(obj) and not isinstance(obj, np.generic)):
        key = f"a{len(arrays)}"
        arrays[key] = to_numpy(obj.data if isinstance(obj, Tensor) else obj)  # device arrays from host memory
        return {"__array__": key, "tensor": isinstance(obj, Tensor)}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        # JSON keys are strings: remember int keys (PyTorch-style optimizer state uses them).
        items = [[_flatten(k, arrays), _flatten(v, arrays)] for k, v in obj.items()]
        return {"__dict__": items}
    if isinstance(obj, (list, tuple)):
        return {"__list__" if isinstance(obj, list) else "__tuple__": [_flatten(v, arrays) for v in obj]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"save_checkpoint: cannot store a {type(obj).__name__}; use arrays, numbers and strings")


def _unflatten(tree, arrays: dict):
    if isinstance(tree, dict):
        if "__array__" in tree:
            arr = arrays[tree["__array__"]]
            return Tensor(arr) if tree.get("tensor") else arr
        if "__dict__" in tree:
            return {_unflatten(k, arrays): _unflatten(v, arrays) for k, v in tree["__dict__"]}
        if "__list__" in tree:
            return [_unflatten(v, arrays) for v in tree["__list__"]]
        if "__tuple__" in tree:
            return tuple(_unflatten(v, arrays) for v in tree["__tuple__"])
        raise KeyError(str(tree))
    return tree
