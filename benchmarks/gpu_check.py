"""The GPU check: one command, within 8 minutes on one H200, writing benchmarks/results/gpu_check.json.

1. ops:      every public op (from the registry) forward, backward and second backward on the device
             library against NumPy, float64, rtol 1e-10; and the fused CUDA kernels against the plain code;
2. steps:    training-step time, graphgrad on CuPy vs PyTorch CUDA eager, in the same run: MLP
             784-256-256-10 at batch 128 and 4096; SimpleConvNet at 100 and 1024; DeepConvNet's sizes
             at 256 (the conv rows only where graphgrad.conv2d exists);
3. mnist:    one MNIST training run through `graphgrad train --device cuda`, with its accuracy and time.

On the GPU machine (no network there; build/gpu_deps is carried, see docs/gpu.md):
    python benchmarks/gpu_check.py --prepare                       # here: array-api-compat + MNIST into build/gpu_deps
    PYTHONPATH=.:build/gpu_deps python benchmarks/gpu_check.py --data build/gpu_deps/mnist --json $OUT/gpu_check.json
`--dry-run` runs everything on the CPU in seconds: array-api-strict's second device (else NumPy)
stands in for CuPy and PyTorch runs on its CPU, at tiny sizes.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import platform
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

import graphgrad as gg

RESULTS = Path(__file__).resolve().parent / "results" / "gpu_check.json"
DEPS = Path(__file__).resolve().parent.parent / "build" / "gpu_deps"
RTOL, ATOL = 1e-10, 1e-12


# ---- where things run -------------------------------------------------------------------------

@dataclass
class Target:
    """The device graphgrad is checked on, and PyTorch's device for the same comparison."""

    name: str
    device: object  # what graphgrad's .to() takes
    torch_device: str
    dry: bool

    def sync(self) -> None:
        if not self.dry:
            gg.cuda.synchronize()


def choose_target(dry: bool) -> Target:
    if not dry:
        reason = gg.cuda.unavailable_reason()
        if reason is not None:
            raise SystemExit(f"gpu_check: {reason}; use --dry-run to check the script on the CPU")
        return Target("cuda", gg.device("cuda:0"), "cuda", dry=False)
    try:
        import array_api_strict
    except ImportError:
        return Target("numpy (dry run)", gg.device("cpu"), "cpu", dry=True)
    return Target("array_api_strict device1 (dry run)", array_api_strict.Device("device1"), "cpu", dry=True)


# ---- 1. ops ---------------------------------------------------------------------------------

@dataclass
class Case:
    """One op call: `fn(*tensors)` of `arrays`; gradients are checked for the inputs marked in `grad`."""

    op: str
    fn: Callable
    arrays: list
    grad: tuple


def op_cases() -> list[Case]:
    """Every public op's cases from the shared table (graphgrad.testing), as tests/test_array_api.py runs them."""
    from graphgrad.testing import CASES, VALUE_CASES

    cases = [Case(name.split("-")[0], fn, arrays, (True,) * len(arrays)) for name, (fn, arrays, *_) in CASES.items()]
    return cases + [Case(name.split("-")[0], fn, arrays, (False,) * len(arrays)) for name, (fn, arrays) in VALUE_CASES.items()]


def run_case(case: Case, device, second_order: bool = True) -> dict:
    """Output, gradients and gradients of the gradients' sum, as NumPy arrays, computed on `device`."""
    ts = [gg.tensor(a, dtype=None if a.dtype == bool or a.dtype.kind in "iu" else "float64",
                    requires_grad=g, device=device) for a, g in zip(case.arrays, case.grad)]
    out = case.fn(*ts)
    result = {"out": out.numpy(), "grads": []}
    if not any(case.grad):  # a value-only op (comparisons, indices): nothing to differentiate
        return result
    w = gg.tensor(np.linspace(0.5, 1.5, max(out.numel(), 1)).reshape(out.shape), dtype="float64", device=device)
    (out * w).sum().backward(create_graph=second_order)
    grads = [t.grad for t, g in zip(ts, case.grad) if g]
    result["grads"] = [g.numpy() for g in grads]
    if second_order and all(g is not None and g.creator is not None for g in grads):
        for t in ts:
            t.grad = None
        total = grads[0].sum()
        for g in grads[1:]:
            total = total + g.sum()
        total.backward()
        result["second"] = [None if t.grad is None else t.grad.numpy() for t, g in zip(ts, case.grad) if g]
    return result


