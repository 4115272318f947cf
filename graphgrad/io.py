"""save / load of nested state, and the one atomic writer every graphgrad file goes through.

A saved file is one `.npz` archive (read with allow_pickle=False): the JSON entry `__graphgrad__`
describes the nesting, and every array is its own entry `a0`, `a1`, ... . Nothing is ever
unpickled, so loading a file cannot run code, and the arrays' declared sizes are checked against
the file before anything is allocated, so a small file cannot expand into gigabytes.

`atomic_write` writes any file: a temporary file in the target's folder, fsync, one rename over
the target, fsync of the folder. A crash or kill at any point leaves the old file or the new one,
complete; temporaries left by killed earlier writes are removed by the next write.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import BinaryIO, Callable, Union

import numpy as np

from .autograd.tensor import Tensor
from .backend import devices, to_numpy

FORMAT, VERSION = "graphgrad-state", 1
_HEADER = "__graphgrad__"
MAX_EXPANSION = 4  # arrays may declare at most this many times the file's size (plus 1 MiB)
MAX_HEADER_BYTES = 64 << 20

Content = Union[bytes, str, Callable[[BinaryIO], object]]


class CheckpointError(ValueError):
    """A file that is not a readable graphgrad checkpoint (missing, truncated, corrupted, foreign or malformed)."""


# ---- the atomic writer -------------------------------------------------------------------------
# Its four steps are module functions so that tests can fail or kill a save between any two.

def _write(file: BinaryIO, content: Content) -> None:
    if isinstance(content, str):
        content = content.encode("utf-8")
    if isinstance(content, (bytes, bytearray, memoryview)):
        file.write(content)
    else:
        content(file)
    file.flush()


def _fsync(file: BinaryIO) -> None:
    os.fsync(file.fileno())


def _rename(tmp: str, path: str) -> None:
    os.replace(tmp, path)


def _fsync_dir(folder: str) -> None:
    """Make the rename itself durable (POSIX); folders cannot be opened for this on Windows."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a folder; the rename has still happened
    finally:
        os.close(fd)


_writing: set[str] = set()  # temporaries this process is writing now (other threads' are not stale)
_writing_lock = threading.Lock()


def _temp_prefix(path: Path) -> str:
    return f".{path.name}.{os.getpid()}."


def _stale_temporaries(path: Path) -> list[Path]:
    """Temporaries of `path` left by writes that died: their process is gone, or is us but not writing.

    Names are `.NAME.PID.RANDOM.tmp`; `.NAME.RANDOM.tmp` (earlier graphgrad versions) is always stale.
    """
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(?:(\d+)\.)?\w+\.tmp")
    stale = []
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return []
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None:
            continue
        pid = None if match.group(1) is None else int(match.group(1))
        with _writing_lock:
            if str(entry) in _writing:
                continue
        if pid is None or pid == os.getpid() or not _process_alive(pid):
            stale.append(entry)
    return stale


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process: leave its file alone
    return True


def remove_stale_temporaries(path: str | os.PathLike) -> int:
    """Delete temporary files that killed writes of `path` left in its folder; returns how many."""
    removed = 0
    for tmp in _stale_temporaries(Path(path)):
        try:
            tmp.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed


def atomic_write(path: str | os.PathLike, content: Content) -> Path:
    """Write `content` (bytes, str as UTF-8, or a function given the open binary file) to `path` atomically.

    Temporary file beside `path`, fsync, rename over `path`, fsync of the folder: readers and
    crashes see the old file or the new one, never half of one. Errors name `path`, not the
    temporary file.
    """
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(2, f"cannot write {path}: the folder {folder} does not exist")
    if path.is_dir():
        raise IsADirectoryError(21, f"cannot write {path}: it is a folder; give a file name")
    remove_stale_temporaries(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=_temp_prefix(path), suffix=".tmp")
    except OSError as err:
        raise type(err)(err.errno, f"cannot write {path}: {err.strerror}") from None
    with _writing_lock:
        _writing.add(tmp)
    try:
        with os.fdopen(fd, "wb") as file:
            _write(file, content)
            _fsync(file)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; give it the usual mode
        _rename(tmp, str(path))
        _fsync_dir(str(folder))
    except OSError as err:
        _discard(tmp)
        raise type(err)(err.errno, f"cannot write {path}: {err.strerror or err}") from None
    except BaseException:
        _discard(tmp)
        raise
    finally:
        with _writing_lock:
            _writing.discard(tmp)
    return path


