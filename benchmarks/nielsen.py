"""Nielsen's 784-30-10 network two ways: per-sample backprop (network.py) vs matrix minibatches on graphgrad.

Each example script runs in its own process with BLAS pinned to one thread and prints its
epoch times; this script takes the median of each and also times the matrix algorithm in raw
NumPy (the same arithmetic, no framework) to show what graphgrad costs on top of it.

    python benchmarks/nielsen.py [--train 10000] [--epochs 3] [--batch 10] [--synthetic]
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "examples")


def run_example(script: str, args) -> list[float]:
    """Epoch seconds printed by examples/<script> ('epoch k: ... (S s)')."""
    cmd = [sys.executable, os.path.join(EXAMPLES, script), "--train", str(args.train), "--test", "1000",
           "--epochs", str(args.epochs), "--batch", str(args.batch)] + (["--synthetic"] if args.synthetic else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    if proc.returncode != 0:
        raise RuntimeError(f"{script} failed:\n{proc.stderr}")
    print("  " + proc.stdout.strip().replace("\n", "\n  "), flush=True)
    return [float(s) for s in re.findall(r"\(([0-9.]+) s\)", proc.stdout)]


def numpy_matrix_epoch_seconds(args) -> list[float]:
    """The matrix-based algorithm written directly in NumPy: the floor graphgrad is measured against."""
    rng = np.random.default_rng(0)
    x = (rng.random((args.train, 784)) < 0.2).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, args.train)]
    w1, b1 = rng.standard_normal((784, 30)).astype(np.float32), rng.standard_normal(30).astype(np.float32)
    w2, b2 = rng.standard_normal((30, 10)).astype(np.float32), rng.standard_normal(10).astype(np.float32)
    sig = lambda z: 0.5 * (1 + np.tanh(0.5 * z))  # noqa: E731
    seconds = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        order = rng.permutation(args.train)
        for k in range(0, args.train, args.batch):
            idx = order[k:k + args.batch]
            xb, yb = x[idx], y[idx]
            a1 = sig(xb @ w1 + b1)
            a2 = sig(a1 @ w2 + b2)
            d2 = (a2 - yb) * a2 * (1 - a2) / len(idx)
            d1 = (d2 @ w2.T) * a1 * (1 - a1)
            w2 -= args.eta * (a1.T @ d2)
            b2 -= args.eta * d2.sum(axis=0)
            w1 -= args.eta * (xb.T @ d1)
            b1 -= args.eta * d1.sum(axis=0)
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=10000, help="training samples per epoch")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs (the median is reported)")
    parser.add_argument("--batch", type=int, default=10, help="mini-batch size (Nielsen's: 10)")
    parser.add_argument("--eta", type=float, default=3.0)
    parser.add_argument("--synthetic", action="store_true", help="synthetic MNIST-shaped data")
    args = parser.parse_args()
    rows = {
        "per-sample backprop (NumPy, network.py)": run_example("nielsen_network.py", args),
        "matrix minibatches (graphgrad)": run_example("nielsen_matrix.py", args),
        "matrix minibatches (raw NumPy)": numpy_matrix_epoch_seconds(args),
    }
    medians = {name: statistics.median(s) for name, s in rows.items()}
    slowest = medians["per-sample backprop (NumPy, network.py)"]
    print(f"784-30-10, {args.train} samples per epoch, mini-batches of {args.batch}, BLAS on 1 thread, "
          f"median of {args.epochs} epochs")
    for name, median in medians.items():
        print(f"  {name:42s} {median:7.3f} s/epoch  {slowest / median:5.2f}x the per-sample speed")


if __name__ == "__main__":
    main()
