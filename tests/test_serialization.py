"""save / load: round trips of state dicts, atomic writes, and clear errors for broken or foreign files."""
from __future__ import annotations

import os
import zipfile

import numpy as np
import pytest

import graphgrad as gg
import graphgrad.nn as nn
import graphgrad.optim as optim
from graphgrad.io import CheckpointError, load, save


def test_nested_round_trip(tmp_path):
    obj = {
        "model": {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "step": np.int64(7)},
        "history": [0.5, 0.25, float("inf")],
        "pair": (1, "two", None, True),
        3: {"nested": {"deep": np.array([1.5])}},
        "tensor": gg.tensor([1.0, 2.0]),
        "scalar_array": np.array(2.5),
        "text": np.array(["a", "bc"]),
    }
    path = tmp_path / "ckpt.npz"
    save(obj, path)
    back = load(path)
    assert list(back) == ["model", "history", "pair", 3, "tensor", "scalar_array", "text"]
    np.testing.assert_array_equal(back["model"]["w"], obj["model"]["w"])
    assert back["model"]["w"].dtype == np.float32
    assert back["model"]["step"] == 7 and isinstance(back["model"]["step"], np.int64)
    assert back["history"] == [0.5, 0.25, float("inf")] and back["pair"] == (1, "two", None, True)
    np.testing.assert_array_equal(back[3]["nested"]["deep"], [1.5])
    np.testing.assert_array_equal(back["tensor"], [1.0, 2.0])
    assert back["scalar_array"].shape == () and list(back["text"]) == ["a", "bc"]


def test_model_and_optimizer_round_trip(tmp_path):
    model = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.Linear(5, 2))
    opt = optim.Adam(model.parameters(), lr=0.01)
    loss = nn.CrossEntropyLoss()(model(np.ones((3, 4), dtype=np.float32)), np.array([0, 1, 1]))
    loss.backward()
    opt.step()
    save({"model": model.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "m.ckpt")
    back = load(tmp_path / "m.ckpt")
    fresh = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.Linear(5, 2))
    fresh.load_state_dict(back["model"])
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[k], v)
    fresh_opt = optim.Adam(fresh.parameters(), lr=0.5)
    fresh_opt.load_state_dict(back["optimizer"])
    assert fresh_opt.param_groups[0]["lr"] == 0.01 and fresh_opt.param_groups[0]["betas"] == (0.9, 0.999)


def test_file_never_uses_pickle(tmp_path):
    save({"w": np.ones(3)}, tmp_path / "a.npz")
    with np.load(tmp_path / "a.npz", allow_pickle=False) as z:
        assert set(z.files) == {"a0", "__graphgrad__"}


def test_write_is_atomic_when_saving_fails(tmp_path):
    path = tmp_path / "ckpt.npz"
    save({"w": np.ones(3)}, path)
    with pytest.raises(TypeError, match=r"obj\['bad'\] is a object"):
        save({"w": np.zeros(3), "bad": object()}, path)
    np.testing.assert_array_equal(load(path)["w"], np.ones(3))  # the old file is intact
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # and no temporary file is left behind


def test_crash_mid_write_leaves_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save({"w": np.ones(3)}, path)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        save({"w": np.zeros(3)}, path)
    monkeypatch.undo()
    np.testing.assert_array_equal(load(path)["w"], np.ones(3))
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_truncated_file_is_a_clear_error(tmp_path):
    path = tmp_path / "ckpt.npz"
    save({"w": np.random.default_rng(0).standard_normal(1000)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="not a readable graphgrad checkpoint"):
        load(path)


@pytest.mark.parametrize("content", [b"hello world", b"", b"\x80\x04K\x01."])
def test_foreign_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / "x.npz"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="not a readable graphgrad checkpoint"):
        load(path)


def test_plain_npz_and_npy_are_rejected(tmp_path):
    np.savez(tmp_path / "plain.npz", w=np.ones(2))
    with pytest.raises(CheckpointError, match="not one written by graphgrad.save"):
        load(tmp_path / "plain.npz")
    np.save(tmp_path / "plain.npy", np.ones(2))
    with pytest.raises(CheckpointError, match="not one written by graphgrad.save"):
        load(tmp_path / "plain.npy")


def test_corrupted_member_is_detected(tmp_path):
    path = tmp_path / "ckpt.npz"
    save({"w": np.arange(1000.0)}, path)
    with zipfile.ZipFile(path) as z:
        offset = z.getinfo("a0.npy").header_offset
    data = bytearray(path.read_bytes())
    data[offset + 400] ^= 0xFF  # flip bits inside the array's bytes
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError):
        load(path)


def test_missing_file_and_unsupported_objects():
    with pytest.raises(FileNotFoundError, match="no such file"):
        load("/nonexistent/ckpt.npz")
    with pytest.raises(TypeError, match="save a model's state_dict"):
        save(nn.Linear(2, 2), "/tmp/never-written.npz")
    with pytest.raises(TypeError, match="only str and int keys"):
        save({(1, 2): 3}, "/tmp/never-written.npz")
    assert not os.path.exists("/tmp/never-written.npz")
