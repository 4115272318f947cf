"""Where converted datasets live, and how they are written (atomically) and read back (no pickle)."""
from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from ..io import atomic_write


def cache_dir() -> Path:
    """`$XDG_CACHE_HOME/graphgrad`, else `~/.cache/graphgrad`."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "graphgrad"


def save_npz(path: Path, **arrays: np.ndarray) -> None:
    """Write arrays into an uncompressed `.npz`, atomically (creating the folder if need be)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: np.savez(f, **arrays))


def load_npz(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Read `keys` from an `.npz` with pickle disabled; a missing key or a bad file raises ValueError."""
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in keys if k not in f.files]
            if missing:
                raise ValueError(f"{path}: missing arrays {missing} (has {f.files})")
            return {k: f[k] for k in keys}
    except (OSError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"{path}: not a readable .npz file ({err})") from None
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
