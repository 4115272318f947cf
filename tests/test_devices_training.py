"""Training on another device (array-api-strict's second device standing in for a GPU): Module.to in place,
optimizer state on the parameters' device, save/load with map_location, DataLoader batches, predict,
and `graphgrad train --device`."""
from __future__ import annotations

import numpy as np
import pytest

import graphgrad as gg
from graphgrad.data import DataLoader, TensorDataset, to_device
from graphgrad.train import evaluate, predict

xs = pytest.importorskip("array_api_strict", reason="array-api-strict (the dev extra) is the CPU stand-in for a GPU")
D1 = xs.Device("device1")


def net(seed=0):
    rng = np.random.default_rng(seed)
    return gg.nn.Sequential(gg.nn.Linear(5, 4, dtype="float64", generator=rng), gg.nn.Tanh(),
                            gg.nn.Linear(4, 3, dtype="float64", generator=rng))


def batch(seed=1, n=8):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 5)), rng.integers(0, 3, n)


def test_module_to_moves_parameters_in_place():
    model = net()
    params = list(model.parameters())
    before = [p.data.copy() for p in params]
    assert model.to(D1) is model
    assert list(model.parameters()) == params  # the same Parameter objects
    for p, b in zip(params, before):
        assert p.device == D1
        np.testing.assert_array_equal(p.numpy(), b)
    model.to("cpu", "float32")
    assert all(isinstance(p.data, np.ndarray) and p.dtype == np.float32 for p in params)
    assert model.cpu() is model


def test_module_to_moves_buffers_and_keeps_them_registered():
    bn = gg.nn.BatchNorm1d(3)
    names = [n for n, _ in bn.named_buffers()]
    bn.to(D1)
    assert [n for n, _ in bn.named_buffers()] == names and names
    assert all(type(b).__module__.startswith("array_api_strict") for b in bn.buffers())
    assert all(b.device == D1 for b in bn.buffers())