def check_ops(target: Target) -> dict:
    from graphgrad.testing import PYTHON_RESULTS

    cases = op_cases()
    registry = sorted(c.name for c in gg.ops.public_ops() if c.__module__.startswith("graphgrad."))  # not users' ops
    covered = {c.op for c in cases} | PYTHON_RESULTS  # those return Python values: tests/test_array_api.py
    rows = []
    for case in cases:
        row = {"op": case.op, "differentiable": any(case.grad)}
        try:
            expected = run_case(case, None)
            second = "second" in expected
            got = run_case(case, target.device, second_order=second)
            pairs = [("output", expected["out"], got["out"])]
            pairs += [(f"grad {i}", e, g) for i, (e, g) in enumerate(zip(expected["grads"], got["grads"]))]
            if second:
                pairs += [(f"second {i}", e, g) for i, (e, g) in enumerate(zip(expected["second"], got["second"]))
                          if e is not None or g is not None]
            worst = 0.0
            for what, e, g in pairs:
                if (e is None) != (g is None):
                    raise AssertionError(f"{what}: NumPy gives {e is not None}, the device {g is not None}")
                np.testing.assert_allclose(g, e, rtol=RTOL, atol=ATOL, err_msg=f"{case.op} {what}")
                worst = max(worst, float(np.max(np.abs(g.astype(float) - e.astype(float)), initial=0.0)))
            row.update(ok=True, checked=[p[0] for p in pairs], max_abs_diff=worst)
        except Exception as err:  # one failing op must not hide the others
            row.update(ok=False, error=f"{type(err).__name__}: {str(err)[:400]}")
        rows.append(row)
    failed = [r["op"] for r in rows if not r["ok"]]
    return {"cases": len(rows), "failed": failed, "uncovered": sorted(set(registry) - covered),
            "rtol": RTOL, "atol": ATOL, "rows": rows}


def check_kernels(target: Target) -> dict:
    """The fused CuPy kernels against the plain code they replace, run on NumPy (GPU only); times of both on CuPy."""
    if target.dry:
        return {"skipped": "the fused kernels need CuPy (dry run)"}
    import cupy as cp

    from graphgrad.backend import cuda_kernels
    from graphgrad.optim import updates

    rows, rng = [], np.random.default_rng(1)
    for dtype, rtol in ((np.float64, 1e-12), (np.float32, 2e-6)):
        for name, plain, fused, hyper in (
            ("sgd", updates.sgd_step, cuda_kernels.sgd_step, dict(lr=0.1, weight_decay=0.01)),
            ("sgd-momentum", updates.sgd_step, cuda_kernels.sgd_step, dict(lr=0.1, momentum=0.9, dampening=0.1)),
            ("sgd-nesterov", updates.sgd_step, cuda_kernels.sgd_step,
             dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
            ("adam", updates.adam_step, cuda_kernels.adam_step, dict(lr=0.01, weight_decay=0.01)),
            ("adamw", updates.adam_step, cuda_kernels.adam_step,
             dict(lr=0.01, weight_decay=0.01, decoupled_weight_decay=True)),
        ):
            p0 = rng.standard_normal((64, 33)).astype(dtype)
            gs = [rng.standard_normal(p0.shape).astype(dtype) for _ in range(4)]
            row = {"kernel": name, "dtype": np.dtype(dtype).name, "ok": False}
            reference, state = p0.copy(), {}
            for g in gs:  # the plain rule on NumPy: the tested reference
                plain(reference, g, state, **hyper)
            try:
                b, sb = cp.asarray(p0), {}
                for g in gs:
                    fused(b, cp.asarray(g), sb, **hyper)
                np.testing.assert_allclose(b.get(), reference, rtol=rtol, atol=rtol)
                assert sorted(sb) == sorted(state), (sorted(sb), sorted(state))
                big, ones = cp.zeros((784, 256), dtype=dtype), cp.ones((784, 256), dtype=dtype)
                row.update(ok=True, max_abs_diff=float(np.abs(b.get() - reference).max()),
                           time_fused_ms_784x256=_time_gpu(lambda s={}: fused(big, ones, s, **hyper)))
                try:
                    row["time_plain_ms_784x256"] = _time_gpu(lambda s={}: plain(big, ones, s, **hyper))
                except Exception as err:  # the plain rule itself may not run on CuPy yet
                    row["plain_on_cupy_error"] = f"{type(err).__name__}: {str(err)[:200]}"
            except Exception as err:
                row["error"] = f"{type(err).__name__}: {str(err)[:300]}"
            rows.append(row)
        x0 = (rng.standard_normal((128, 10)) * 3).astype(dtype)
        t0 = rng.integers(0, 10, 128)
        x, t = cp.asarray(x0), cp.asarray(t0)
        row = {"kernel": "cross_entropy", "dtype": np.dtype(dtype).name, "ok": False}
        try:
            xt = gg.tensor(x0, requires_grad=True)  # the op on NumPy: the tested reference
            loss = gg.cross_entropy(xt, gg.tensor(t0))
            loss.backward()
            fused_loss, m, s = cuda_kernels.cross_entropy_forward(x, t)
            gx = cuda_kernels.cross_entropy_backward(x, t, m, s, cp.asarray(1.0, dtype=dtype))
            np.testing.assert_allclose(float(fused_loss), loss.item(), rtol=rtol)
            np.testing.assert_allclose(gx.get(), xt.grad.numpy(), rtol=rtol, atol=rtol)
            row.update(ok=True, time_fused_ms=_time_gpu(lambda: cuda_kernels.cross_entropy_backward(
                x, t, *cuda_kernels.cross_entropy_forward(x, t)[1:], cp.asarray(1.0, dtype=dtype))))
            try:
                row["time_plain_ms"] = _time_gpu(lambda: _plain_ce(x, t))
            except Exception as err:
                row["plain_on_cupy_error"] = f"{type(err).__name__}: {str(err)[:200]}"
        except Exception as err:
            row["error"] = f"{type(err).__name__}: {str(err)[:300]}"
        rows.append(row)
    return {"failed": [f"{r['kernel']} {r['dtype']}" for r in rows if not r["ok"]], "rows": rows}


def _plain_ce(x, t):
    xt = gg.tensor(x, requires_grad=True)
    gg.cross_entropy(xt, gg.tensor(t)).backward()
    return xt.grad


def _time_gpu(fn, repeats: int = 50) -> float:
    fn()
    gg.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    gg.cuda.synchronize()
    return (time.perf_counter() - start) / repeats * 1e3


# ---- 2. training steps ------------------------------------------------------------------------

def mlp(torch=None):
    if torch is not None:
        nn = torch.nn
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    nn = gg.nn
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))


