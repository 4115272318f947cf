"""The MNIST network trained as a static graph vs eager graphgrad vs raw NumPy, plus the dense-Jacobian route.

Network 784-100-10 (fused Linear, ReLU, softmax cross-entropy), Adam (graphgrad.optim.updates'
adam_step in all three), mini-batches of 100 (and of 1, where the per-step framework cost shows),
BLAS pinned to one thread. Each contender trains
--steps mini-batches per round; rounds are interleaved and the median step time over rounds is
reported (CPU time of the process), with its ratio to raw NumPy. The dense route is the seed text's: per sample, the full
Jacobian of the loss with respect to every weight through `node.backward(loss)`; it is timed on
--dense-samples samples and extrapolated to a 60,000-sample epoch.

    python benchmarks/static_vs_eager.py [--steps 100] [--rounds 21] [--dense-samples 10]
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import graphgrad as G  # noqa: E402
import graphgrad.graph as gg  # noqa: E402
from graphgrad.ops.linear import Linear  # noqa: E402
from graphgrad.ops.losses import SoftmaxCrossEntropy  # noqa: E402
from graphgrad.optim.updates import adam_step  # noqa: E402

SIZES, BATCH, LR = (784, 100, 10), 100, 1e-3


def load(n: int, seed: int):
    """MNIST training images when available (else random pixels of the same shape), as float32 rows."""
    try:
        from graphgrad.book.mnist import load_mnist

        (x, t), _ = load_mnist(quiet=True)
        source = "MNIST"
    except Exception as err:  # timing does not depend on the pixels, so any data of the right shape will do
        rng = np.random.default_rng(seed)
        x, t = rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n)
        source = f"random data ({type(err).__name__}: MNIST unavailable)"
    return x[:n], t[:n].astype(np.int64), source


def init_params(seed: int):
    rng = np.random.default_rng(seed)
    out = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        out.append((rng.normal(0, np.sqrt(2 / n_in), (n_out, n_in)).astype(np.float32), np.zeros(n_out, np.float32)))
    return [a for pair in out for a in pair]


# ---- the three contenders: each returns a step(x, t) function ---------------------------------
def make_static(params):
    with gg.Graph() as g:
        x = gg.Variable((None, 784), trainable=False)
        t = gg.Variable((None,), trainable=False)
        w1, b1, w2, b2 = (gg.Variable(p.shape, init=p) for p in params)
        loss = gg.cross_entropy(gg.linear(gg.relu(gg.linear(x, w1, b1)), w2, b2), t)
    opt = gg.Adam(g, loss, learning_rate=LR, beta_2=0.999)

    def step(xb, tb):
        x.set_value(xb)
        t.set_value(tb)
        opt.one_step()
        opt.update()
    return step


def make_eager(params):
    ps = [G.Tensor(p, requires_grad=True) for p in params]
    states = [{} for _ in ps]

    def step(xb, tb):
        h = Linear()(G.Tensor(xb), ps[0], ps[1]).relu()
        loss = SoftmaxCrossEntropy()(Linear()(h, ps[2], ps[3]), G.Tensor(tb))
        loss.backward()
        for p, s in zip(ps, states):
            adam_step(p.data, p.grad.data, s, lr=LR)
            p.grad = None
    return step


def make_numpy(params):
    w1, b1, w2, b2 = params
    states = [{} for _ in params]

    def step(xb, tb):
        a = xb @ w1.T + b1
        h = np.maximum(a, 0)
        z = h @ w2.T + b2
        e = np.exp(z - z.max(axis=1, keepdims=True))
        y = e / e.sum(axis=1, keepdims=True)
        y[np.arange(len(tb)), tb] -= 1
        dz = y / len(tb)
        dh = dz @ w2
        dh *= a > 0
        grads = (dh.T @ xb, dh.sum(axis=0), dz.T @ h, dz.sum(axis=0))
        for p, g, s in zip(params, grads, states):
            adam_step(p, g, s, lr=LR)
    return step


def time_steps(step, x, t, steps: int, batch: int = BATCH) -> float:
    """CPU seconds per step over `steps` consecutive mini-batches.

    CPU time of this (single-threaded) process, not wall time: the machine is shared, and time
    spent waiting for a core is nobody's step time.
    """
    n = len(x) // batch
    start = time.process_time()
    for i in range(steps):
        j = (i % n) * batch
        step(x[j:j + batch], t[j:j + batch])
    return (time.process_time() - start) / steps


def dense_route(x, t, samples: int) -> dict:
    """The seed text's training step: per sample, dense Jacobians of the loss for every weight (float64)."""
    params = [p.astype(np.float64) for p in init_params(1)]
    with gg.Graph():
        xv, tv = gg.Variable((1, 784), trainable=False), gg.Variable((1,), trainable=False)
        ws = [gg.Variable(p.shape, init=p) for p in params]
        hidden = gg.linear(xv, ws[0], ws[1])
        loss = gg.cross_entropy(gg.linear(gg.relu(hidden), ws[2], ws[3]), tv)
    times = []
    for i in range(samples):
        xv.set_value(x[i:i + 1].astype(np.float64))
        tv.set_value(t[i:i + 1])
        start = time.process_time()
        grads = [w.backward(loss) for w in ws]
        times.append(time.process_time() - start)
    local = hidden.get_jacobi(ws[0])
    return {
        "seconds_per_sample": statistics.median(times),
        "seconds_per_60k_epoch": statistics.median(times) * 60_000,
        "first_layer_local_jacobian_shape": list(local.shape),
        "first_layer_local_jacobian_MB": local.nbytes / 1e6,
        "loss_jacobian_shapes": [list(g.shape) for g in grads],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--dense-samples", type=int, default=10)
    ap.add_argument("--out", default="benchmarks/results/static_vs_eager.json")
    args = ap.parse_args()

    x, t, source = load(args.steps * BATCH, 0)
    makers = {"numpy": make_numpy, "eager": make_eager, "static": make_static}
    steps = {name: make(init_params(0)) for name, make in makers.items()}
    for step in steps.values():
        time_steps(step, x, t, 5)  # warm-up: caches, allocator, the static graph's plans
    per_round = {name: [] for name in steps}
    overhead = {name: [] for name in steps}  # batches of one sample: the per-step framework cost shows
    for r in range(args.rounds):
        for name in list(steps)[r % 3:] + list(steps)[:r % 3]:  # rotate the order between rounds
            per_round[name].append(time_steps(steps[name], x, t, args.steps))
            overhead[name].append(time_steps(steps[name], x, t, args.steps, batch=1))
    median = {name: statistics.median(v) for name, v in per_round.items()}
    median1 = {name: statistics.median(v) for name, v in overhead.items()}
    result = {
        "benchmark": "static_vs_eager", "network": "784-100-10 Linear/ReLU/softmax-CE, Adam",
        "data": source, "batch_size": BATCH, "steps_per_round": args.steps, "rounds": args.rounds,
        "blas_threads": 1, "ms_per_step": {k: v * 1e3 for k, v in median.items()},
        "ratio_to_numpy": {k: v / median["numpy"] for k, v in median.items()},
        "static_over_eager": median["static"] / median["eager"],
        "us_per_step_batch_1": {k: v * 1e6 for k, v in median1.items()},
        "static_over_eager_batch_1": median1["static"] / median1["eager"],
        "seconds_per_60k_epoch": {k: v * 60_000 / BATCH for k, v in median.items()},
        "dense_jacobian_route": dense_route(x, t, args.dense_samples),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    for name in steps:
        print(f"{name:>7}: {median[name] * 1e3:7.3f} ms/step  {result['ratio_to_numpy'][name]:5.2f}x numpy  "
              f"{result['seconds_per_60k_epoch'][name]:6.2f} s/epoch")
    print(f"static / eager = {result['static_over_eager']:.3f}")
    print("batch of 1 (framework overhead): " + ", ".join(f"{k} {v * 1e6:.0f} us" for k, v in median1.items())
          + f"; static / eager = {result['static_over_eager_batch_1']:.3f}")
    d = result["dense_jacobian_route"]
    print(f"dense Jacobians (the text's route): {d['seconds_per_sample'] * 1e3:.1f} ms/sample, "
          f"{d['seconds_per_60k_epoch'] / 60:.1f} min/epoch; first layer's local Jacobian "
          f"{d['first_layer_local_jacobian_shape']} = {d['first_layer_local_jacobian_MB']:.1f} MB")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