@pytest.mark.parametrize("make", [
    lambda ps: gg.optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: gg.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda ps: gg.optim.Adam(ps, lr=0.01),
    lambda ps: gg.optim.AdamW(ps, lr=0.01),
], ids=["sgd-momentum", "sgd-nesterov", "adam", "adamw"])
def test_optimizer_made_before_the_move_steps_on_the_device(make):
    """Three steps on device1 give NumPy's parameters exactly, with every state array on device1."""
    x, t = batch()
    results = []
    for where in (None, D1):
        model = net()
        opt = make(model.parameters())  # made before the move: it holds the same Parameters
        if where is not None:
            model.to(where)
        for _ in range(3):
            xb, tb = to_device((gg.tensor(x), gg.tensor(t)), where) if where is not None else (gg.tensor(x), gg.tensor(t))
            loss = gg.cross_entropy(model(xb), tb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        results.append((model, opt))
    (cpu_model, _), (dev_model, dev_opt) = results
    for p, q in zip(cpu_model.parameters(), dev_model.parameters()):
        assert q.device == D1
        np.testing.assert_allclose(q.numpy(), p.numpy(), rtol=1e-12, atol=1e-14)
    arrays = [v for s in dev_opt.state.values() for v in s.values() if hasattr(v, "shape")]
    assert arrays and all(type(v).__module__.startswith("array_api_strict") and v.device == D1 for v in arrays)


def test_optimizer_state_round_trip_lands_on_the_parameters_device(tmp_path):
    model = net()
    opt = gg.optim.Adam(model.parameters(), lr=0.01)
    x, t = batch()
    gg.cross_entropy(model(gg.tensor(x)), gg.tensor(t)).backward()
    opt.step()
    gg.save({"model": model.state_dict(), "optim": opt.state_dict()}, tmp_path / "s.npz")

    moved = net(seed=5).to(D1)
    opt2 = gg.optim.Adam(moved.parameters(), lr=0.01)
    state = gg.load(tmp_path / "s.npz")
    moved.load_state_dict(state["model"])
    opt2.load_state_dict(state["optim"])
    for p, q in zip(model.parameters(), moved.parameters()):
        assert q.device == D1
        np.testing.assert_array_equal(q.numpy(), p.numpy())
    for s in opt2.state.values():
        assert s["exp_avg"].device == D1 and s["exp_avg_sq"].device == D1


def test_load_state_dict_copies_in_place_on_the_device():
    model = net().to(D1)
    held = [p.data for p in model.parameters()]
    source = net(seed=9)
    model.load_state_dict(source.state_dict())
    for h, p, s in zip(held, model.parameters(), source.parameters()):
        assert p.data is h  # in place: whoever holds the array sees the loaded values
        np.testing.assert_array_equal(p.numpy(), s.numpy())


def test_save_moves_to_host_and_map_location_places(tmp_path):
    model = net().to(D1)
    path = tmp_path / "m.npz"
    gg.save({"w": model.state_dict(), "step": 3, "t": gg.tensor([1.0, 2.0], device=D1)}, path)
    with np.load(path, allow_pickle=False) as archive:  # plain host arrays in the file
        assert all(archive[k].dtype != object for k in archive.files)
    host = gg.load(path)
    assert all(isinstance(v, np.ndarray) for v in host["w"].values())
    placed = gg.load(path, map_location=D1)
    assert all(v.device == D1 for v in placed["w"].values()) and placed["t"].device == D1 and placed["step"] == 3
    back = gg.load(path, map_location="cpu")
    for key, value in model.state_dict().items():
        assert isinstance(back["w"][key], np.ndarray)
        np.testing.assert_array_equal(back["w"][key], np.asarray(value.to_device(xs.Device("CPU_DEVICE"))))
    with pytest.raises(RuntimeError, match="CuPy is not installed"):
        gg.load(path, map_location="cuda")


def test_dataloader_moves_whole_batches():
    x, t = batch(n=10)
    plain = list(DataLoader(TensorDataset(x, t), batch_size=4, shuffle=True, seed=3))
    moved = list(DataLoader(TensorDataset(x, t), batch_size=4, shuffle=True, seed=3, device=D1, pin_memory=True))
    assert len(plain) == len(moved) == 3
    for (px, pt), (mx, mt) in zip(plain, moved):
        assert mx.device == D1 and mt.device == D1
        np.testing.assert_array_equal(mx.numpy(), px.numpy())
        np.testing.assert_array_equal(mt.numpy(), pt.numpy())


def test_to_device_keeps_the_batch_structure():
    x, t = batch(n=3)
    moved = to_device({"x": gg.tensor(x), "pair": (x, [t])}, D1)
    assert moved["x"].device == D1 and isinstance(moved["pair"], tuple) and isinstance(moved["pair"][1], list)
    assert moved["pair"][0].device == D1 and moved["pair"][1][0].device == D1


def test_predict_and_evaluate_follow_the_models_device():
    x, t = batch(n=12)
    model = net()
    expected = predict(model, x)
    model.to(D1)
    got = predict(model, x, batch_size=5)
    assert isinstance(got, np.ndarray)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert evaluate(model, (x, t))["accuracy"] == evaluate(net(), (x, t))["accuracy"]


# ---- graphgrad train --device ------------------------------------------------------------

def test_cli_device_choices():
    from graphgrad.cli import UsageError
    from graphgrad.cli.train import resolve_device

    assert resolve_device("auto") == gg.device("cpu")  # no CuPy here
    assert resolve_device("cpu") == gg.device("cpu")
    with pytest.raises(UsageError, match=r"--device cuda: CUDA is not available: CuPy is not installed"):
        resolve_device("cuda")
    with pytest.raises(UsageError, match="unknown --device 'gpu'"):
        resolve_device("gpu")


def test_cli_train_device_flag(tmp_path, capsys, monkeypatch):
    from graphgrad.cli import main
    from graphgrad.datasets import write_idx
    from graphgrad.datasets.mnist import IDX_NAMES

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    for split, n in (("train", 40), ("test", 10)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        write_idx(tmp_path / (IDX_NAMES[split][0] + ".gz"), rng.integers(0, 255, (n, 28, 28)).astype(np.uint8))
        write_idx(tmp_path / (IDX_NAMES[split][1] + ".gz"), labels)
    args = ["train", "--data", str(tmp_path), "--out", str(tmp_path / "run"), "--batch-size", "20", "--iters", "2",
            "--quiet", "--overwrite"]
    assert main([*args, "--device", "auto"]) == 0
    capsys.readouterr()
    assert main([*args, "--device", "cuda"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "CuPy is not installed" in err[0] and "pip install -e '.[cuda]'" in err[0]


def test_fit_on_the_device_matches_numpy_without_reading_every_step(monkeypatch):
    """fit() keeps the running sums on the device; the epoch's numbers equal the NumPy run's."""
    from graphgrad.train import fit, loop

    x, t = batch(n=40)
    reads = []
    histories = []
    for where in (None, D1):
        model = net().to(where) if where is not None else net()
        loader = DataLoader(TensorDataset(x, t), batch_size=4, shuffle=True, seed=0, device=where)
        if where is not None:
            real_item = gg.Tensor.item
            monkeypatch.setattr(gg.Tensor, "item", lambda self: reads.append(1) or real_item(self))
        histories.append(fit(model, gg.nn.CrossEntropyLoss(), gg.optim.SGD(model.parameters(), lr=0.1), loader,
                             epochs=2, quiet=True))
    plain, moved = histories
    for key in ("train_loss", "train_accuracy"):
        np.testing.assert_allclose(moved[key], plain[key], rtol=1e-12)
    assert len(reads) == 20 // loop.READ_EVERY  # 20 steps: the loss read once per READ_EVERY, not per step


def test_fit_checkpoints_a_device_run_and_resumes_it_on_the_device(tmp_path):
    """Checkpoints of a device run hold host arrays; resuming puts model and loader back on the device
    and ends with the uninterrupted run's parameters."""
    from graphgrad.train import fit

    x, t = batch(n=24)

    def run(epochs, out, resume=False):
        model = net().to(D1)
        loader = DataLoader(TensorDataset(x, t), batch_size=6, shuffle=True, seed=0, device=D1)
        fit(model, gg.nn.CrossEntropyLoss(), gg.optim.SGD(model.parameters(), lr=0.1), loader, epochs=epochs,
            out_dir=out, resume=resume, quiet=True, plot=False)
        return model

    whole = run(3, tmp_path / "whole")
    run(1, tmp_path / "part")
    resumed = run(3, tmp_path / "part", resume=True)
    for p, q in zip(whole.parameters(), resumed.parameters()):
        assert q.device == D1
        np.testing.assert_array_equal(q.numpy(), p.numpy())