def simple_cnn(torch=None):
    nn = torch.nn if torch is not None else gg.nn
    return nn.Sequential(nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(30 * 12 * 12, 100), nn.ReLU(), nn.Linear(100, 10))


def deep_cnn(torch=None):
    """DeepConvNet's convolutions and sizes (the textbook's; without its dropout, whose masks are not the point)."""
    nn = torch.nn if torch is not None else gg.nn
    layers = []
    for c_in, c_out, pad, pool in ((1, 16, 1, False), (16, 16, 1, True), (16, 32, 1, False), (32, 32, 2, True),
                                   (32, 64, 1, False), (64, 64, 1, True)):
        layers += [nn.Conv2d(c_in, c_out, 3, padding=pad), nn.ReLU()]
        if pool:
            layers.append(nn.MaxPool2d(2))
    layers += [nn.Flatten(), nn.Linear(64 * 4 * 4, 50), nn.ReLU(), nn.Linear(50, 10)]
    return nn.Sequential(*layers)


STEP_ROWS = [("mlp 784-256-256-10", mlp, (784,), 128), ("mlp 784-256-256-10", mlp, (784,), 4096),
             ("SimpleConvNet", simple_cnn, (1, 28, 28), 100), ("SimpleConvNet", simple_cnn, (1, 28, 28), 1024),
             ("DeepConvNet", deep_cnn, (1, 28, 28), 256)]


