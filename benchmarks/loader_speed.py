"""DataLoader epochs of MNIST-shaped data: the vectorised path and the per-sample one.

Random data of MNIST's shape (the content does not change the cost of batching):
- batched: a TensorDataset of 60,000 x 784 float32 images and int64 labels (what `MNIST("train")`
  is), batch 100, shuffled: one gather per batch; CPU time of the main process, median of `--rounds`.
- per-sample: torchvision's `MNIST(root, train=True, transform=Compose([ToTensor(), Normalize(...)]))`
  over `--samples` 28 x 28 uint8 images written as IDX files to a temporary directory, batch 100,
  read sample by sample and collated, with 0 and 2 worker processes; wall time (the workers' CPU
  time is not the main process's), one epoch.

BLAS pinned to one thread. Prints the figures and writes JSON.

    python benchmarks/loader_speed.py [--rounds 7] [--samples 10000] [--out benchmarks/results/loader_speed.json]
"""
import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from graphgrad.data import DataLoader, TensorDataset  # noqa: E402


def batched_epoch_s(dataset, rounds: int) -> float:
    loader = DataLoader(dataset, batch_size=100, shuffle=True, seed=0)
    times = []
    for _ in range(rounds):
        start = time.process_time()
        for _ in loader:
            pass
        times.append(time.process_time() - start)
    return statistics.median(times)


def per_sample_epoch_s(root: str, workers: int) -> float:
    from graphgrad.datasets import MNIST
    from graphgrad.datasets.transforms import Compose, Normalize, ToTensor

    dataset = MNIST(root, train=True, download=False, quiet=True,
                    transform=Compose([ToTensor(), Normalize((0.1307,), (0.3081,))]))
    loader = DataLoader(dataset, batch_size=100, shuffle=True, seed=0, num_workers=workers)
    start = time.perf_counter()
    for _ in loader:
        pass
    return time.perf_counter() - start


def write_fake_mnist(root: str, samples: int) -> None:
    from graphgrad.datasets import mnist, write_idx

    rng = np.random.default_rng(0)
    for split, n in (("train", samples), ("test", 10)):
        write_idx(os.path.join(root, mnist.IDX_NAMES[split][0]), rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(os.path.join(root, mnist.IDX_NAMES[split][1]), rng.integers(0, 10, n, dtype=np.uint8))


def main() -> None:
    """Run both measurements and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--out", default="benchmarks/results/loader_speed.json")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    dataset = TensorDataset(rng.random((60000, 784), dtype=np.float32), rng.integers(0, 10, 60000))
    result = {"python": platform.python_version(), "cpus": os.cpu_count(),
              "batched_epoch_cpu_s": batched_epoch_s(dataset, args.rounds), "per_sample_samples": args.samples}
    with tempfile.TemporaryDirectory() as root:
        write_fake_mnist(root, args.samples)
        for workers in (0, 2):
            result[f"per_sample_epoch_wall_s_{workers}_workers"] = per_sample_epoch_s(root, workers)
    for key, value in result.items():
        print(f"{key:40s} {value}")
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
