"""fit: the training loop (forward, loss, backward, step), with evaluation, logging and checkpoints."""
from __future__ import annotations

import math
import os
import signal
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..backend import namespace, to_numpy
from .checkpoint import LEGACY_JSON, CheckpointError, checkpoint_path, load_checkpoint, save_checkpoint
from .history import History
from .interrupt import Interrupted, deferred_signals
from .metrics import evaluate
from ..autograd.tensor import unwrap


READ_EVERY = 20  # steps between the host's reads of a device loss (each read waits for the device)


class Diverged(ArithmeticError):
    """The loss or the parameters became inf or NaN (usually: the learning rate is too large)."""


def fit(model, loss_fn, optimizer, train_loader, epochs: int | None = None, iters: int | None = None,
        test_data=None, out_dir: str | os.PathLike | None = None, resume: bool = False,
        progress: bool | None = None, quiet: bool = False, meta: dict | None = None,
        on_step: Callable[[int, float], None] | None = None, plot: bool = True,
        plot_every_s: float = 10.0, scheduler=None, checkpoint_every: int | None = None,
        handle_signals: bool = True, distributed: bool = False) -> History:
    """Train `model` for `epochs` passes over `train_loader` (or exactly `iters` steps) and return the History.

    Each step: `loss = loss_fn(model(x), t)`, `optimizer.zero_grad()`, `loss.backward()`,
    `optimizer.step()`. After every epoch (and after the last step) the model is evaluated on
    `test_data` (an (inputs, labels) pair or a TensorDataset), one line is printed, and with
    `out_dir` the run writes metrics.csv, curves.png and an atomic checkpoint; also every
    `checkpoint_every` steps. Ctrl-C or SIGTERM (with `handle_signals`, in the main thread) ends
    the step in progress, saves there and raises `Interrupted`. `resume=True` continues from the
    checkpoint, mid-epoch included, and ends with exactly the parameters of an uninterrupted run.
    A tqdm bar shows the running loss with `progress=True`, or by default when stdout and stderr
    are terminals. `on_step(iteration, loss)` is called after every step (a KeyboardInterrupt it
    raises stops the run like Ctrl-C); `scheduler.step()` (a learning-rate schedule, saved in the
    checkpoint too) after every whole epoch. A non-finite loss or parameter raises `Diverged` before it is saved.
    curves.png is redrawn at most every `plot_every_s` seconds and always at the end.
    `distributed=True` (under mpirun, `model` a `graphgrad.distributed.DistributedDataParallel`, each
    rank loading its share of every batch): gradients are averaged over the ranks after backward, the
    epoch's train loss and accuracy are summed over them, and rank 0 alone evaluates, prints and
    writes; every rank resumes from the checkpoint in `out_dir`. Signals are not deferred then (each
    rank would stop at another step): an interrupted distributed run resumes from its last checkpoint.
    """
    main = True
    if distributed:
        if not hasattr(model, "sync_gradients"):
            raise TypeError(f"fit(distributed=True) needs the model wrapped in "
                            f"graphgrad.distributed.DistributedDataParallel, got {type(model).__name__}")
        from ..distributed import is_main

        main, handle_signals = is_main(), False
        quiet = quiet or not main
    steps_per_epoch = len(train_loader)
    total = _total_steps(epochs, iters, steps_per_epoch)
    if checkpoint_every is not None and (isinstance(checkpoint_every, bool) or int(checkpoint_every) < 1):
        raise ValueError(f"fit: checkpoint_every must be a whole number >= 1, got {checkpoint_every!r}")
    out = Path(out_dir) if out_dir is not None else None
    history, iteration, running = History(), 0, _Running()
    if resume:
        history, iteration, running = _resume(out, model, optimizer, train_loader, meta, scheduler)
        _say(quiet, f"resuming from {checkpoint_path(out)} at {_position(iteration, steps_per_epoch)}")
        if iteration >= total:
            _say(quiet, f"checkpoint in {out} is already at iteration {iteration} of {total}; nothing to do")
            return history
    bar = _progress_bar(total, iteration, progress, quiet)
    say = bar.write if bar is not None else (lambda s: _say(quiet, s))
    if out is not None and main:
        out.mkdir(parents=True, exist_ok=True)
    save = (lambda: main and _save(out, history, model, optimizer, train_loader, iteration, meta, scheduler, running))
    last_plot = time.perf_counter()
    try:
        with deferred_signals(handle_signals) as stop:
            while iteration < total:
                running.start()
                for x, t in train_loader:
                    logits = model(x)
                    loss = loss_fn(logits, t)
                    optimizer.zero_grad()
                    loss.backward()
                    if distributed:
                        model.sync_gradients()
                    optimizer.step()
                    iteration += 1
                    n = t.data.shape[0]
                    if type(loss.data) is np.ndarray or on_step is not None:
                        value = loss.item()
                        running.add(value, n, _correct(logits.data, t.data))
                    else:  # on a device the sums stay there: the loss is read every READ_EVERY steps only
                        running.add_on_device(loss.data, n, _count_correct(logits.data, t.data))
                        value = loss.item() if iteration % READ_EVERY == 0 else 0.0
                    if n and not math.isfinite(value):  # a rank's share of a batch may be empty
                        raise Diverged(f"training diverged: the loss is {value} at "
                                       f"{_position(iteration, steps_per_epoch)}; lower the learning rate "
                                       f"(nothing was saved from this step on)")
                    if on_step is not None:
                        try:
                            on_step(iteration, value)
                        except KeyboardInterrupt as err:
                            stop.request(getattr(err, "signum", signal.SIGINT))
                    if bar is not None:
                        bar.update(1)
                        if iteration % 20 == 0:
                            bar.set_postfix(loss=f"{value:.4f}", refresh=False)
                    if iteration >= total:
                        break
                    if iteration % steps_per_epoch == 0:
                        continue  # the epoch's end: saved below, with its row of metrics
                    due = checkpoint_every is not None and iteration % checkpoint_every == 0
                    if out is not None and (stop.requested or due):
                        save()
                    if stop.requested:
                        raise _interrupted(stop, iteration, steps_per_epoch, out)
                running.settle()
                if distributed:
                    running.sum_over_ranks()
                if scheduler is not None and iteration % steps_per_epoch == 0:
                    scheduler.step()
                row = {"epoch": _epoch_number(iteration, steps_per_epoch), "iteration": iteration,
                       "train_loss": running.loss_sum / max(running.seen, 1),
                       "train_accuracy": running.correct / max(running.seen, 1), "seconds": running.seconds}
                if test_data is not None and main:
                    result = evaluate(model, test_data, loss_fn)
                    row["test_loss"], row["test_accuracy"] = result.get("loss"), result["accuracy"]
                history.append(row)
                say(_line(row, steps_per_epoch, total))
                running = _Running()
                if out is not None and main:
                    save()
                    if plot and (iteration >= total or time.perf_counter() - last_plot >= plot_every_s):
                        try:
                            history.plot(out / "curves.png")
                        except ImportError as err:  # matplotlib is optional: keep training, say so once
                            say(f"no curves.png: {err}")
                            plot = False
                        last_plot = time.perf_counter()
                if stop.requested and iteration < total:
                    raise _interrupted(stop, iteration, steps_per_epoch, out)
        _check_finite(model, iteration, steps_per_epoch)
    finally:
        if bar is not None:
            bar.close()
    return history


