"""graphgrad.io.atomic_write: every step of a write can fail or be killed and the old file survives whole."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import io

STEPS = ("_write", "_fsync", "_rename", "_fsync_dir")


def temporaries(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_writes_bytes_text_and_callables_with_the_usual_mode(tmp_path):
    io.atomic_write(tmp_path / "a.bin", b"\x00\x01")
    io.atomic_write(tmp_path / "b.txt", "ünïcode")
    io.atomic_write(tmp_path / "c.npy", lambda f: np.save(f, np.arange(3)))
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "b.txt").read_text(encoding="utf-8") == "ünïcode"
    np.testing.assert_array_equal(np.load(tmp_path / "c.npy"), np.arange(3))
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "a.bin").stat().st_mode & 0o777 == 0o666 & ~umask
    assert temporaries(tmp_path) == []


def test_errors_name_the_target_never_the_temporary(tmp_path):
    with pytest.raises(FileNotFoundError, match="the folder .*missing does not exist") as err:
        io.atomic_write(tmp_path / "missing" / "x.html", "x")
    assert ".tmp" not in str(err.value)
    (tmp_path / "folder").mkdir()
    with pytest.raises(IsADirectoryError, match="it is a folder") as err:
        io.atomic_write(tmp_path / "folder", "x")
    assert ".tmp" not in str(err.value)


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("when", ["before", "after"])
def test_an_exception_at_any_step_leaves_the_old_file_or_the_new_one(tmp_path, monkeypatch, step, when):
    path = tmp_path / "state.npz"
    gg.save({"w": np.ones(3)}, path)
    real = getattr(io, step)

    def failing(*args):
        if when == "after":
            real(*args)
        raise OSError(5, "injected failure")

    monkeypatch.setattr(io, step, failing)
    with pytest.raises(OSError, match="cannot write .*state.npz: injected failure"):
        gg.save({"w": np.zeros(3)}, path)
    monkeypatch.undo()
    renamed = step == "_fsync_dir" or (step == "_rename" and when == "after")
    np.testing.assert_array_equal(gg.load(path)["w"], np.zeros(3) if renamed else np.ones(3))
    assert temporaries(tmp_path) == []


KILLER = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    import graphgrad as gg
    from graphgrad import io
    step, when, path = sys.argv[1:4]
    real = getattr(io, step)
    def killed(*args):
        if when == "after":
            real(*args)
        os.kill(os.getpid(), signal.SIGKILL)
    setattr(io, step, killed)
    gg.save({"w": np.zeros(3)}, path)
""")


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("when", ["before", "after"])
def test_a_kill_at_any_step_leaves_a_complete_file_and_the_next_write_cleans_up(tmp_path, step, when):
    path = tmp_path / "state.npz"
    gg.save({"w": np.ones(3)}, path)
    done = subprocess.run([sys.executable, "-c", KILLER, step, when, str(path)], capture_output=True)
    assert done.returncode == -signal.SIGKILL, done.stderr
    renamed = step == "_fsync_dir" or (step == "_rename" and when == "after")
    np.testing.assert_array_equal(gg.load(path)["w"], np.zeros(3) if renamed else np.ones(3))
    assert len(temporaries(tmp_path)) == (0 if renamed else 1)  # the killed write's leftover
    gg.save({"w": np.full(3, 2.0)}, path)
    assert temporaries(tmp_path) == []
    np.testing.assert_array_equal(gg.load(path)["w"], np.full(3, 2.0))


def test_only_temporaries_of_dead_writers_are_removed(tmp_path):
    path = tmp_path / "x.csv"
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        files = {
            f".x.csv.{alive.pid}.abc123.tmp": True,     # another process writing now: kept
            f".x.csv.{int(dead.stdout)}.k9_z.tmp": False,  # its writer is gone
            f".x.csv.{os.getpid()}.mine.tmp": False,    # ours, but no write of ours is in flight
            ".x.csv.q1w2e3r4.tmp": False,                # an earlier graphgrad's naming
            ".y.csv.1.abc.tmp": True,                    # another file's
            "x.csv.tmp": True,                           # not ours at all
        }
        for name in files:
            (tmp_path / name).write_text("partial")
        assert io.remove_stale_temporaries(path) == 3
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(n for n, kept in files.items() if kept)
    finally:
        alive.kill()
        alive.wait()


