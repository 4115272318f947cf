"""The settings of a `graphgrad train` run: checked in full before anything is allocated or trained.

Every check raises UsageError with one line naming the option, the value and what to do:
finite numbers in range, a seed NumPy accepts, a network that fits in memory (parameters,
gradients and optimizer state estimated from the layer sizes), an --out that can hold the run,
labels a 10-class model can learn, and the settings stored in a checkpoint before a model is
rebuilt from them.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from ..train.models import CNN_MODELS
from . import UsageError, os_error_message

MODELS = ("twolayer", "mlp", *CNN_MODELS)
OPTIMIZERS = {"sgd": 0.1, "momentum": 0.01, "adagrad": 0.01, "rmsprop": 0.001, "adam": 0.001, "adamw": 0.001}
N_IN, N_OUT = 784, 10
OPTIMIZER_SLOTS = {"sgd": 0, "momentum": 1, "adagrad": 1, "rmsprop": 1, "adam": 2, "adamw": 2}  # arrays per parameter
MAX_SEED = 2**63 - 1
RUN_FILES = ("checkpoint.npz", "checkpoint.json", "metrics.csv", "curves.png")


def settings_from_args(args) -> dict:
    """Validate the command line into the run's settings (stored in the checkpoint), or raise UsageError."""
    lr = OPTIMIZERS[args.optimizer] if args.lr is None else args.lr
    if not (math.isfinite(lr) and lr > 0):
        raise UsageError(f"--lr must be a positive finite number, got {lr}")
    if not (math.isfinite(args.weight_init_std) and args.weight_init_std >= 0):
        raise UsageError(f"--weight-init-std must be a finite number >= 0, got {args.weight_init_std}")
    if args.min_test_accuracy is not None and not 0 <= args.min_test_accuracy <= 1:
        raise UsageError(f"--min-test-accuracy must be between 0 and 1, got {args.min_test_accuracy}")
    if not 0 <= args.seed <= MAX_SEED:
        raise UsageError(f"--seed must be between 0 and 2**63-1, got {args.seed}")
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, got {args.batch_size}")
    for flag in ("epochs", "iters", "checkpoint_every"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise UsageError(f"--{flag.replace('_', '-')} must be at least 1, got {value}")
    if args.model in CNN_MODELS:
        hidden = CNN_MODELS[args.model][1][:-1]
    elif args.model == "twolayer":
        hidden = [50]
    else:
        try:
            hidden = [int(h) for h in args.hidden.split(",")]
        except ValueError:
            raise UsageError(f"--hidden must be comma-separated sizes like 256,256, got {args.hidden!r}") from None
        if not hidden or min(hidden) < 1:
            raise UsageError(f"--hidden sizes must be positive, got {args.hidden!r}")
    meta = {"model": args.model, "architecture": [N_IN, *hidden, N_OUT], "optimizer": args.optimizer,
            "lr": lr, "lr_schedule": args.lr_schedule, "batch_size": args.batch_size, "sampling": args.sampling,
            "seed": args.seed, "dtype": args.dtype, "weight_init_std": args.weight_init_std}
    if args.model not in CNN_MODELS:  # the convolutional networks are fixed, and small
        check_memory(meta["architecture"], meta["dtype"], OPTIMIZER_SLOTS[args.optimizer] + 1, args.batch_size)
    return meta


def memory_limit() -> int:
    """Half of this machine's physical memory (8 GiB where it cannot be told)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (AttributeError, ValueError, OSError):
        return 8 << 30


def check_memory(sizes: list[int], dtype: str, copies: int, batch_size: int = 0) -> None:
    """Refuse, before allocating, a network whose parameters (times `copies`: gradients, optimizer
    state) and one batch's activations would not fit in `memory_limit()`."""
    itemsize = np.dtype(dtype).itemsize
    parameters = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    needed = (parameters * (1 + copies) + 3 * batch_size * sum(sizes)) * itemsize
    if needed > memory_limit():
        raise UsageError(
            f"a {'-'.join(map(str, sizes))} network has {parameters:,} parameters and would need about "
            f"{needed / 2**30:.1f} GiB, more than the {memory_limit() / 2**30:.1f} GiB allowed (half of "
            f"this machine's memory); use smaller --hidden sizes"
        )


def check_meta(meta, where) -> dict:
    """The run settings stored in a checkpoint, validated before a model is built from them."""
    if not isinstance(meta, dict):
        raise UsageError(f"{where} does not hold the settings of a graphgrad train run")
    sizes = meta.get("architecture")
    if meta.get("model") in CNN_MODELS:
        if sizes != [N_IN, *CNN_MODELS[meta["model"]][1][:-1], N_OUT]:
            raise UsageError(f"{where}: the architecture {sizes!r:.80} is not that of --model {meta['model']}")
        sizes = None
    elif not (isinstance(sizes, list) and len(sizes) >= 2
            and all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in sizes)):
        raise UsageError(f"{where}: the architecture {sizes!r:.80} is not a list of positive layer sizes")
    if sizes is not None and (sizes[0] != N_IN or sizes[-1] != N_OUT):
        raise UsageError(f"{where}: the architecture {'-'.join(map(str, sizes))} is not an MNIST classifier "
                         f"({N_IN} inputs, {N_OUT} outputs)")
    if meta.get("model") not in MODELS or meta.get("dtype") not in ("float32", "float64"):
        raise UsageError(f"{where}: unknown model {meta.get('model')!r:.40} or dtype {meta.get('dtype')!r:.40}")
    seed, std = meta.get("seed"), meta.get("weight_init_std")
    if not (isinstance(seed, int) and 0 <= seed <= MAX_SEED and isinstance(std, (int, float)) and math.isfinite(std)):
        raise UsageError(f"{where}: the seed {seed!r:.40} or weight_init_std {std!r:.40} is not valid")
    if sizes is not None:
        check_memory(sizes, meta["dtype"], 0)
    return meta


def prepare_out(out: Path, resume: bool, overwrite: bool) -> None:
    """Refuse an --out that is a file, cannot be written, or holds another run (without --resume/--overwrite)."""
    if resume and overwrite:
        raise UsageError("--resume continues the run in --out and --overwrite replaces it; give one of them")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; give a directory")
    if resume:
        return
    existing = [name for name in RUN_FILES if (out / name).exists()]
    if existing and not overwrite:
        raise UsageError(f"--out {out} already holds a run ({', '.join(existing)}); add --resume to continue "
                         f"it, --overwrite to replace it, or choose another --out")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"cannot create --out {out}: {os_error_message(err)}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out} is not writable")
    for name in existing:  # --overwrite: an old checkpoint must not be resumed by mistake later
        (out / name).unlink()


def check_labels(dataset, split: str) -> None:
    """Refuse labels outside 0-9 now, not at the first training step."""
    labels = np.asarray(dataset.arrays[1])
    if labels.size and (labels.min() < 0 or labels.max() >= N_OUT):
        bad = labels[(labels < 0) | (labels >= N_OUT)]
        raise UsageError(f"the {split} labels must be 0-{N_OUT - 1}; found {bad.size} outside, e.g. {bad[0]}")