def time_steps(target: Target, steps: int, repeats: int, dry_batch: int | None) -> dict:
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None and target.dry:
        torch.set_num_threads(1)  # the dry run shares a small CPU
    rows = []
    for name, build, shape, batch in STEP_ROWS:
        n = dry_batch or batch
        row = {"model": name, "batch": n}
        rng = np.random.default_rng(0)
        x = rng.standard_normal((n, *shape)).astype(np.float32)
        t = rng.integers(0, 10, n)
        try:
            row["graphgrad_ms"] = _graphgrad_step_ms(target, build, x, t, steps, repeats)
        except Exception as err:
            row["graphgrad_error"] = f"{type(err).__name__}: {str(err)[:300]}"
        if torch is None:
            row["torch_error"] = "PyTorch is not installed"
        else:
            row["torch_ms"] = _torch_step_ms(torch, target, build, x, t, steps, repeats)
        if "graphgrad_ms" in row and "torch_ms" in row:
            row["ratio"] = row["graphgrad_ms"] / row["torch_ms"]
        print(f"  {name} batch {n}: graphgrad {row.get('graphgrad_ms', row.get('graphgrad_error'))} ms, "
              f"torch {row.get('torch_ms')} ms, ratio {row.get('ratio')}")
        rows.append(row)
    failed = [f"{r['model']} batch {r['batch']}" for r in rows if "graphgrad_error" in r]
    return {"failed": failed, "steps_per_repeat": steps, "repeats": repeats, "statistic": "median over repeats of ms per step",
            "optimizer": "SGD lr 0.01 momentum 0.9", "dtype": "float32", "rows": rows}


def _graphgrad_step_ms(target: Target, build, x, t, steps: int, repeats: int) -> float:
    model = build().to(target.device)
    opt = gg.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    xb, tb = gg.tensor(x, device=target.device), gg.tensor(t, device=target.device)

    def step():
        loss = gg.cross_entropy(model(xb), tb)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return _median_ms(step, target.sync, steps, repeats)