class _Running:
    """The current epoch's running sums (saved in mid-epoch checkpoints, so resumed rows are whole)."""

    def __init__(self, loss_sum: float = 0.0, correct: int = 0, seen: int = 0, seconds: float = 0.0):
        self.loss_sum, self.correct, self.seen, self.seconds = float(loss_sum), int(correct), int(seen), float(seconds)
        self._since = None

    def start(self) -> None:
        self._since = time.perf_counter()

    def add(self, loss: float, n: int, correct: int) -> None:
        if n:  # an empty share (distributed) has a NaN mean loss and adds nothing
            self.loss_sum += loss * n
        self.correct += correct
        self.seen += n
        now = time.perf_counter()
        self.seconds += now - self._since
        self._since = now

    def add_on_device(self, loss, n: int, correct) -> None:
        """`add` for a device loss and count: summed where they are, read by `settle` at the epoch's end."""
        self.loss_sum = loss * n + self.loss_sum
        self.correct = correct + self.correct
        self.seen += n
        now = time.perf_counter()
        self.seconds += now - self._since
        self._since = now

    def settle(self) -> None:
        """Bring device sums to the host as Python numbers (one read per epoch or checkpoint)."""
        if not isinstance(self.loss_sum, float):
            self.loss_sum = float(to_numpy(self.loss_sum).item())
        if not isinstance(self.correct, int):
            self.correct = int(to_numpy(self.correct).item())

    def sum_over_ranks(self) -> None:
        """Add up every rank's sums (a distributed run's epoch row covers the whole global batch)."""
        from ..distributed import all_reduce

        loss_sum, correct, seen = all_reduce(np.array([self.loss_sum, self.correct, self.seen], dtype=np.float64))
        self.loss_sum, self.correct, self.seen = float(loss_sum), int(correct), int(seen)

    def state_dict(self) -> dict:
        self.settle()
        return {"loss_sum": self.loss_sum, "correct": self.correct, "seen": self.seen, "seconds": self.seconds}