def test_every_writer_goes_through_atomic_write(tmp_path, monkeypatch):
    """Checkpoints, metrics, the data cache, static graphs, HTML and DOT: each one rename by atomic_write."""
    from graphgrad import graph as G
    from graphgrad import viz
    from graphgrad.datasets.cache import save_npz
    from graphgrad.train import History, save_checkpoint

    written = []
    real = io._rename
    monkeypatch.setattr(io, "_rename", lambda tmp, path: (written.append(os.path.basename(path)), real(tmp, path)))
    save_checkpoint(tmp_path, {"iteration": 1})
    History([{"epoch": 1, "iteration": 1, "train_loss": 0.5}]).write_csv(tmp_path / "metrics.csv")
    save_npz(tmp_path / "cache" / "data.npz", x=np.ones(2))
    with G.Graph() as g:
        G.Variable((2,), init=np.ones(2), name="v")
    g.save(tmp_path / "graph")
    y = (gg.tensor([1.0, 2.0], requires_grad=True) * 3).sum()
    viz.to_html(y, tmp_path / "y.html")
    from graphgrad.cli import main

    assert main(["graph", "apple", "--dot", str(tmp_path / "y.dot")]) == 0
    assert written == ["checkpoint.npz", "metrics.csv", "data.npz", "graph.npz", "y.html", "y.dot"]


def _bomb(path, shape, dtype="<f8", data_bytes=64):
    """A graphgrad.save file whose array member declares `shape` but carries only `data_bytes` bytes."""
    gg.save({"w": np.zeros(8)}, path)
    with zipfile.ZipFile(path) as z:
        header = z.read("__graphgrad__.npy")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("__graphgrad__.npy", header)
        npy = bytearray(b"\x93NUMPY\x01\x00")
        text = repr({"descr": dtype, "fortran_order": False, "shape": shape}).encode()
        text += b" " * (117 - len(text)) + b"\n"
        npy += len(text).to_bytes(2, "little") + text + bytes(data_bytes)
        z.writestr("a0.npy", bytes(npy))


def test_declared_sizes_beyond_the_file_are_refused_before_reading(tmp_path):
    path = tmp_path / "bomb.npz"
    _bomb(path, (10**9,))  # 8 GB declared in a file of a few hundred bytes
    started = time.perf_counter()
    with pytest.raises(gg.CheckpointError, match=r"declares shape \(1000000000,\)"):
        gg.load(path)
    assert time.perf_counter() - started < 1


def test_a_compressed_expansion_bomb_is_refused(tmp_path):
    path = tmp_path / "zeros.npz"
    gg.save({"w": np.zeros(8)}, path)
    with zipfile.ZipFile(path) as z:
        header = z.read("__graphgrad__.npy")
    big = np.zeros(40 * 2**20 // 8)  # 40 MiB of zeros deflate to about 40 KiB
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("__graphgrad__.npy", header)
        with z.open("a0.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array(f, big)
    assert path.stat().st_size < 1 << 20
    with pytest.raises(gg.CheckpointError, match="size bomb"):
        gg.load(path)
    assert gg.load(path, max_expansion=2000)["w"].shape == big.shape  # a caller may allow more


@pytest.mark.parametrize("structure", [
    "[]", "5", '{"format": "graphgrad-state", "version": "1", "structure": {}}',
    '{"format": "graphgrad-state", "version": 1, "structure": {"dict": [[1]]}}',
    '{"format": "graphgrad-state", "version": 1, "structure": {"array": "a7"}}',
    '{"format": "graphgrad-state", "version": 1, "structure": {"value": [1, 2]}}',
    '{"format": "graphgrad-state", "version": 1, "structure": ' + '{"list": [' * 5000 + ']}' * 5000 + '}',
])
def test_a_damaged_description_is_one_checkpoint_error(tmp_path, structure):
    path = tmp_path / "bad.npz"
    np.savez(path, __graphgrad__=np.frombuffer(structure.encode(), np.uint8))
    with pytest.raises(gg.CheckpointError, match="bad.npz"):
        gg.load(path)