def _torch_step_ms(torch, target: Target, build, x, t, steps: int, repeats: int) -> float:
    dev = target.torch_device
    model = build(torch).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    xb, tb = torch.from_numpy(x).to(dev), torch.from_numpy(t).to(dev)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        loss = loss_fn(model(xb), tb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
    return _median_ms(step, sync, steps, repeats)


def _median_ms(step, sync, steps: int, repeats: int, warmup: int = 3) -> float:
    for _ in range(warmup):  # kernel compilation, allocator pools
        step()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        sync()
        times.append((time.perf_counter() - start) / steps * 1e3)
    return statistics.median(times)


# ---- 3. MNIST ----------------------------------------------------------------------------------

def mnist_run(target: Target, data: str | None, epochs: int) -> dict:
    """`graphgrad train` on MNIST on the device: the CNN where it exists, else the MLP."""
    from graphgrad.cli import main
    from graphgrad.datasets import cache_dir

    with tempfile.TemporaryDirectory() as tmp:
        if target.dry:
            data = _fake_mnist(Path(tmp) / "mnist")
        elif data is None and not (cache_dir() / "mnist.npz").exists():
            return {"skipped": "no MNIST here: pass --data DIR (IDX files; see --prepare) or fill the cache"}
        args = ["train", "--model", "cnn", "--optimizer", "adam", "--batch-size", "100", "--seed", "0",
                "--device", "cpu" if target.dry else "cuda", "--out", str(Path(tmp) / "run"), "--quiet"]
        args += ["--iters", "3"] if target.dry else ["--epochs", str(epochs)]
        if data is not None:
            args += ["--data", str(data)]
        out = io.StringIO()
        start = time.perf_counter()
        with contextlib.redirect_stdout(out):
            status = main(args)
        seconds = time.perf_counter() - start
    text = out.getvalue()
    accuracy = None
    for line in text.splitlines():
        if line.startswith("test accuracy"):
            accuracy = float(line.split()[2])
    return {"command": "graphgrad " + " ".join(args).replace(tmp, "<tmp>"),
            "exit_status": status, "test_accuracy": accuracy, "seconds": seconds, "output_tail": text[-800:]}


def _fake_mnist(folder: Path) -> Path:
    from graphgrad.datasets import write_idx
    from graphgrad.datasets.mnist import IDX_NAMES

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", 300), ("test", 100)):
        write_idx(folder / (IDX_NAMES[split][0] + ".gz"), rng.integers(0, 255, (n, 28, 28)).astype(np.uint8))
        write_idx(folder / (IDX_NAMES[split][1] + ".gz"), rng.integers(0, 10, n).astype(np.uint8))
    return folder


# ---- driver ---------------------------------------------------------------------------------------

def prepare() -> None:
    """Fill build/gpu_deps with what the GPU machine lacks and cannot download: array-api-compat and MNIST."""
    import array_api_compat

    from graphgrad.datasets import MNIST, write_idx
    from graphgrad.datasets.mnist import IDX_NAMES

    DEPS.mkdir(parents=True, exist_ok=True)
    shutil.copytree(Path(array_api_compat.__file__).parent, DEPS / "array_api_compat", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (DEPS / "mnist").mkdir(exist_ok=True)
    for split in ("train", "test"):
        ds = MNIST(split, dtype="float32", quiet=True)
        x, t = ds.arrays[:2]
        images = np.rint(np.asarray(x) * 255).astype(np.uint8).reshape(-1, 28, 28)
        write_idx(DEPS / "mnist" / (IDX_NAMES[split][0] + ".gz"), images)
        write_idx(DEPS / "mnist" / (IDX_NAMES[split][1] + ".gz"), np.asarray(t).astype(np.uint8))
    size = sum(f.stat().st_size for f in DEPS.rglob("*") if f.is_file())
    print(f"gpu_check --prepare: {DEPS} holds array_api_compat {array_api_compat.__version__} and MNIST "
          f"({size / 2 ** 20:.1f} MiB); carry it: run(carry=['build/gpu_deps'], ...)")


def environment(target: Target) -> dict:
    env = {"target": target.name, "python": platform.python_version(), "numpy": np.__version__,
           "graphgrad": gg.__version__}
    for name in ("cupy", "torch", "array_api_compat", "array_api_strict"):
        module = sys.modules.get(name)
        if module is None:
            try:
                module = __import__(name)
            except ImportError:
                continue
        env[name] = getattr(module, "__version__", "?")
    if not target.dry:
        import cupy as cp

        env["gpu"] = cp.cuda.runtime.getDeviceProperties(0)["name"].decode()
    return env


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dry-run", action="store_true", help="on the CPU, tiny sizes: checks the script, measures nothing")
    p.add_argument("--prepare", action="store_true", help="copy array-api-compat and MNIST into build/gpu_deps and stop")
    p.add_argument("--json", default=str(RESULTS), help="where the results go")
    p.add_argument("--data", help="MNIST IDX directory for the training run")
    p.add_argument("--epochs", type=int, default=3, help="epochs of the MNIST run")
    p.add_argument("--budget-s", type=float, default=420.0, help="sections that would start after this are skipped")
    args = p.parse_args(argv)
    if args.prepare:
        prepare()
        return 0
    target = choose_target(args.dry_run)
    started = time.perf_counter()
    report = {"dry_run": args.dry_run, "environment": environment(target),
              "note": "dry run: plumbing only, nothing here is a GPU measurement" if args.dry_run else None}
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    sections = [("ops", lambda: check_ops(target)), ("kernels", lambda: check_kernels(target)),
                ("steps", lambda: time_steps(target, 1 if args.dry_run else 20, 1 if args.dry_run else 5,
                                             8 if args.dry_run else None)),
                ("mnist", lambda: mnist_run(target, args.data, args.epochs))]
    for name, run in sections:
        if name == "steps" and any(not r["ok"] and r["kernel"] != "cross_entropy" for r in report["kernels"].get("rows", [])):
            from graphgrad.backend import cuda_kernels

            cuda_kernels.FUSED_RULES.clear()  # time the steps with the plain rules rather than not at all
            report["kernels"]["note"] = "fused rules failed: the steps were timed with the plain update rules"
        elapsed = time.perf_counter() - started
        if elapsed > args.budget_s:
            report[name] = {"skipped": f"time budget: {elapsed:.0f}s spent of {args.budget_s:.0f}s"}
        else:
            print(f"gpu_check: {name} ...", flush=True)
            t0 = time.perf_counter()
            try:
                report[name] = run()
            except Exception:
                report[name] = {"error": traceback.format_exc()[-1500:]}
            report[name]["seconds"] = time.perf_counter() - t0
        report["seconds"] = time.perf_counter() - started
        out.write_text(json.dumps(report, indent=1, default=str) + "\n")  # after every section: a timeout keeps the rest
    failed = [f for name in ("ops", "kernels", "steps") for f in report[name].get("failed", [])]
    if report["mnist"].get("exit_status") not in (None, 0):
        failed.append("mnist run")
    errors = [name for name, _ in sections if "error" in report[name]]
    print(f"gpu_check: {report['ops'].get('cases')} op cases, failed {failed or 'none'}; "
          f"uncovered ops {report['ops'].get('uncovered') or 'none'}; errors in {errors or 'no section'}; "
          f"{report['seconds']:.0f}s; wrote {out}")
    return 1 if failed or errors else 0


if __name__ == "__main__":
    sys.exit(main())
