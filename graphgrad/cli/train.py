"""`graphgrad train` and `graphgrad eval`: MNIST classifiers from the command line.

train: builds the model and optimizer, runs `graphgrad.train.fit` with a progress bar, one line
per epoch, and metrics.csv, curves.png and an atomic checkpoint in --out after every epoch (and
every --checkpoint-every steps, and where Ctrl-C or SIGTERM stops it).
eval: rebuilds the model a checkpoint describes and prints its test accuracy and confusion matrix.
Every setting is checked before anything is allocated or trained; bad input is one line, exit 2.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from . import UsageError, os_error_message

MODELS = ("twolayer", "mlp")
OPTIMIZERS = {"sgd": 0.1, "momentum": 0.01, "adagrad": 0.01, "rmsprop": 0.001, "adam": 0.001, "adamw": 0.001}
N_IN, N_OUT = 784, 10
OPTIMIZER_SLOTS = {"sgd": 0, "momentum": 1, "adagrad": 1, "rmsprop": 1, "adam": 2, "adamw": 2}  # arrays per parameter
MAX_SEED = 2**63 - 1
RUN_FILES = ("checkpoint.npz", "checkpoint.json", "metrics.csv", "curves.png")


def register(subparsers) -> None:
    """Add the `train` and `eval` sub-commands."""
    p = subparsers.add_parser("train", help="train an MNIST classifier", formatter_class=DefaultsFormatter,
                              description="Train an MNIST classifier; results go to --out.")
    p.add_argument("--model", default="twolayer", choices=MODELS, help="twolayer (the textbook's 784-50-10) or mlp")
    p.add_argument("--hidden", default="256,256", help="hidden sizes of --model mlp")
    p.add_argument("--optimizer", default="sgd", choices=list(OPTIMIZERS),
                   help="momentum is SGD with momentum 0.9")
    p.add_argument("--lr", type=float, help="learning rate (if not given: sgd 0.1, momentum 0.01, adagrad 0.01, "
                                            "rmsprop, adam and adamw 0.001)")
    p.add_argument("--lr-schedule", default="none", choices=("none", "cosine"),
                   help="cosine: anneal the learning rate to 0 over the run, stepping each epoch")
    p.add_argument("--batch-size", type=int, default=100, help="samples per training step")
    p.add_argument("--sampling", default="shuffle", choices=("shuffle", "replacement"),
                   help="shuffle: each epoch a fresh permutation; replacement: every batch drawn at random "
                        "with replacement, as the textbook's np.random.choice")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=int, help="passes over the training set (10 if neither this nor --iters)")
    length.add_argument("--iters", type=int, help="exact number of training steps (the textbook counts these)")
    p.add_argument("--seed", type=int, default=0, help="seeds the weights and the shuffling")
    p.add_argument("--dtype", default="float32", choices=("float32", "float64"), help="of weights and data")
    p.add_argument("--weight-init-std", type=float, default=0.01,
                   help="std of the Gaussian initial weights of --model twolayer (the book's 0.01)")
    p.add_argument("--out", default="runs/mnist", help="directory for metrics.csv, curves.png, checkpoint.npz")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    p.add_argument("--overwrite", action="store_true", help="replace a previous run in --out (else refused)")
    p.add_argument("--checkpoint-every", type=int, metavar="N",
                   help="also save a checkpoint every N training steps (always: every epoch, and on Ctrl-C/SIGTERM)")
    p.add_argument("--data", help="directory holding the MNIST IDX files (else $GRAPHGRAD_DATA, cache, download)")
    add_threads(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar and no per-epoch lines")
    p.add_argument("--min-test-accuracy", type=float,
                   help="exit with status 1 if the final test accuracy is below this (a check for scripts)")
    p.set_defaults(run=run_train)

    e = subparsers.add_parser(
        "eval", help="evaluate a checkpoint on the MNIST test set", formatter_class=DefaultsFormatter,
        description="Rebuild the model a `graphgrad train` checkpoint describes, load its weights, and print "
                    "its accuracy on the MNIST test set and the confusion matrix (rows: true digits).")
    e.add_argument("--checkpoint", required=True,
                   help="directory written by `graphgrad train --out` (or its checkpoint.npz)")
    e.add_argument("--data", help="directory holding the MNIST IDX files")
    add_threads(e)
    e.add_argument("--quiet", action="store_true", help="print only the accuracy")
    e.set_defaults(run=run_eval)


class DefaultsFormatter(argparse.HelpFormatter):
    """Help that shows each option's default, where it has a real one."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and action.option_strings:
            text += " (default: %(default)s)"
        return text


def add_threads(parser) -> None:
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads (threadpoolctl, in the train extra); one is fastest for these "
                             "small matrices")


