"""CNN training-step speed and memory: graphgrad vs PyTorch eager vs a hand-written raw-NumPy im2col network.

Networks: the textbook's SimpleConvNet (conv 30@5x5, ReLU, 2x2 max-pool, 4320-100-10) and the
DeepConvNet layer sizes (six 3x3 convolutions 16-16-32-32-64-64, a 2x2 max-pool after each pair,
1024-50-10 with dropout), batch 100, float32, plain SGD, on fixed random images (speed does not
depend on the pixel values). Every contender runs in its own subprocess with BLAS pinned to one
thread (the variables are set before NumPy is imported); rounds are interleaved (order rotated),
each reports its median step time in CPU time (process_time: the machine is shared, and wall time
there is mostly waiting for a core) and its training-phase memory growth (peak RSS minus RSS before
the first step); the table shows the median over rounds. The machine this was written on is shared,
so single timings are noisy: compare contenders within one run. GFLOP/s counts the step's matrix
products (forward, weight gradients, input gradients where needed), next to this machine's
single-thread SGEMM rate measured in the same run (the GEMM bound). Also measured: the step's own
matrix products alone, at the shapes graphgrad's kernels give OpenBLAS (patch blocks of a few
images; small M and K run far below the 1024-square rate), the floor of any im2col-plus-GEMM step.

    python benchmarks/cnn_speed.py [--steps 20] [--rounds 5] [--nets simple,deep] [--out benchmarks/results/cnn_speed.json]
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

BATCH, LR = 100, 0.01
CONTENDERS = ("numpy", "graphgrad", "torch")
# (out channels, kernel, padding) per convolution; "pool" is a 2x2 max-pool
NETS = {
    "simple": dict(convs=[(30, 5, 0), "pool"], hidden=100, dropout=False),
    "deep": dict(convs=[(16, 3, 1), (16, 3, 1), "pool", (32, 3, 1), (32, 3, 2), "pool", (64, 3, 1), (64, 3, 1), "pool"],
                 hidden=50, dropout=True),
}


def shapes(net: str):
    """[(kind, in_shape (C, H, W), out_shape, params)] for the layers of a net, and the flattened size."""
    c, h, w = 1, 28, 28
    layers = []
    for spec in NETS[net]["convs"]:
        if spec == "pool":
            layers.append(("pool", (c, h, w), (c, h // 2, w // 2), None))
            h, w = h // 2, w // 2
        else:
            o, k, p = spec
            oh, ow = h + 2 * p - k + 1, w + 2 * p - k + 1
            layers.append(("conv", (c, h, w), (o, oh, ow), (k, p)))
            c, h, w = o, oh, ow
    return layers, c * h * w


def step_flops(net: str) -> float:
    """Multiply-adds x 2 of the step's matrix products (the first layer needs no input gradient)."""
    layers, flat = shapes(net)
    total, first = 0.0, True
    for kind, (c, _, _), (o, oh, ow), p in layers:
        if kind == "conv":
            k = p[0]
            one = 2.0 * BATCH * oh * ow * o * c * k * k
            total += one * (2 if first else 3)
            first = False
    hidden = NETS[net]["hidden"]
    total += 2.0 * BATCH * flat * hidden * 3 + 2.0 * BATCH * hidden * 10 * 3
    return total


def gemm_rate() -> float:
    """Single-thread SGEMM GFLOP/s on 1024-square float32 matrices (best of 5, CPU time)."""
    a = np.random.default_rng(0).random((1024, 1024), dtype=np.float32)
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        a @ a
        best = min(best, time.process_time() - start)
    return 2 * 1024 ** 3 / best / 1e9


