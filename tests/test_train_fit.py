"""fit: learns, records history, writes its files, and resumes to exactly the uninterrupted result."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import graphgrad as gg
from graphgrad.data import DataLoader, TensorDataset
from graphgrad.train import CheckpointError, History, fit, load_checkpoint


class TinyNet:
    """A softmax-regression model written against the PyTorch-like interface fit expects."""

    def __init__(self, n_in: int, n_out: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.W = gg.Tensor(rng.normal(0, 0.1, (n_in, n_out)), requires_grad=True)
        self.b = gg.Tensor(np.zeros(n_out), requires_grad=True)

    def __call__(self, x):
        return x @ self.W + self.b

    def parameters(self):
        return [self.W, self.b]

    def state_dict(self):
        return {"W": self.W.data, "b": self.b.data}

    def load_state_dict(self, state):
        for name, p in (("W", self.W), ("b", self.b)):
            if np.shape(state[name]) != p.shape:
                raise RuntimeError(f"{name}: checkpoint {np.shape(state[name])}, model {p.shape}")
            np.copyto(p.data, state[name])


class Momentum:
    """SGD with momentum, so that resuming must also restore optimizer state."""

    def __init__(self, params, lr=0.5, momentum=0.9):
        self.params, self.lr, self.momentum = list(params), lr, momentum
        self.velocity = [np.zeros_like(p.data) for p in self.params]

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        for p, v in zip(self.params, self.velocity):
            v *= self.momentum
            v -= self.lr * p.grad.data
            p.data += v

    def state_dict(self):
        return {"state": {i: {"velocity": v} for i, v in enumerate(self.velocity)}, "lr": self.lr}

    def load_state_dict(self, state):
        self.lr = state["lr"]
        for i, v in enumerate(self.velocity):
            np.copyto(v, state["state"][i]["velocity"])


def cross_entropy(logits, labels):
    n = len(labels.data)
    return -logits.log_softmax(axis=1)[np.arange(n), labels.data].mean()


def blobs(n=240, seed=1):
    """Three well-separated Gaussian clusters in 4 dimensions."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, (3, 4))
    t = rng.integers(0, 3, n)
    return centers[t] + rng.normal(0, 0.5, (n, 4)), t


def make_run(seed=0, batch_size=32):
    x, t = blobs()
    model = TinyNet(4, 3)
    opt = Momentum(model.parameters())
    loader = DataLoader(TensorDataset(x, t), batch_size=batch_size, shuffle=True, seed=seed)
    return model, opt, loader, (x, t)


def test_fit_learns_and_records_history():
    model, opt, loader, data = make_run()
    history = fit(model, cross_entropy, opt, loader, epochs=3, test_data=data, quiet=True)
    assert isinstance(history, History) and len(history) == 3
    assert history["iteration"] == [8, 16, 24]
    assert history.last["test_accuracy"] > 0.95
    assert history["train_loss"][-1] < history["train_loss"][0]


def test_iters_mode_stops_exactly_and_reports_partial_epoch():
    model, opt, loader, data = make_run()
    history = fit(model, cross_entropy, opt, loader, iters=20, test_data=data, quiet=True)
    assert history["iteration"] == [8, 16, 20]
    assert history["epoch"] == [1, 2, 2.5]


def test_epochs_and_iters_together_is_an_error():
    model, opt, loader, _ = make_run()
    with pytest.raises(ValueError, match="not both"):
        fit(model, cross_entropy, opt, loader, epochs=1, iters=5, quiet=True)