def _position(iteration: int, steps_per_epoch: int) -> str:
    """'iteration 869 (epoch 2, batch 269 of 600)', or '... (end of epoch 2)' at a boundary."""
    epoch, batch = divmod(iteration, steps_per_epoch)
    if batch == 0:
        return f"iteration {iteration} (end of epoch {epoch})" if epoch else "iteration 0 (start)"
    return f"iteration {iteration} (epoch {epoch + 1}, batch {batch} of {steps_per_epoch})"


def _interrupted(stop, iteration: int, steps_per_epoch: int, out: Path | None) -> Interrupted:
    name = signal.Signals(stop.signum).name
    where = f"; saved {checkpoint_path(out)}" if out is not None else " (no out_dir: nothing saved)"
    return Interrupted(stop.signum, f"interrupted by {name} at {_position(iteration, steps_per_epoch)}{where}")


def _check_finite(model, iteration: int, steps_per_epoch: int) -> None:
    for name, value in model.state_dict().items():
        value = to_numpy(unwrap(value))
        if value.dtype.kind in "fc" and not np.isfinite(value).all():
            raise Diverged(f"training diverged: parameter {name!r} holds inf or nan at "
                           f"{_position(iteration, steps_per_epoch)}; lower the learning rate")


def _total_steps(epochs, iters, steps_per_epoch: int) -> int:
    if epochs is not None and iters is not None:
        raise ValueError("fit: give epochs or iters, not both")
    if iters is not None:
        if iters < 1:
            raise ValueError(f"fit: iters must be at least 1, got {iters}")
        return int(iters)
    epochs = 1 if epochs is None else epochs
    if epochs < 1:
        raise ValueError(f"fit: epochs must be at least 1, got {epochs}")
    return int(epochs) * steps_per_epoch


def _correct(logits: np.ndarray, labels: np.ndarray) -> int:
    if labels.ndim == logits.ndim:
        labels = labels.argmax(axis=-1)
    return int(np.count_nonzero(logits.argmax(axis=-1) == labels))


def _count_correct(logits, labels):
    """How many rows are right, left on the logits' device (no host round-trip)."""
    xp = namespace(logits)
    if labels.ndim == logits.ndim:
        labels = xp.argmax(labels, axis=-1)
    return xp.sum(xp.astype(xp.argmax(logits, axis=-1) == labels, xp.int64))


def _epoch_number(iteration: int, steps_per_epoch: int):
    whole, part = divmod(iteration, steps_per_epoch)
    return whole if part == 0 else round(iteration / steps_per_epoch, 2)


