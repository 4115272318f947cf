"""The textbook's gradient check: backprop against numerical differentiation on TwoLayerNet(784, 50, 10).

Three training images in float64; prints, per parameter, the mean absolute difference
between the numerical gradient (central differences, h = 1e-4) and backprop's. Every
figure should be tiny (the book shows about 1e-10 to 1e-13).

    python examples/gradient_check.py [--synthetic]
"""
from __future__ import annotations

import argparse

import numpy as np

from graphgrad.book import TwoLayerNet, gradient_check


def three_samples(synthetic: bool) -> tuple[np.ndarray, np.ndarray, str]:
    """Three MNIST training images (float64 rows) with one-hot labels, or MNIST-shaped random stand-ins."""
    if not synthetic:
        try:
            from graphgrad.book.mnist import load_mnist

            (x, t), _ = load_mnist(normalize=True, one_hot_label=True, quiet=True)
            return x[:3].astype(np.float64), t[:3].astype(np.float64), "MNIST"
        except Exception as err:  # no dataset: the check works on any input
            print(f"MNIST is not available ({type(err).__name__}: {err}); using random MNIST-shaped samples")
    rng = np.random.default_rng(0)
    return rng.random((3, 784)), np.eye(10)[rng.integers(0, 10, 3)], "synthetic"


def main() -> None:
    parser = argparse.ArgumentParser(description="gradient check on the book's TwoLayerNet",
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--synthetic", action="store_true", help="random inputs instead of MNIST")
    args = parser.parse_args()
    x, t, source = three_samples(args.synthetic)
    network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10, rng=0)
    print(f"TwoLayerNet(784, 50, 10), 3 {source} samples, float64: mean |numerical - backprop|")
    table = gradient_check(network, x, t)
    for key, diff in table.items():
        print(f"{key}:{diff:.3g}")
    worst = max(table.values())
    print("OK: every difference <= 1e-7" if worst <= 1e-7 else f"FAILED: largest difference {worst:.3g} > 1e-7")
    raise SystemExit(0 if worst <= 1e-7 else 1)


if __name__ == "__main__":
    main()