def step_gemms(net: str) -> list:
    """The (M, K, N) of each matrix product in graphgrad's step, as its NumPy kernels call them.

    A convolution multiplies a patch block of a few images at a time (graphgrad.ops.conv.blocks):
    forward (O, C·k·k) by (C·k·k, cols), the input gradient (stride 1: a convolution of the padded
    output gradient with the flipped kernel) (C, O·k·k) by (O·k·k, cols), the weight gradient
    (O, cols) by (cols, C·k·k); then the two affine layers' three products each.
    """
    from graphgrad.ops.conv import blocks

    layers, flat = shapes(net)
    gemms, first = [], True
    for kind, (c, h, w), (o, oh, ow), p in layers:
        if kind != "conv":
            continue
        k = p[0]
        for part in blocks(BATCH, c * k * k * oh * ow * 4):
            n = (part.stop - part.start) * oh * ow
            gemms += [(o, c * k * k, n), (o, n, c * k * k)]
        if not first:
            for part in blocks(BATCH, o * k * k * h * w * 4):
                gemms.append((c, o * k * k, (part.stop - part.start) * h * w))
        first = False
    hidden = NETS[net]["hidden"]
    for n_in, n_out in ((flat, hidden), (hidden, 10)):
        gemms += [(BATCH, n_in, n_out), (n_in, BATCH, n_out), (BATCH, n_out, n_in)]
    return gemms


def shaped_gemm_ms(net: str, rounds: int = 5) -> float:
    """CPU time of the step's matrix products alone at their own shapes (their operands ready-made,
    a fresh one per product as in the step): what im2col plus GEMM costs before any copy."""
    rng = np.random.default_rng(0)
    operands = [(rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32))
                for m, k, n in step_gemms(net)]
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for a, b in operands:
            a @ b
        best = min(best, time.process_time() - start)
    return 1e3 * best


def initial_weights(net: str, seed: int = 0):
    """PyTorch-style U(±1/√fan_in) weights: [(W, b)] for the convs (O, C, k, k) then the two affine layers (in, out)."""
    rng = np.random.default_rng(seed)
    layers, flat = shapes(net)
    out = []
    for kind, (c, _, _), (o, _, _), p in layers:
        if kind == "conv":
            bound = 1 / np.sqrt(c * p[0] ** 2)
            out.append((rng.uniform(-bound, bound, (o, c, p[0], p[0])).astype(np.float32),
                        rng.uniform(-bound, bound, o).astype(np.float32)))
    hidden = NETS[net]["hidden"]
    for n_in, n_out in ((flat, hidden), (hidden, 10)):
        bound = 1 / np.sqrt(n_in)
        out.append((rng.uniform(-bound, bound, (n_in, n_out)).astype(np.float32),
                    rng.uniform(-bound, bound, n_out).astype(np.float32)))
    return out