@contextmanager
def blas_threads(n: int):
    """Limit BLAS to `n` threads with threadpoolctl; without it, only the default of one is accepted (unlimited)."""
    if n < 1:
        raise UsageError(f"--threads must be at least 1, got {n}")
    try:
        import threadpoolctl
    except ImportError:
        if n != 1:
            raise UsageError("--threads needs threadpoolctl: pip install 'graphgrad[train]' "
                             "(or pip install threadpoolctl)") from None
        yield
        return
    with threadpoolctl.threadpool_limits(limits=n, user_api="blas"):
        yield


def build_model(meta: dict):
    """The network a run's settings describe: Linear/ReLU layers of sizes meta['architecture']."""
    from .. import nn

    sizes, dtype = meta["architecture"], np.dtype(meta["dtype"])
    rng = np.random.default_rng(meta["seed"])
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layer = nn.Linear(n_in, n_out, dtype=dtype, generator=rng)
        if meta["model"] == "twolayer":
            # The book: W = weight_init_std * randn(in, out), b = 0 (its W is our weight transposed).
            layer.weight.data[...] = (meta["weight_init_std"] * rng.standard_normal((n_in, n_out))).T
            layer.bias.data[...] = 0
        layers.append(layer)
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def build_optimizer(name: str, params, lr: float):
    """The optimizer called `name` (momentum is SGD with momentum 0.9, the textbook's setting)."""
    from .. import optim

    if name == "momentum":
        return optim.SGD(params, lr=lr, momentum=0.9)
    classes = {"sgd": optim.SGD, "adagrad": optim.Adagrad, "rmsprop": optim.RMSprop,
               "adam": optim.Adam, "adamw": optim.AdamW}
    return classes[name](params, lr=lr)


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
    if args.model == "twolayer":
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
    if not (isinstance(sizes, list) and len(sizes) >= 2
            and all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in sizes)):
        raise UsageError(f"{where}: the architecture {sizes!r:.80} is not a list of positive layer sizes")
    if sizes[0] != N_IN or sizes[-1] != N_OUT:
        raise UsageError(f"{where}: the architecture {'-'.join(map(str, sizes))} is not an MNIST classifier "
                         f"({N_IN} inputs, {N_OUT} outputs)")
    if meta.get("model") not in MODELS or meta.get("dtype") not in ("float32", "float64"):
        raise UsageError(f"{where}: unknown model {meta.get('model')!r:.40} or dtype {meta.get('dtype')!r:.40}")
    seed, std = meta.get("seed"), meta.get("weight_init_std")
    if not (isinstance(seed, int) and 0 <= seed <= MAX_SEED and isinstance(std, (int, float)) and math.isfinite(std)):
        raise UsageError(f"{where}: the seed {seed!r:.40} or weight_init_std {std!r:.40} is not valid")
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


def load_mnist_splits(data_dir, dtype: str, quiet: bool):
    """MNIST train and test datasets, turning 'no source worked' into a usage error."""
    from ..datasets import MNIST, DatasetUnavailable

    try:
        return (MNIST("train", root=data_dir, dtype=dtype, quiet=quiet),
                MNIST("test", root=data_dir, dtype=dtype, quiet=True))
    except (DatasetUnavailable, ValueError) as err:
        raise UsageError(str(err)) from None


def run_train(args) -> int:
    """Train (BLAS on --threads threads), print a summary, and say where the outputs are."""
    with blas_threads(args.threads):
        return _train(args)