def _line(row: dict, steps_per_epoch: int, total: int) -> str:
    """'epoch  3/17  iter 1800/10000  train loss 0.1234  train acc 0.9650  test loss ...  test acc ...  0.29s'."""
    epochs = -(-total // steps_per_epoch)
    epoch = -(-row["iteration"] // steps_per_epoch)  # a final partial epoch is counted as the epoch it is in
    text = (f"epoch {epoch:>{len(str(epochs))}}/{epochs}  iter {row['iteration']:>{len(str(total))}}/{total}  "
            f"train loss {row['train_loss']:.4f}  train acc {row['train_accuracy']:.4f}")
    if row.get("test_loss") is not None:
        text += f"  test loss {row['test_loss']:.4f}"
    if row.get("test_accuracy") is not None:
        text += f"  test acc {row['test_accuracy']:.4f}"
    return text + f"  {row['seconds']:.2f}s"


def _save(out: Path, history: History, model, optimizer, loader, iteration, meta, scheduler, running) -> None:
    """Checkpoint first (the state to resume from, never a diverged one), then the metrics table."""
    _check_finite(model, iteration, len(loader))
    state = {"meta": meta or {}, "iteration": iteration, "history": history.rows,
             "model": dict(model.state_dict()), "optimizer": optimizer.state_dict(),
             "loader": loader.state_dict(), "epoch_progress": running.state_dict()}
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    save_checkpoint(out, state)
    history.write_csv(out / "metrics.csv")


def _resume(out: Path | None, model, optimizer, loader, meta: dict | None, scheduler=None):
    """Load the checkpoint in `out` into model, optimizer and loader; return (history, iteration, running)."""
    if out is None:
        raise ValueError("fit: resume=True needs out_dir, the directory holding the checkpoint")
    if not checkpoint_path(out).exists() and not (out / LEGACY_JSON).exists():
        raise CheckpointError(f"nothing to resume: no checkpoint in {out}")
    state = load_checkpoint(out)
    saved_meta = state.get("meta") or {}
    if meta is not None:
        for key in ("model", "architecture"):
            if key in meta and key in saved_meta and meta[key] != saved_meta[key]:
                raise CheckpointError(
                    f"checkpoint in {out} is for {key} {saved_meta[key]!r}, not {meta[key]!r}; "
                    f"use the same settings or another --out directory"
                )
    iteration, steps_per_epoch = state["iteration"], len(loader)
    try:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        loader.load_state_dict(state["loader"])
        if scheduler is not None:
            scheduler.load_state_dict(state["scheduler"])
        running = _Running(**state.get("epoch_progress", {}))
        history = History(state.get("history"))
    except (KeyError, RuntimeError, ValueError, TypeError, AttributeError) as err:
        raise CheckpointError(f"checkpoint in {out} does not fit this run: {type(err).__name__}: {err}") from None
    done = state["loader"].get("batches_done", 0)
    if done != iteration % steps_per_epoch:
        raise CheckpointError(
            f"checkpoint in {out} is at {_position(iteration, steps_per_epoch)} but its loader has taken "
            f"{done} batches of this epoch: it was made with another batch size or dataset"
        )
    return history, iteration, running


def _progress_bar(total: int, initial: int, progress: bool | None, quiet: bool):
    """tqdm on stderr: always with progress=True; with None only on a terminal (never in logs or pipes)."""
    if quiet or progress is False:
        return None
    if progress is None and not _on_a_terminal():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        print("no progress bar: tqdm is not installed (pip install -e '.[train]')", file=sys.stderr)
        return None
    return tqdm(total=total, initial=initial, unit="it", dynamic_ncols=True, file=sys.stderr)


def _on_a_terminal() -> bool:
    if os.environ.get("GRAPHGRAD_NO_PROGRESS"):
        return False
    return all(stream is not None and getattr(stream, "isatty", lambda: False)() for stream in (sys.stdout, sys.stderr))


def _say(quiet: bool, message: str) -> None:
    if not quiet:
        print(message)