def _discard(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass


# ---- save / load -------------------------------------------------------------------------------

def save(obj, path: str | os.PathLike) -> None:
    """Write `obj` (nested dicts/lists/tuples of arrays, Tensors, numbers, strings, None) to `path` atomically."""
    arrays: dict[str, np.ndarray] = {}
    structure = _encode(obj, arrays, "obj")
    header = json.dumps({"format": FORMAT, "version": VERSION, "structure": structure})
    arrays[_HEADER] = np.frombuffer(header.encode("utf-8"), dtype=np.uint8)
    atomic_write(path, lambda f: np.savez(f, **arrays))


def load(path: str | os.PathLike, map_location=None, max_expansion: float = MAX_EXPANSION):
    """Read what `save` wrote: arrays (and Tensors) come back as ndarrays, the nesting as saved.

    `map_location` ('cpu', 'cuda', 'cuda:N', a graphgrad.device) places every array on that device.
    Arrays whose declared sizes add up to more than `max_expansion` times the file's size
    (plus 1 MiB) are refused before anything is read: `save` stores arrays uncompressed.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(2, f"graphgrad.load: no such file {path!r}")
    if os.path.isdir(path):
        raise CheckpointError(f"graphgrad.load: {path!r} is a folder, not a file written by graphgrad.save")
    try:
        with open(path, "rb") as file:
            if file.read(6) == b"\x93NUMPY":
                raise CheckpointError(
                    f"graphgrad.load: {path!r} is a single .npy array, not one written by graphgrad.save")
        if not zipfile.is_zipfile(path):
            raise CheckpointError(
                f"graphgrad.load: {path!r} is not a readable graphgrad checkpoint (not an .npz archive: "
                f"truncated, corrupted, a single .npy array or another format)"
            )
        _check_sizes(path, max_expansion)
        with np.load(path, allow_pickle=False) as archive:
            if _HEADER not in archive.files:
                raise CheckpointError(f"graphgrad.load: {path!r} is an npz file but not one written by graphgrad.save")
            header = json.loads(archive[_HEADER].tobytes().decode("utf-8"))
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise CheckpointError(f"graphgrad.load: {path!r} has an unknown format")
            version = header.get("version")
            if not isinstance(version, int) or isinstance(version, bool):
                raise CheckpointError(f"graphgrad.load: {path!r} has no valid format version")
            if version > VERSION:
                raise CheckpointError(
                    f"graphgrad.load: {path!r} was written by a newer graphgrad (format version "
                    f"{version}, this one reads {VERSION}); upgrade graphgrad"
                )
            obj = _decode(header.get("structure"), archive)
    except CheckpointError:
        raise
    except _Malformed as err:
        raise CheckpointError(f"graphgrad.load: {path!r} is damaged: {err}") from None
    except Exception as err:  # zip, zlib, JSON, header, recursion and pickle refusals all mean this
        raise CheckpointError(
            f"graphgrad.load: {path!r} is not a readable graphgrad checkpoint (truncated, corrupted or "
            f"another format): {type(err).__name__}: {err}"
        ) from None
    return obj if map_location is None else devices.move(obj, map_location)


def _check_sizes(path: str, max_expansion: float) -> None:
    """Refuse archives whose members declare more bytes than the file could hold, before reading them."""
    limit = max_expansion * os.path.getsize(path) + (1 << 20)
    total = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            total += info.file_size
            if total > limit:
                raise CheckpointError(
                    f"graphgrad.load: {path!r} declares {total} bytes of content in a "
                    f"{os.path.getsize(path)}-byte file; refusing it (a size bomb or a corrupted file)"
                )
            if info.filename == _HEADER + ".npy":
                if info.file_size > MAX_HEADER_BYTES:
                    raise CheckpointError(
                        f"graphgrad.load: {path!r} has a {info.file_size}-byte description; refusing it")
                continue
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                reader = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                          else np.lib.format.read_array_header_2_0)
                shape, _, dtype = reader(member)
                header_bytes = member.tell()
            if dtype.hasobject:
                raise CheckpointError(f"graphgrad.load: {path!r} holds an object array ({info.filename}); refusing it")
            declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
            if declared + header_bytes > info.file_size:
                raise CheckpointError(
                    f"graphgrad.load: {path!r}: {info.filename} declares shape {shape} of {dtype} "
                    f"({declared} bytes) but holds {info.file_size - header_bytes}; the file is corrupted"
                )


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


class _Malformed(ValueError):
    """An entry of the description that `save` cannot have written."""


def _decode(node, archive):
    if not isinstance(node, dict) or len(node) == 0:
        raise _Malformed(f"malformed entry {node!r:.80} in the file's structure")
    if "array" in node:
        arr = archive[node["array"]]
        return arr[()] if node.get("scalar") else arr
    if "value" in node:
        value = node["value"]
        if value is not None and not isinstance(value, (bool, int, float, str)):
            raise _Malformed(f"malformed value {value!r:.80} in the file's structure")
        return value
    if "dict" in node:
        out = {}
        for item in node["dict"]:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], (str, int))):
                raise _Malformed(f"malformed dict item {item!r:.80} in the file's structure")
            out[item[0]] = _decode(item[1], archive)
        return out
    if "list" in node:
        return [_decode(v, archive) for v in node["list"]]
    if "tuple" in node:
        return tuple(_decode(v, archive) for v in node["tuple"])
    raise _Malformed(f"unknown entry {sorted(node)} in the file's structure")
