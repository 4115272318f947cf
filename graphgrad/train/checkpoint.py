"""Checkpoints: one file, `checkpoint.npz`, written by `graphgrad.save` and committed by one rename.

A kill at any moment leaves the previous checkpoint or the new one, complete; `graphgrad.load`
reads it like any saved state. `load_checkpoint` also checks that what it read has the shape of
a training checkpoint, so a foreign or tampered file is one clear `CheckpointError`.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..io import CheckpointError, load, remove_stale_temporaries, save

FILE = "checkpoint.npz"
LEGACY_JSON = "checkpoint.json"  # the two-file format of earlier versions (npz + json)


def checkpoint_path(location: str | os.PathLike) -> Path:
    """The checkpoint file of a run: `location` itself if it is a file, else `location/checkpoint.npz`."""
    location = Path(location)
    return location if location.suffix == ".npz" or location.is_file() else location / FILE


def save_checkpoint(location: str | os.PathLike, state: dict) -> Path:
    """Write `state` (nested dicts/lists of arrays, Tensors, numbers, strings) as the run's checkpoint
    (in folder `location`, made if missing, or to `location` itself if it ends in .npz)."""
    path = checkpoint_path(location)
    path.parent.mkdir(parents=True, exist_ok=True)
    save(state, path)
    return path


def load_checkpoint(location: str | os.PathLike) -> dict:
    """Read a run's checkpoint (a folder written by `fit`/`graphgrad train`, or the file itself).

    The result is a dict with at least 'iteration' (an int >= 0); 'meta', 'model', 'optimizer'
    and 'loader', when present, are dicts. Anything else is a CheckpointError naming the file.
    """
    path = checkpoint_path(location)
    remove_stale_temporaries(path)
    if not path.exists():
        if (path.parent / LEGACY_JSON).exists():
            raise CheckpointError(
                f"{path.parent} holds a checkpoint in the two-file format of an earlier graphgrad "
                f"(checkpoint.npz + checkpoint.json), which this one cannot resume; start the run again"
            )
        raise CheckpointError(f"no checkpoint in {path.parent} (missing {path.name})")
    try:
        state = load(path)
    except CheckpointError as err:
        if (path.parent / LEGACY_JSON).exists():
            raise CheckpointError(
                f"{path} is in the two-file format of an earlier graphgrad, which this one cannot "
                f"resume; start the run again"
            ) from None
        raise
    check_state(state, path)
    return state


def check_state(state, path) -> None:
    """Raise CheckpointError unless `state` looks like what `fit` saves."""
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} holds a {type(state).__name__}, not a training checkpoint (a dict)")
    iteration = state.get("iteration")
    if isinstance(iteration, bool) or not isinstance(iteration, int) or iteration < 0:
        raise CheckpointError(f"{path}: 'iteration' is {iteration!r}, not a whole number >= 0; the file is damaged")
    for key in ("meta", "model", "optimizer", "loader", "scheduler", "epoch_progress"):
        if key in state and not isinstance(state[key], dict):
            raise CheckpointError(f"{path}: '{key}' is a {type(state[key]).__name__}, not a dict; the file is damaged")
    if "history" in state and not (isinstance(state["history"], list)
                                   and all(isinstance(r, dict) for r in state["history"])):
        raise CheckpointError(f"{path}: 'history' is not a list of rows; the file is damaged")