def test_writes_metrics_curves_and_checkpoint(tmp_path):
    model, opt, loader, data = make_run()
    fit(model, cross_entropy, opt, loader, epochs=2, test_data=data, out_dir=tmp_path, quiet=True)
    rows = list(csv.DictReader((tmp_path / "metrics.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert float(rows[-1]["test_accuracy"]) > 0.9
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    state = load_checkpoint(tmp_path)
    assert state["iteration"] == 16
    np.testing.assert_array_equal(state["model"]["W"], model.W.data)
    assert not list(tmp_path.glob("*.tmp"))  # atomic writes leave no temporaries


class Interrupt(Exception):
    pass


@pytest.mark.parametrize("stop_at", [11, 16])  # mid-epoch and exactly at an epoch's end
def test_resume_after_interruption_matches_uninterrupted_run(tmp_path, stop_at):
    model, opt, loader, data = make_run()
    fit(model, cross_entropy, opt, loader, epochs=4, test_data=data, quiet=True)
    expected = model.W.data.copy(), model.b.data.copy()

    def interrupt(iteration, loss):
        if iteration == stop_at:
            raise KeyboardInterrupt

    model, opt, loader, data = make_run()
    with pytest.raises(KeyboardInterrupt):
        fit(model, cross_entropy, opt, loader, epochs=4, test_data=data, out_dir=tmp_path,
            quiet=True, on_step=interrupt)
    model, opt, loader, data = make_run()  # a fresh process would start from scratch like this
    history = fit(model, cross_entropy, opt, loader, epochs=4, test_data=data, out_dir=tmp_path,
                  resume=True, quiet=True)
    np.testing.assert_array_equal(model.W.data, expected[0])
    np.testing.assert_array_equal(model.b.data, expected[1])
    assert history["iteration"] == [8, 16, 24, 32]


def test_resume_continues_an_iters_run_from_mid_epoch(tmp_path):
    model, opt, loader, _ = make_run()
    fit(model, cross_entropy, opt, loader, iters=29, quiet=True)
    expected = model.W.data.copy()
    model, opt, loader, _ = make_run()
    fit(model, cross_entropy, opt, loader, iters=13, out_dir=tmp_path, quiet=True, plot=False)
    model, opt, loader, _ = make_run()
    fit(model, cross_entropy, opt, loader, iters=29, out_dir=tmp_path, resume=True, quiet=True, plot=False)
    np.testing.assert_array_equal(model.W.data, expected)


def test_resume_refuses_another_architecture(tmp_path):
    model, opt, loader, _ = make_run()
    fit(model, cross_entropy, opt, loader, epochs=1, out_dir=tmp_path, quiet=True, plot=False)
    other = TinyNet(4, 5)
    with pytest.raises(CheckpointError, match="does not fit"):
        fit(other, cross_entropy, Momentum(other.parameters()), loader, epochs=2, out_dir=tmp_path,
            resume=True, quiet=True)


def test_resume_without_checkpoint_is_a_clear_error(tmp_path):
    model, opt, loader, _ = make_run()
    with pytest.raises(CheckpointError, match="nothing to resume"):
        fit(model, cross_entropy, opt, loader, epochs=1, out_dir=tmp_path, resume=True, quiet=True)


def test_the_checkpoint_is_one_file_that_graphgrad_load_reads(tmp_path):
    model, opt, loader, _ = make_run()
    fit(model, cross_entropy, opt, loader, epochs=1, out_dir=tmp_path, quiet=True, plot=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.npz", "metrics.csv"]
    state = gg.load(tmp_path / "checkpoint.npz")
    assert state["iteration"] == 8 and state["loader"]["batches_done"] == 0
    np.testing.assert_array_equal(state["model"]["W"], model.W.data)
    assert load_checkpoint(tmp_path / "checkpoint.npz")["iteration"] == 8  # the folder or the file
    assert CheckpointError is gg.CheckpointError


def test_a_two_file_checkpoint_of_an_earlier_version_is_named_as_such(tmp_path):
    np.savez(tmp_path / "checkpoint.npz", a0=np.ones(2))
    (tmp_path / "checkpoint.json").write_text(json.dumps({"format": "graphgrad-checkpoint-1"}))
    with pytest.raises(CheckpointError, match="two-file format of an earlier graphgrad"):
        load_checkpoint(tmp_path)


def test_progress_bar_shows_running_loss(capsys):
    pytest.importorskip("tqdm")
    model, opt, loader, data = make_run()
    fit(model, cross_entropy, opt, loader, epochs=3, test_data=data, progress=True)
    captured = capsys.readouterr()
    assert "loss=" in captured.err  # tqdm's postfix
    assert captured.out.count("test acc") == 3  # one line per epoch on stdout, the bar on stderr
    assert "test acc" not in captured.err


def test_fit_follows_pytorch_step_for_step(torch_oracle):
    """An MLP trained by fit in float64 ends where PyTorch ends from the same weights and batches."""
    torch = torch_oracle
    from graphgrad import nn, optim

    x, t = blobs(96)
    model = nn.Sequential(nn.Linear(4, 8, dtype="float64", generator=0), nn.ReLU(),
                          nn.Linear(8, 3, dtype="float64", generator=1))
    ref = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)).double()
    with torch.no_grad():
        for mine, theirs in zip(model.parameters(), ref.parameters()):
            theirs.copy_(torch.from_numpy(mine.data))
    loader = DataLoader(TensorDataset(x, t), batch_size=16, shuffle=True, seed=5)
    fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), loader, epochs=3, quiet=True)

    opt, loss_fn = torch.optim.Adam(ref.parameters(), lr=0.01), torch.nn.CrossEntropyLoss()
    rng = np.random.default_rng(5)  # the loader's shuffling, replayed
    for _ in range(3):
        order = rng.permutation(len(x))
        for i in range(0, len(x), 16):
            idx = order[i:i + 16]
            loss = loss_fn(ref(torch.from_numpy(x[idx])), torch.from_numpy(t[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    for mine, theirs in zip(model.parameters(), ref.parameters()):
        np.testing.assert_allclose(mine.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_without_tqdm_or_matplotlib_training_still_runs(tmp_path, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "tqdm", None)  # makes `import tqdm` raise ImportError
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    model, opt, loader, data = make_run()
    history = fit(model, cross_entropy, opt, loader, epochs=2, test_data=data, out_dir=tmp_path, progress=True)
    captured = capsys.readouterr()
    assert "no progress bar: tqdm is not installed (pip install -e '.[train]')" in captured.err
    assert captured.out.count("no curves.png: History.plot needs matplotlib") == 1
    assert len(history) == 2 and (tmp_path / "metrics.csv").exists() and not (tmp_path / "curves.png").exists()
