"""MNIST for the Nielsen examples: the real digits when graphgrad can load them, else look-alike data.

The synthetic stand-in has MNIST's shapes and types (784 pixels in [0, 1], labels 0-9): each
class is a fixed sparse pattern of inked pixels, with 5% of pixels flipped and random ink, so a 784-30-10 network learns it well.
"""
from __future__ import annotations

import argparse

import numpy as np


def synthetic_mnist(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(x, labels): n rows of 784 float32 pixels in [0, 1] and int64 labels, learnable but not trivial."""
    prototypes = np.random.default_rng(1234).random((10, 784)) < 0.15  # the same classes for every split
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    ink = prototypes[labels] ^ (rng.random((n, 784)) < 0.05)  # mostly-blank images, 5% of pixels flipped
    x = ink * rng.uniform(0.5, 1.0, (n, 784))
    return x.astype(np.float32), labels.astype(np.int64)


def load_data(n_train: int = 60000, n_test: int = 10000, synthetic: bool = False):
    """((x_train, t_train), (x_test, t_test), source): MNIST if available (and not `synthetic`), else synthetic."""
    if not synthetic:
        try:
            from graphgrad.book.mnist import load_mnist

            (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, flatten=True, quiet=True)
            return ((x_train[:n_train], t_train[:n_train].astype(np.int64)),
                    (x_test[:n_test], t_test[:n_test].astype(np.int64)), "MNIST")
        except Exception as err:  # no dataset module or no files: say so, then use the stand-in
            print(f"MNIST is not available ({type(err).__name__}: {err}); using synthetic MNIST-shaped data")
    return synthetic_mnist(n_train, seed=0), synthetic_mnist(n_test, seed=1), "synthetic"


def one_hot(labels: np.ndarray, classes: int = 10, dtype=np.float64) -> np.ndarray:
    """Rows of zeros with a one at each label."""
    return np.eye(classes, dtype=dtype)[labels]


def parse_args(description: str):
    """The options both Nielsen examples take, and the data they ask for: (args, (x, t), (xt, tt))."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--epochs", type=int, default=1, help="passes over the training samples")
    parser.add_argument("--train", type=int, default=10000, help="training samples (60000 for all of MNIST)")
    parser.add_argument("--test", type=int, default=10000, help="test samples evaluated after each epoch")
    parser.add_argument("--batch", type=int, default=10, help="mini-batch size")
    parser.add_argument("--eta", type=float, default=3.0, help="learning rate (Nielsen's η)")
    parser.add_argument("--synthetic", action="store_true", help="use synthetic MNIST-shaped data")
    args = parser.parse_args()
    train, test, source = load_data(args.train, args.test, args.synthetic)
    print(f"784-30-10 on {len(train[0])} {source} samples, mini-batches of {args.batch}, eta {args.eta}")
    return args, train, test
