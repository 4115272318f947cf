"""Per-op overhead: forward+backward of ((x @ W + b).relu() @ V).sum() on an 8-4-2 net at batch 1.

graphgrad vs the same forward and backward written by hand in raw NumPy vs PyTorch eager, in one
run, BLAS pinned to one thread, median of repeated timings. Prints a table and writes JSON.

    python benchmarks/op_overhead.py [--out benchmarks/results/op_overhead.json]
"""
import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import graphgrad as gg  # noqa: E402


def timed(step, inner: int, repeats: int) -> float:
    """Median over `repeats` of the mean seconds per call over `inner` calls."""
    for _ in range(inner // 5):
        step()
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            step()
        runs.append((time.perf_counter() - start) / inner)
    return statistics.median(runs)


def contenders():
    rng = np.random.default_rng(0)
    x, W, b, V = (rng.standard_normal(s).astype(np.float32) for s in ((1, 8), (8, 4), (4,), (4, 2)))

    def raw_numpy():
        h = x @ W + b
        mask = h > 0
        r = h * mask
        out = r @ V
        out.sum()
        g_out = np.ones_like(out)
        gV = r.T @ g_out
        gh = (g_out @ V.T) * mask
        return x.T @ gh, gh.sum(axis=0), gV

    tx, tW, tb, tV = gg.Tensor(x), *(gg.tensor(a, requires_grad=True) for a in (W, b, V))

    def graphgrad():
        tW.grad = tb.grad = tV.grad = None
        ((tx @ tW + tb).relu() @ tV).sum().backward()

    yield "raw NumPy", raw_numpy
    yield "graphgrad", graphgrad
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)
    px, pW, pb, pV = torch.from_numpy(x), *(torch.tensor(a, requires_grad=True) for a in (W, b, V))

    def pytorch():
        pW.grad = pb.grad = pV.grad = None
        ((px @ pW + pb).relu() @ pV).sum().backward()

    yield f"PyTorch {torch.__version__}", pytorch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inner", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--out", default="benchmarks/results/op_overhead.json")
    args = parser.parse_args()
    rows = [(name, timed(step, args.inner, args.repeats)) for name, step in contenders()]
    base = rows[0][1]
    print(f"{'contender':22s} {'us/step':>9s} {'x raw NumPy':>12s}")
    for name, sec in rows:
        print(f"{name:22s} {sec * 1e6:9.2f} {sec / base:12.2f}")
    result = {
        "benchmark": "8-4-2 forward+backward, batch 1, float32, 1 BLAS thread",
        "python": platform.python_version(), "numpy": np.__version__,
        "us_per_step": {name: round(sec * 1e6, 3) for name, sec in rows},
        "ratio_to_raw_numpy": {name: round(sec / base, 3) for name, sec in rows},
    }
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
