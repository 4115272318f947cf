"""`graphgrad train` and `graphgrad eval`: MNIST classifiers from the command line.

train: builds the model and optimizer, runs `graphgrad.train.fit` with a progress bar, one line
per epoch, and metrics.csv, curves.png and an atomic checkpoint in --out after every epoch (and
every --checkpoint-every steps, and where Ctrl-C or SIGTERM stops it).
eval: rebuilds the model a checkpoint describes and prints its test accuracy and confusion matrix.
Every setting is checked before anything is allocated or trained; bad input is one line, exit 2.
"""
from __future__ import annotations

import argparse
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..train.models import CNN_MODELS
from . import UsageError
from .settings import MODELS, N_OUT, OPTIMIZERS, check_labels, check_meta, prepare_out, settings_from_args

def register(subparsers) -> None:
    """Add the `train` and `eval` sub-commands."""
    p = subparsers.add_parser("train", help="train an MNIST classifier", formatter_class=DefaultsFormatter,
                              description="Train an MNIST classifier; results go to --out.")
    p.add_argument("--model", default="twolayer", choices=MODELS, help="twolayer (the textbook's 784-50-10), mlp, cnn (SimpleConvNet) or deepcnn (DeepConvNet)")
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
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N, or auto (cuda if available, else cpu)")
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
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel over the processes of `mpirun -n K graphgrad train ...` (needs "
                        "the [mpi] extra): each takes its share of every --batch-size batch, rank 0 alone "
                        "prints and writes; see docs/distributed.md")
    p.set_defaults(run=run_train_or_abort)

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
    """Add `--threads N` (BLAS threads, default 1) to `parser`."""
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
            raise UsageError("--threads needs threadpoolctl: pip install -e '.[train]' "
                             "(or pip install threadpoolctl)") from None
        yield
        return
    with threadpoolctl.threadpool_limits(limits=n, user_api="blas"):
        yield


def build_model(meta: dict):
    """The network a run's settings describe: Linear/ReLU layers of sizes meta['architecture']."""
    from .. import nn

    if meta["model"] in CNN_MODELS:
        return CNN_MODELS[meta["model"]][0](meta["seed"], meta["dtype"])
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
    main = not args.distributed or _rank_is_main()
    if main:  # rank 0 alone owns the output folder
        prepare_out(out, args.resume, args.overwrite)
    if args.resume:
        try:
            saved = load_checkpoint(out).get("meta", {})
        except CheckpointError as err:
            raise UsageError(f"cannot resume: {err}") from None
        differing = [f"{key}={value!r} (this run: {meta.get(key)!r})" for key, value in saved.items()
                     if value != meta.get(key)]
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
    device = resolve_device(args.device)
    model = build_model(meta).to(device)
    optimizer = build_optimizer(args.optimizer, model.parameters(), meta["lr"])
    if args.distributed:
        from ..distributed import DistributedDataParallel, ShardedDataset, world_size

        if args.batch_size < world_size():
            raise UsageError(f"--batch-size {args.batch_size} is smaller than the {world_size()} processes")
        model, train_set = DistributedDataParallel(model), ShardedDataset(train_set)
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, seed=args.seed,
                        replacement=args.sampling == "replacement", device=device)
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
                          scheduler=scheduler, checkpoint_every=args.checkpoint_every,
                          distributed=args.distributed)
    except CheckpointError as err:
        raise UsageError(f"cannot resume: {err}") from None
    except Diverged as err:
        raise UsageError(f"{err} (now --lr {meta['lr']})") from None
    except OSError as err:
        raise UsageError(f"cannot write the run's files: {os_error_message(err)}") from None
    except KeyboardInterrupt as err:
        print(f"graphgrad train: {interrupted_message(err, out)}", file=sys.stderr)
        return getattr(err, "exit_status", 130)
    if not main:
        return 0  # rank 0 reports
    final = history.last.get("test_accuracy")
    if final is not None:
        print(f"test accuracy {final:.4f} after {history.last['iteration']} iterations "
              f"({time.perf_counter() - started:.1f}s)")
    if not args.quiet:  # curves.png only when matplotlib drew it (it is an optional extra)
        curves = f"  curves: {out / 'curves.png'}" if (out / "curves.png").is_file() else ""
        print(f"metrics: {out / 'metrics.csv'}{curves}  checkpoint: {out / 'checkpoint.npz'}")
    if args.min_test_accuracy is not None and (final is None or final < args.min_test_accuracy):
        print(f"test accuracy {final} is below the required {args.min_test_accuracy}")
        return 1
    return 0


def _rank_is_main() -> bool:
    from ..distributed import is_main

    return is_main()


def run_train_or_abort(args) -> int:
    """run_train; with --distributed, a usage error on one rank ends every rank (the others would wait forever)."""
    if not args.distributed:
        return run_train(args)
    from ..distributed import abort, init, is_main, world_size

    settings_from_args(args)  # bad flags fail alike on every rank: exit 2 before MPI starts
    try:
        init()
    except ImportError as err:
        raise UsageError(str(err)) from None
    args.quiet = args.quiet or not is_main()
    try:
        return run_train(args)
    except UsageError as err:
        if world_size() == 1:
            raise
        abort(f"graphgrad train: error: {err}", code=2)


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


def resolve_device(name: str):
    """The device --device names ('auto': cuda when available, else cpu), or a UsageError saying why not."""
    from .. import cuda
    from ..backend.devices import device

    if name == "auto":
        return device("cuda" if cuda.is_available() else "cpu")
    try:
        chosen = device(name)
    except ValueError:
        raise UsageError(f"unknown --device {name!r}; choose cpu, cuda, cuda:N or auto") from None
    if chosen.type == "cuda":
        reason = cuda.unavailable_reason()
        if reason is not None:
            raise UsageError(f"--device {name}: CUDA is not available: {reason}")
        if chosen.index is not None and chosen.index >= cuda.device_count():
            raise UsageError(f"--device {name}: only {cuda.device_count()} CUDA device(s) found")
    return chosen


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
