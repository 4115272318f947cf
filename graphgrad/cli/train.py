"""`graphgrad train` and `graphgrad eval`: MNIST classifiers from the command line.

train: builds the model and optimizer, runs `graphgrad.train.fit` with a progress bar, one line
per epoch, and metrics.csv, curves.png and an atomic checkpoint in --out after every epoch.
eval: rebuilds the model a checkpoint describes and prints its test accuracy and confusion matrix.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..train.models import CNN_MODELS
from . import UsageError

MODELS = ("twolayer", "mlp", *CNN_MODELS)
OPTIMIZERS = {"sgd": 0.1, "momentum": 0.01, "adagrad": 0.01, "rmsprop": 0.001, "adam": 0.001, "adamw": 0.001}
N_IN, N_OUT = 784, 10


def register(subparsers) -> None:
    """Add the `train` and `eval` sub-commands."""
    p = subparsers.add_parser("train", help="train an MNIST classifier",
                              description="Train an MNIST classifier; results go to --out.")
    p.add_argument("--model", default="twolayer",
                   help="twolayer (the textbook's 784-50-10), mlp, cnn (SimpleConvNet) or deepcnn (DeepConvNet)")
    p.add_argument("--hidden", default="256,256", help="hidden sizes of --model mlp, e.g. 256,256")
    p.add_argument("--optimizer", default="sgd", help="|".join(OPTIMIZERS))
    p.add_argument("--lr", type=float, help="learning rate (default: sgd 0.1, momentum 0.01, adam 0.001, ...)")
    p.add_argument("--lr-schedule", default="none",
                   help="none, or cosine: anneal the learning rate to 0 over the run, stepping each epoch")
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--sampling", default="shuffle",
                   help="shuffle: each epoch a fresh permutation; replacement: every batch drawn at random "
                        "with replacement, as the textbook's np.random.choice")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=int, help="passes over the training set (default 10)")
    length.add_argument("--iters", type=int, help="exact number of training steps (the textbook counts these)")
    p.add_argument("--seed", type=int, default=0, help="seeds the weights and the shuffling")
    p.add_argument("--dtype", default="float32", help="float32 or float64")
    p.add_argument("--weight-init-std", type=float, default=0.01,
                   help="std of the Gaussian initial weights of --model twolayer (the book's 0.01)")
    p.add_argument("--out", default="runs/mnist", help="directory for metrics.csv, curves.png, checkpoint")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    p.add_argument("--data", help="directory holding the MNIST IDX files (else $GRAPHGRAD_DATA, cache, download)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no per-epoch lines")
    p.add_argument("--min-test-accuracy", type=float,
                   help="exit with status 1 if the final test accuracy is below this (a check for scripts)")
    p.set_defaults(run=run_train)

    e = subparsers.add_parser("eval", help="evaluate a checkpoint on the MNIST test set")
    e.add_argument("--checkpoint", required=True, help="directory written by `graphgrad train --out`")
    e.add_argument("--data", help="directory holding the MNIST IDX files")
    e.add_argument("--quiet", action="store_true", help="print only the accuracy")
    e.set_defaults(run=run_eval)


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


def settings_from_args(args) -> dict:
    """Validate the command line into the run's settings (stored in the checkpoint), or raise UsageError."""
    if args.model not in MODELS:
        raise UsageError(f"unknown model {args.model!r}; choose one of: {', '.join(MODELS)}")
    if args.optimizer not in OPTIMIZERS:
        raise UsageError(f"unknown optimizer {args.optimizer!r}; choose one of: {', '.join(OPTIMIZERS)}")
    if args.lr_schedule not in ("none", "cosine"):
        raise UsageError(f"unknown --lr-schedule {args.lr_schedule!r}; choose none or cosine")
    if args.sampling not in ("shuffle", "replacement"):
        raise UsageError(f"unknown --sampling {args.sampling!r}; choose shuffle or replacement")
    if args.dtype not in ("float32", "float64"):
        raise UsageError(f"unknown dtype {args.dtype!r}; choose float32 or float64")
    lr = OPTIMIZERS[args.optimizer] if args.lr is None else args.lr
    if not lr > 0:
        raise UsageError(f"--lr must be positive, got {lr}")
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, got {args.batch_size}")
    for flag in ("epochs", "iters"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise UsageError(f"--{flag} must be at least 1, got {value}")
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
    return {"model": args.model, "architecture": [N_IN, *hidden, N_OUT], "optimizer": args.optimizer,
            "lr": lr, "lr_schedule": args.lr_schedule, "batch_size": args.batch_size, "sampling": args.sampling,
            "seed": args.seed, "dtype": args.dtype, "weight_init_std": args.weight_init_std}


def load_mnist_splits(data_dir, dtype: str, quiet: bool):
    """MNIST train and test datasets, turning 'no source worked' into a usage error."""
    from ..datasets import MNIST, DatasetUnavailable

    try:
        return (MNIST("train", root=data_dir, dtype=dtype, quiet=quiet),
                MNIST("test", root=data_dir, dtype=dtype, quiet=True))
    except (DatasetUnavailable, ValueError) as err:
        raise UsageError(str(err)) from None


def run_train(args) -> int:
    """Train, print a summary, and say where the outputs are."""
    from ..data import DataLoader
    from ..nn import CrossEntropyLoss
    from ..train import CheckpointError, fit, load_checkpoint

    meta = settings_from_args(args)
    out = Path(args.out)
    if args.resume:
        try:
            saved = load_checkpoint(out).get("meta", {})
        except CheckpointError as err:
            raise UsageError(f"cannot resume: {err}") from None
        for key in ("model", "architecture", "optimizer", "lr_schedule", "dtype", "batch_size", "sampling", "seed"):
            if key in saved and saved[key] != meta[key]:
                raise UsageError(
                    f"cannot resume: the checkpoint in {out} has {key}={saved[key]!r} but this run asks for "
                    f"{meta[key]!r}; use the same settings or another --out"
                )
    train_set, test_set = load_mnist_splits(args.data, args.dtype, args.quiet)
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
        history = fit(model, CrossEntropyLoss(), optimizer, loader, epochs=epochs, iters=args.iters,
                      test_data=test_set, out_dir=out, resume=args.resume, quiet=args.quiet, meta=meta,
                      scheduler=scheduler)
    except CheckpointError as err:
        raise UsageError(f"cannot resume: {err}") from None
    except KeyboardInterrupt:
        print(f"interrupted; continue with the same command plus --resume (checkpoint in {out})")
        raise
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


def run_eval(args) -> int:
    """Print test accuracy and the confusion matrix of the model in a checkpoint."""
    from ..train import CheckpointError, confusion_matrix, load_checkpoint, predict

    directory = Path(args.checkpoint)
    if directory.is_file():
        directory = directory.parent
    try:
        state = load_checkpoint(directory)
        meta = state["meta"]
        model = build_model(meta)
        model.load_state_dict(state["model"])
    except CheckpointError as err:
        raise UsageError(str(err)) from None
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise UsageError(f"{directory} does not hold a graphgrad train checkpoint ({err})") from None
    _, test_set = load_mnist_splits(args.data, meta["dtype"], args.quiet)
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
