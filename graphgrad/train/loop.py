"""fit: the training loop (forward, loss, backward, step), with evaluation, logging and checkpoints."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..backend import namespace, to_numpy
from .checkpoint import JSON, CheckpointError, load_checkpoint, save_checkpoint
from .history import History
from .metrics import evaluate

READ_EVERY = 20  # steps between the host's reads of a device loss (each read waits for the device)


def fit(model, loss_fn, optimizer, train_loader, epochs: int | None = None, iters: int | None = None,
        test_data=None, out_dir: str | os.PathLike | None = None, resume: bool = False,
        progress: bool = True, quiet: bool = False, meta: dict | None = None,
        on_step: Callable[[int, float], None] | None = None, plot: bool = True,
        plot_every_s: float = 10.0, scheduler=None) -> History:
    """Train `model` for `epochs` passes over `train_loader` (or exactly `iters` steps) and return the History.

    Each step: `loss = loss_fn(model(x), t)`, `optimizer.zero_grad()`, `loss.backward()`,
    `optimizer.step()`. After every epoch (and after the last step) the model is evaluated on
    `test_data` (an (inputs, labels) pair or a TensorDataset), one line is printed, and with
    `out_dir` the run writes metrics.csv, curves.png and an atomic checkpoint. `resume=True`
    continues from that checkpoint and ends with exactly the parameters of an uninterrupted run.
    `on_step(iteration, loss)` is called after every step; `scheduler.step()` (a learning-rate
    schedule, saved in the checkpoint too) after every whole epoch. curves.png is redrawn at most every
    `plot_every_s` seconds (drawing costs more than a small epoch) and always at the end. On a device
    (CuPy, ...) the running loss and accuracy stay there and the host reads the loss only every
    `READ_EVERY` steps, so steps are not serialised by reads (unless `on_step` asks for every loss).
    """
    steps_per_epoch = len(train_loader)
    total = _total_steps(epochs, iters, steps_per_epoch)
    out = Path(out_dir) if out_dir is not None else None
    history, iteration = History(), 0
    if resume:
        history, iteration = _resume(out, model, optimizer, train_loader, meta, scheduler)
        if iteration >= total:
            _say(quiet, f"checkpoint in {out} is already at iteration {iteration} of {total}; nothing to do")
            return history
    bar = _progress_bar(total, iteration, enabled=progress and not quiet)
    say = bar.write if bar is not None else (lambda s: _say(quiet, s))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    last_plot = time.perf_counter()
    try:
        while iteration < total:
            loss_sum = correct = seen = 0
            start = time.perf_counter()
            for x, t in train_loader:
                logits = model(x)
                loss = loss_fn(logits, t)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                iteration += 1
                n = t.data.shape[0]
                seen += n
                if type(loss.data) is np.ndarray or on_step is not None:
                    value = loss.item()
                    loss_sum += value * n
                    correct += _correct(logits.data, t.data)
                else:  # on a device the sums stay there: the host reads the loss every READ_EVERY steps only
                    loss_sum, correct = loss.data * n + loss_sum, _count_correct(logits.data, t.data) + correct
                    if iteration % READ_EVERY == 0:
                        value = loss.item()
                if on_step is not None:
                    on_step(iteration, value)
                if bar is not None:
                    bar.update(1)
                    if iteration % READ_EVERY == 0:
                        bar.set_postfix(loss=f"{value:.4f}", refresh=False)
                if iteration >= total:
                    break
            seconds = time.perf_counter() - start
            if scheduler is not None and iteration % steps_per_epoch == 0:
                scheduler.step()
            row = {"epoch": _epoch_number(iteration, steps_per_epoch), "iteration": iteration,
                   "train_loss": _number(loss_sum) / max(seen, 1), "train_accuracy": _number(correct) / max(seen, 1),
                   "seconds": seconds}
            if test_data is not None:
                result = evaluate(model, test_data, loss_fn)
                row["test_loss"], row["test_accuracy"] = result.get("loss"), result["accuracy"]
            history.append(row)
            say(_line(row))
            if out is not None:
                _write_outputs(out, history, model, optimizer, train_loader, iteration, meta, scheduler)
                if plot and (iteration >= total or time.perf_counter() - last_plot >= plot_every_s):
                    try:
                        history.plot(out / "curves.png")
                    except ImportError as err:  # matplotlib is optional: keep training, say so once
                        say(f"no curves.png: {err}")
                        plot = False
                    last_plot = time.perf_counter()
    finally:
        if bar is not None:
            bar.close()
    return history


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


def _number(x):
    """A running sum as a Python number (read from the device once, at the end of an epoch)."""
    return x if isinstance(x, (int, float)) else to_numpy(x).item()


def _epoch_number(iteration: int, steps_per_epoch: int):
    whole, part = divmod(iteration, steps_per_epoch)
    return whole if part == 0 else round(iteration / steps_per_epoch, 2)


def _line(row: dict) -> str:
    text = (f"epoch {row['epoch']:>5}  iter {row['iteration']:>6}  train loss {row['train_loss']:.4f}  "
            f"train acc {row['train_accuracy']:.4f}")
    if row.get("test_accuracy") is not None:
        text += f"  test acc {row['test_accuracy']:.4f}"
    return text + f"  {row['seconds']:.2f}s"


def _write_outputs(out: Path, history: History, model, optimizer, loader, iteration, meta, scheduler) -> None:
    """Checkpoint first (the state to resume from), then the metrics table."""
    state = {"meta": meta or {}, "iteration": iteration, "history": history.rows,
             "model": dict(model.state_dict()), "optimizer": optimizer.state_dict(),
             "loader": loader.state_dict()}
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    save_checkpoint(out, state)
    history.write_csv(out / "metrics.csv")


def _resume(out: Path | None, model, optimizer, loader, meta: dict | None, scheduler=None):
    """Load the checkpoint in `out` into model, optimizer and loader; return (history, iteration)."""
    if out is None:
        raise ValueError("fit: resume=True needs out_dir, the directory holding the checkpoint")
    if not (out / JSON).exists():
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
    try:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        loader.load_state_dict(state["loader"])
        if scheduler is not None:
            scheduler.load_state_dict(state["scheduler"])
    except (KeyError, RuntimeError, ValueError) as err:
        raise CheckpointError(f"checkpoint in {out} does not fit this run: {err}") from None
    return History(state.get("history")), int(state["iteration"])


def _progress_bar(total: int, initial: int, enabled: bool):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        print("no progress bar: tqdm is not installed (pip install 'graphgrad[train]')", file=sys.stderr)
        return None
    return tqdm(total=total, initial=initial, unit="it", dynamic_ncols=True, file=sys.stderr)


def _say(quiet: bool, message: str) -> None:
    if not quiet:
        print(message)