def data():
    rng = np.random.default_rng(1)
    return rng.random((BATCH, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, BATCH)


# ---- raw NumPy: im2col by a strided window view and one copy, col2im by strided adds ----------
def run_numpy(net: str, steps: int):
    from numpy.lib.stride_tricks import sliding_window_view

    x, t = data()
    params = [(w.copy(), b.copy()) for w, b in initial_weights(net)]
    layers, _ = shapes(net)
    dropout = NETS[net]["dropout"]
    conv_pads = [p[1] for kind, _, _, p in layers if kind == "conv"]
    rng = np.random.default_rng(2)

    def step():
        caches, a, pi = [], x, 0
        for kind, _, _, p in layers:
            if kind == "conv":
                w, b = params[pi]
                k, pad = p
                ap = np.pad(a, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else a
                n, c, hp, wp = ap.shape
                oh, ow = hp - k + 1, wp - k + 1
                col = sliding_window_view(ap, (k, k), axis=(2, 3)).transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, -1)
                z = col @ w.reshape(w.shape[0], -1).T
                z += b
                z = z.reshape(n, oh, ow, -1).transpose(0, 3, 1, 2)
                r = np.maximum(z, 0)
                caches.append(("conv", pi, col, ap.shape, r))
                a, pi = r, pi + 1
            else:
                n, c, h, w_ = a.shape
                v = a.reshape(n, c, h // 2, 2, w_ // 2, 2)
                m = v.max(axis=(3, 5))
                mask = v == m[:, :, :, None, :, None]
                caches.append(("pool", mask, a.shape))
                a = m
        n = a.shape[0]
        flat = a.reshape(n, -1)
        (w1, b1), (w2, b2) = params[pi], params[pi + 1]
        h1 = np.maximum(flat @ w1 + b1, 0)
        d1 = (rng.random(h1.shape) >= 0.5) * np.float32(2) if dropout else None
        h1d = h1 * d1 if dropout else h1
        y = h1d @ w2 + b2
        d2 = (rng.random(y.shape) >= 0.5) * np.float32(2) if dropout else None
        y = y * d2 if dropout else y
        e = np.exp(y - y.max(axis=1, keepdims=True))
        prob = e / e.sum(axis=1, keepdims=True)
        prob[np.arange(n), t] -= 1
        gy = prob / n
        if dropout:
            gy = gy * d2
        grads = {pi + 1: (h1d.T @ gy, gy.sum(axis=0))}
        gh = gy @ w2.T
        if dropout:
            gh = gh * d1
        gh = gh * (h1 > 0)
        grads[pi] = (flat.T @ gh, gh.sum(axis=0))
        g = (gh @ w1.T).reshape(a.shape)
        for cache in reversed(caches):
            if cache[0] == "pool":
                _, mask, shape = cache
                g = (mask * g[:, :, :, None, :, None]).reshape(shape)
            else:
                _, li, col, pshape, r = cache
                w, _ = params[li]
                gz = g * (r > 0)
                n, o, oh, ow = gz.shape
                gmat = gz.transpose(0, 2, 3, 1).reshape(-1, o)
                grads[li] = ((gmat.T @ col).reshape(w.shape), gmat.sum(axis=0))
                if li == 0:
                    break
                k = w.shape[2]
                gcol = (gmat @ w.reshape(o, -1)).reshape(n, oh, ow, -1, k, k)
                gp = np.zeros(pshape, dtype=np.float32)
                for i in range(k):
                    for j in range(k):
                        gp[:, :, i:i + oh, j:j + ow] += gcol[:, :, :, :, i, j].transpose(0, 3, 1, 2)
                pad = conv_pads[li]
                g = gp[:, :, pad:pshape[2] - pad, pad:pshape[3] - pad] if pad else gp
        for li, (gw, gb) in grads.items():
            w, b = params[li]
            w -= LR * gw
            b -= LR * gb

    return step


# ---- graphgrad and PyTorch: the same network from their layers ---------------------------
def run_graphgrad(net: str, steps: int):
    import graphgrad as gg
    from graphgrad import nn, optim

    x, t = data()
    weights = initial_weights(net)
    layers, flat = shapes(net)
    modules, wi = [], 0
    for kind, (c, _, _), (o, _, _), p in layers:
        if kind == "conv":
            conv = nn.Conv2d(c, o, p[0], padding=p[1])
            conv.weight.data[...], conv.bias.data[...] = weights[wi]
            modules += [conv, nn.ReLU()]
            wi += 1
        else:
            modules.append(nn.MaxPool2d(2))
    hidden = NETS[net]["hidden"]
    fc1, fc2 = nn.Linear(flat, hidden), nn.Linear(hidden, 10)
    for fc, (w, b) in zip((fc1, fc2), weights[wi:]):
        fc.weight.data[...], fc.bias.data[...] = w.T, b
    modules += [nn.Flatten(), fc1, nn.ReLU()]
    if NETS[net]["dropout"]:
        modules += [nn.Dropout(0.5, generator=2), fc2, nn.Dropout(0.5, generator=3)]
    else:
        modules.append(fc2)
    model = nn.Sequential(*modules)
    loss_fn, opt = nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=LR)
    xt = gg.Tensor(x)

    def step():
        opt.zero_grad()
        loss_fn(model(xt), t).backward()
        opt.step()

    return step


def run_torch(net: str, steps: int):
    import torch

    torch.set_num_threads(1)
    x, t = data()
    weights = initial_weights(net)
    layers, flat = shapes(net)
    modules, wi = [], 0
    for kind, (c, _, _), (o, _, _), p in layers:
        if kind == "conv":
            conv = torch.nn.Conv2d(c, o, p[0], padding=p[1])
            with torch.no_grad():
                conv.weight.copy_(torch.from_numpy(weights[wi][0]))
                conv.bias.copy_(torch.from_numpy(weights[wi][1]))
            modules += [conv, torch.nn.ReLU()]
            wi += 1
        else:
            modules.append(torch.nn.MaxPool2d(2))
    hidden = NETS[net]["hidden"]
    fc1, fc2 = torch.nn.Linear(flat, hidden), torch.nn.Linear(hidden, 10)
    with torch.no_grad():
        for fc, (w, b) in zip((fc1, fc2), weights[wi:]):
            fc.weight.copy_(torch.from_numpy(w.T.copy()))
            fc.bias.copy_(torch.from_numpy(b))
    modules += [torch.nn.Flatten(), fc1, torch.nn.ReLU()]
    if NETS[net]["dropout"]:
        modules += [torch.nn.Dropout(0.5), fc2, torch.nn.Dropout(0.5)]
    else:
        modules.append(fc2)
    model = torch.nn.Sequential(*modules)
    loss_fn, opt = torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=LR)
    xt, tt = torch.from_numpy(x), torch.from_numpy(t)

    def step():
        opt.zero_grad()
        loss_fn(model(xt), tt).backward()
        opt.step()

    return step