def _train(args) -> int:
    from ..data import DataLoader
    from ..nn import CrossEntropyLoss
    from ..train import CheckpointError, Diverged, fit, load_checkpoint

    meta = settings_from_args(args)
    out = Path(args.out)
    prepare_out(out, args.resume, args.overwrite)
    if args.resume:
        try:
            saved = load_checkpoint(out).get("meta", {})
        except CheckpointError as err:
            raise UsageError(f"cannot resume: {err}") from None
        differing = [f"{key}={saved[key]!r} (this run: {meta.get(key)!r})" for key in saved if saved[key] != meta.get(key)]
        if differing:
            raise UsageError(
                f"cannot resume: the checkpoint in {out} was made with other settings: {', '.join(differing)}; "
                f"repeat the original settings or use another --out"
            )
    train_set, test_set = load_mnist_splits(args.data, args.dtype, args.quiet)
    check_labels(train_set, "training")
    check_labels(test_set, "test")
    if args.batch_size > len(train_set):
        raise UsageError(f"--batch-size {args.batch_size} is larger than the training set ({len(train_set)} samples)")
    model = build_model(meta)
    optimizer = build_optimizer(args.optimizer, model.parameters(), meta["lr"])
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, seed=args.seed,
                        replacement=args.sampling == "replacement")
    epochs = args.epochs if args.epochs is not None or args.iters is not None else 10
    scheduler = None
    if args.lr_schedule == "cosine":
        from ..optim import CosineAnnealingLR

        n_epochs = epochs if args.iters is None else -(-args.iters // len(loader))
        scheduler = CosineAnnealingLR(optimizer, T_max=n_epochs)
    started = time.perf_counter()
    try:
        # overflow shows up as a non-finite loss or weight, which fit turns into one Diverged line
        with np.errstate(over="ignore", invalid="ignore"):
            history = fit(model, CrossEntropyLoss(), optimizer, loader, epochs=epochs, iters=args.iters,
                          test_data=test_set, out_dir=out, resume=args.resume, quiet=args.quiet, meta=meta,
                          scheduler=scheduler, checkpoint_every=args.checkpoint_every)
    except CheckpointError as err:
        raise UsageError(f"cannot resume: {err}") from None
    except Diverged as err:
        raise UsageError(f"{err} (now --lr {meta['lr']})") from None
    except OSError as err:
        raise UsageError(f"cannot write the run's files: {os_error_message(err)}") from None
    except KeyboardInterrupt as err:
        print(f"graphgrad train: {interrupted_message(err, out)}", file=sys.stderr)
        return getattr(err, "exit_status", 130)
    final = history.last.get("test_accuracy")
    if final is not None:
        print(f"test accuracy {final:.4f} after {history.last['iteration']} iterations "
              f"({time.perf_counter() - started:.1f}s)")
    if not args.quiet:
        print(f"metrics: {out / 'metrics.csv'}  curves: {out / 'curves.png'}  checkpoint: {out / 'checkpoint.npz'}")
    if args.min_test_accuracy is not None and (final is None or final < args.min_test_accuracy):
        print(f"test accuracy {final} is below the required {args.min_test_accuracy}")
        return 1
    return 0


def interrupted_message(err: KeyboardInterrupt, out: Path) -> str:
    """One line: where the run stopped, what was saved, and how to continue."""
    from ..train import CheckpointError, load_checkpoint

    text = str(err)
    if "saved" not in text:  # stopped inside a step: the last checkpoint is the one to resume from
        try:
            text = f"{text or 'interrupted'}; the last checkpoint is at iteration {load_checkpoint(out)['iteration']}"
        except CheckpointError:
            return f"{text or 'interrupted'} before the first checkpoint; nothing to resume"
    return f"{text}; continue with the same command plus --resume"


def check_labels(dataset, split: str) -> None:
    """Refuse labels outside 0-9 now, not at the first training step."""
    labels = np.asarray(dataset.arrays[1])
    if labels.size and (labels.min() < 0 or labels.max() >= N_OUT):
        bad = labels[(labels < 0) | (labels >= N_OUT)]
        raise UsageError(f"the {split} labels must be 0-{N_OUT - 1}; found {bad.size} outside, e.g. {bad[0]}")


def run_eval(args) -> int:
    """Print test accuracy and the confusion matrix of the model in a checkpoint."""
    with blas_threads(args.threads):
        return _eval(args)


def _eval(args) -> int:
    from ..train import CheckpointError, confusion_matrix, load_checkpoint, predict

    where = Path(args.checkpoint)
    try:
        state = load_checkpoint(where)
        meta = check_meta(state.get("meta"), where)
        model = build_model(meta)
        model.load_state_dict(state["model"])
    except CheckpointError as err:
        raise UsageError(str(err)) from None
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise UsageError(f"{where} does not hold a graphgrad train checkpoint ({type(err).__name__}: {err})") from None
    _, test_set = load_mnist_splits(args.data, meta["dtype"], args.quiet)
    check_labels(test_set, "test")
    x, t = test_set.arrays
    predicted = predict(model, x).argmax(axis=1)
    print(f"test accuracy {float((predicted == t).mean()):.4f} ({meta['model']} "
          f"{'-'.join(map(str, meta['architecture']))}, iteration {state.get('iteration')})")
    if not args.quiet:
        print(format_confusion(confusion_matrix(predicted, t, N_OUT)))
    return 0


def format_confusion(counts: np.ndarray) -> str:
    """The confusion matrix as text: rows are true digits, columns predicted ones."""
    width = max(5, len(str(counts.max())) + 1)
    head = "true\\pred" + "".join(f"{j:>{width}}" for j in range(counts.shape[1]))
    rows = [f"{i:>9}" + "".join(f"{v:>{width}}" for v in row) for i, row in enumerate(counts)]
    return "\n".join([head, *rows])
