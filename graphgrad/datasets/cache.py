"""Where converted datasets live, and how they are written (atomically) and read back (no pickle)."""
from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np


def cache_dir() -> Path:
    """`$XDG_CACHE_HOME/graphgrad`, else `~/.cache/graphgrad`."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "graphgrad"


def atomic_write_bytes(path: Path, writer) -> None:
    """Call `writer(file)` on a temporary file beside `path`, then rename it over `path`.

    A crash or Ctrl-C part-way leaves the old file (or none), never a half-written one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            writer(f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; give it the usual mode
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def save_npz(path: Path, **arrays: np.ndarray) -> None:
    """Write arrays into an uncompressed `.npz`, atomically."""
    atomic_write_bytes(path, lambda f: np.savez(f, **arrays))


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