RUNNERS = {"numpy": run_numpy, "graphgrad": run_graphgrad, "torch": run_torch}


def _status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def worker(contender: str, net: str, steps: int) -> dict:
    step = RUNNERS[contender](net, steps)
    before = _status_mb("VmRSS")
    _reset_peak()
    for _ in range(3):  # warm-up: first-call allocations, BLAS buffers
        step()
    times = []
    for _ in range(steps):
        start = time.process_time()
        step()
        times.append(time.process_time() - start)
    peak = _status_mb("VmHWM")
    return {"step_ms": 1e3 * statistics.median(times), "memory_growth_mb": (peak - before) if peak and before else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--nets", default="simple,deep")
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "cnn_speed.json"))
    parser.add_argument("--worker", nargs=2, metavar=("CONTENDER", "NET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], args.worker[1], args.steps)))
        return
    nets, contenders = args.nets.split(","), args.contenders.split(",")
    rate = gemm_rate()
    floors = {net: shaped_gemm_ms(net) for net in nets}
    runs = {(n, c): [] for n in nets for c in contenders}
    for r in range(args.rounds):
        for net in nets:
            order = contenders[r % len(contenders):] + contenders[:r % len(contenders)]
            for c in order:
                cmd = [sys.executable, __file__, "--worker", c, net, "--steps", str(args.steps)]
                proc = subprocess.run(cmd, capture_output=True, text=True)
                if proc.returncode:
                    sys.exit(f"{c} on {net} failed:\n{proc.stderr}")
                runs[net, c].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    report = {"gemm_gflops_1thread": rate, "batch": BATCH, "rounds": args.rounds, "steps": args.steps,
              "step_gemms_ms": floors, "results": {}}
    print(f"single-thread SGEMM: {rate:.0f} GFLOP/s (1024-square); the step's own GEMMs alone, at their shapes: "
          + ", ".join(f"{net} {ms:.1f} ms" for net, ms in floors.items()))
    print(f"{'net':>7} {'contender':>10} {'ms/step':>8} {'vs torch':>9} {'GFLOP/s':>8} {'GEMM bound ms':>14} {'mem MB':>7}")
    for net in nets:
        flops = step_flops(net)
        torch_ms = statistics.median(r["step_ms"] for r in runs[net, "torch"]) if "torch" in contenders else None
        for c in contenders:
            ms = statistics.median(r["step_ms"] for r in runs[net, c])
            mem = max((r["memory_growth_mb"] or 0) for r in runs[net, c])
            row = {"step_ms": ms, "rounds_ms": [r["step_ms"] for r in runs[net, c]], "gflops": flops / ms / 1e6,
                   "gemm_bound_ms": flops / rate / 1e6, "memory_growth_mb": mem,
                   "vs_torch": ms / torch_ms if torch_ms else None}
            report["results"][f"{net}/{c}"] = row
            vs = f"{row['vs_torch']:8.2f}x" if torch_ms else f"{'':>9}"
            print(f"{net:>7} {c:>10} {ms:8.1f} {vs} {row['gflops']:8.1f} {row['gemm_bound_ms']:14.1f} {mem:7.0f}")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
