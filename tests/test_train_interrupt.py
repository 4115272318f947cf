"""fit interrupted anywhere (signals, failed or killed checkpoint writes) resumes to the uninterrupted parameters."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import io
from graphgrad.train import Diverged, Interrupted, fit, load_checkpoint

sys.path.insert(0, str(Path(__file__).parent))
from test_train_fit import cross_entropy, make_run  # noqa: E402  (the same tiny model and data)

EPOCHS = 3  # 8 steps an epoch


def final_params(**kwargs):
    model, opt, loader, data = make_run()
    fit(model, cross_entropy, opt, loader, epochs=EPOCHS, test_data=data, quiet=True, plot=False, **kwargs)
    return model.W.data.copy(), model.b.data.copy()


@pytest.fixture(scope="module")
def expected():
    return final_params()


def resume(out, **kwargs):
    model, opt, loader, data = make_run()
    history = fit(model, cross_entropy, opt, loader, epochs=EPOCHS, test_data=data, out_dir=out, resume=True,
                  quiet=True, plot=False, **kwargs)
    return (model.W.data, model.b.data), history


def assert_same(params, expected):
    for mine, theirs in zip(params, expected):
        np.testing.assert_array_equal(mine, theirs)


def tmp_files(folder):
    return [p.name for p in Path(folder).iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
@pytest.mark.parametrize("at", [3, 11, 16])  # before the first epoch ends, mid-epoch, at an epoch's end
def test_a_signal_saves_where_it_arrived_and_resume_is_bit_identical(tmp_path, expected, signum, status, at):
    def send(iteration, loss):
        if iteration == at:
            os.kill(os.getpid(), signum)  # arrives while fit defers it: the step completes first

    model, opt, loader, data = make_run()
    with pytest.raises(Interrupted) as err:
        fit(model, cross_entropy, opt, loader, epochs=EPOCHS, test_data=data, out_dir=tmp_path, quiet=True,
            plot=False, on_step=send)
    assert err.value.exit_status == status and f"at iteration {at} " in str(err.value)
    assert load_checkpoint(tmp_path)["iteration"] == at
    params, history = resume(tmp_path)
    assert_same(params, expected)
    assert history["iteration"] == [8, 16, 24]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # fit put the handlers back


def test_resume_says_where_it_resumes_from(tmp_path, capsys):
    model, opt, loader, data = make_run()
    fit(model, cross_entropy, opt, loader, iters=13, out_dir=tmp_path, quiet=True, plot=False)
    model, opt, loader, data = make_run()
    fit(model, cross_entropy, opt, loader, epochs=EPOCHS, out_dir=tmp_path, resume=True, progress=False, plot=False)
    out = capsys.readouterr().out
    assert f"resuming from {tmp_path / 'checkpoint.npz'} at iteration 13 (epoch 2, batch 5 of 8)" in out


def test_resumed_mid_epoch_rows_count_the_whole_epoch(tmp_path):
    model, opt, loader, data = make_run()
    whole = fit(model, cross_entropy, opt, loader, epochs=EPOCHS, quiet=True)
    model, opt, loader, data = make_run()
    with pytest.raises(KeyboardInterrupt):  # raised by on_step: the step is complete, so it is saved there
        fit(model, cross_entropy, opt, loader, epochs=EPOCHS, out_dir=tmp_path, quiet=True, plot=False,
            on_step=lambda i, loss: (_ for _ in ()).throw(KeyboardInterrupt) if i == 12 else None)
    _, history = resume(tmp_path)
    assert history["train_loss"] == whole["train_loss"] and history["train_accuracy"] == whole["train_accuracy"]


def test_checkpoint_every_saves_between_epochs(tmp_path, monkeypatch):
    saved = []
    real = io.save
    monkeypatch.setattr("graphgrad.train.checkpoint.save", lambda state, path: (saved.append(state["iteration"]),
                                                                                real(state, path)))
    final_params(out_dir=tmp_path, checkpoint_every=3)
    assert saved == [3, 6, 8, 9, 12, 15, 16, 18, 21, 24]
    with pytest.raises(ValueError, match="checkpoint_every"):
        final_params(checkpoint_every=0)


STEPS = ("_write", "_fsync", "_rename", "_fsync_dir")


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("when", ["before", "after"])
def test_a_failed_checkpoint_write_keeps_the_previous_one_and_resume_is_bit_identical(tmp_path, monkeypatch,
                                                                                      expected, step, when):
    real, calls = getattr(io, step), []

    def failing(*args):  # the third checkpoint's write (iteration 10) fails; metrics.csv writes count too
        calls.append(1)
        if when == "after":
            real(*args)
        if len(calls) == 5:
            raise OSError(28, "No space left on device (injected)")
        if when == "before":
            real(*args)

    monkeypatch.setattr(io, step, failing)
    model, opt, loader, data = make_run()
    with pytest.raises(OSError, match="injected"):
        fit(model, cross_entropy, opt, loader, epochs=EPOCHS, test_data=data, out_dir=tmp_path, quiet=True,
            plot=False, checkpoint_every=5)
    monkeypatch.undo()
    state = load_checkpoint(tmp_path)  # the previous checkpoint, or the new one if its rename happened
    renamed = step == "_fsync_dir" or (step == "_rename" and when == "after")
    assert state["iteration"] == (10 if renamed else 8)
    assert tmp_files(tmp_path) == []
    params, _ = resume(tmp_path)
    assert_same(params, expected)


KILLED_FIT = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, sys.argv[4])
    from graphgrad import io
    from graphgrad.train import fit
    from test_train_fit import cross_entropy, make_run
    step, when, out = sys.argv[1:4]
    real, calls = getattr(io, step), []
    def killed(*args):
        calls.append(1)
        if when == "after":
            real(*args)
        if len(calls) == 5:
            os.kill(os.getpid(), signal.SIGKILL)
        if when == "before":
            real(*args)
    setattr(io, step, killed)
    model, opt, loader, data = make_run()
    fit(model, cross_entropy, opt, loader, epochs=3, test_data=data, out_dir=out, quiet=True, plot=False,
        checkpoint_every=5)
""")


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("when", ["before", "after"])
def test_a_kill_during_a_checkpoint_write_keeps_a_complete_checkpoint(tmp_path, expected, step, when):
    here = str(Path(__file__).parent)
    done = subprocess.run([sys.executable, "-c", KILLED_FIT, step, when, str(tmp_path), here], capture_output=True)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    renamed = step == "_fsync_dir" or (step == "_rename" and when == "after")
    assert load_checkpoint(tmp_path)["iteration"] == (10 if renamed else 8)
    assert tmp_files(tmp_path) == []  # load_checkpoint (resume) removed the killed write's temporary
    params, _ = resume(tmp_path)
    assert_same(params, expected)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_diverging_run_stops_and_never_saves_nan(tmp_path):
    model, opt, loader, data = make_run()
    opt.lr = 1e308
    with pytest.raises(Diverged, match="lower the learning rate"):
        fit(model, cross_entropy, opt, loader, epochs=EPOCHS, out_dir=tmp_path, quiet=True, plot=False)
    assert not (tmp_path / "checkpoint.npz").exists()
    model, opt, loader, data = make_run()
    opt.lr = float("inf")
    with pytest.raises(Diverged, match="parameter 'W' holds inf or nan"):  # one step: the loss was still finite
        fit(model, cross_entropy, opt, loader, iters=1, quiet=True)


def test_a_second_signal_stops_at_once(tmp_path):
    """Ctrl-C twice inside a step: the run stops there, unsaved; the handlers are put back."""
    def impatient(logits, labels):
        if len(seen) == 2:
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
        seen.append(1)
        return cross_entropy(logits, labels)

    seen = []
    model, opt, loader, data = make_run()
    before = signal.getsignal(signal.SIGINT)  # Python's default_int_handler, or SIG_IGN in a background job
    with pytest.raises(KeyboardInterrupt):
        fit(model, impatient, opt, loader, epochs=EPOCHS, out_dir=tmp_path, quiet=True, plot=False)
    assert len(seen) == 2 and not (tmp_path / "checkpoint.npz").exists()
    assert signal.getsignal(signal.SIGINT) is before
