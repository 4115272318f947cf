"""Data-parallel training speed over MPI: samples/s of 784-256-256-10 at global batch 256 on 1 vs 2 processes.

The 1-process figure is plain training (no MPI); the 2-process one runs `mpirun -n 2` with
DistributedDataParallel over a ShardedDataset (each rank computes 128 of the 256 samples), BLAS
pinned to one thread per process. Also reported: the time per step spent in `sync_gradients`
(packing, the Allreduce, and waiting for the slower rank) and the bytes each rank contributes to
the all-reduce per step, for the MLP (measured) and for the SimpleConvNet (from its parameter
count: the network does not exist yet, so its speed is not measured). The data are random
float32 images of MNIST's shape: speed does not depend on the values. Each configuration runs
--rounds times and the fastest round is reported. Prints a table and writes JSON.

    python benchmarks/distributed_speed.py [--steps 200] [--rounds 3] [--out benchmarks/results/distributed_speed.json]
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

SIZES, BATCH, WARMUP = (784, 256, 256, 10), 256, 10
# SimpleConvNet (conv 30x1x5x5, fc 4320-100, fc 100-10): weights + biases of each layer
CNN_PARAMETERS = (30 * 1 * 5 * 5 + 30) + (4320 * 100 + 100) + (100 * 10 + 10)


def worker(steps: int, distributed: bool) -> dict | None:
    """Train `steps` timed steps (after a warm-up); the timings on rank 0, None on the other ranks."""
    from graphgrad import nn, optim
    from graphgrad.data import DataLoader, TensorDataset

    rng = np.random.default_rng(0)
    x = rng.random((BATCH * 40, 784), dtype=np.float32)
    t = rng.integers(0, 10, len(x))
    dataset = TensorDataset(x, t)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers += [nn.Linear(n_in, n_out, generator=rng)] + ([nn.ReLU()] if i < len(SIZES) - 2 else [])
    model = net = nn.Sequential(*layers)
    if distributed:
        from graphgrad.distributed import DistributedDataParallel, ShardedDataset, barrier

        net, dataset = DistributedDataParallel(model), ShardedDataset(dataset)
    opt, loss_fn = optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss()
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, seed=0)
    sync_seconds, compute_cpu, done, started = 0.0, 0.0, 0, None
    while done < WARMUP + steps:
        for xb, tb in loader:
            if done == WARMUP:
                if distributed:
                    barrier()
                started, sync_seconds, compute_cpu = time.perf_counter(), 0.0, 0.0
            cpu = time.thread_time()
            loss = loss_fn(net(xb), tb)
            opt.zero_grad()
            loss.backward()
            compute_cpu += time.thread_time() - cpu
            if distributed:
                before = time.perf_counter()
                net.sync_gradients()
                sync_seconds += time.perf_counter() - before
            cpu = time.thread_time()
            opt.step()
            compute_cpu += time.thread_time() - cpu
            done += 1
            if done == WARMUP + steps:
                break
    seconds = time.perf_counter() - started
    result = {"samples_per_s": steps * BATCH / seconds, "ms_per_step": 1e3 * seconds / steps,
              "compute_cpu_ms_per_step": 1e3 * compute_cpu / steps,
              "parameters": sum(p.data.size for p in model.parameters())}
    if not distributed:
        return result
    from mpi4py import MPI

    from graphgrad.distributed import init

    world = init()
    result["processes"] = world.Get_size()
    result["bytes_per_step"] = net.bytes_per_step
    result["compute_cpu_ms_per_step"] = 1e3 * world.allreduce(compute_cpu, op=MPI.MAX) / steps  # slowest rank
    result["sync_ms_per_step"] = 1e3 * sync_seconds / steps  # includes waiting for the other rank
    # The Allreduce alone, back to back (both ranks ready): its best time is the transfer's cost.
    flat = np.zeros(net.bytes_per_step // 4, np.float32)
    reduced, times = np.empty_like(flat), []
    for _ in range(30):
        world.Barrier()
        before = time.perf_counter()
        world.Allreduce(flat, reduced, op=MPI.SUM)
        times.append(time.perf_counter() - before)
    result["allreduce_ms_best"], result["allreduce_ms_median"] = 1e3 * min(times), 1e3 * float(np.median(times))
    return result if world.Get_rank() == 0 else None


def launch(processes: int, steps: int) -> dict:
    """One round on `processes` processes (1: plain, no MPI); rank 0's JSON result."""
    me = [sys.executable, os.path.abspath(__file__), "--worker", "--steps", str(steps)]
    if processes == 1:
        cmd = me
    else:
        root = ["--allow-run-as-root"] if os.geteuid() == 0 else []
        # For a machine shared with other work: Open MPI pins each rank to one core by default
        # (a rank then waits for its core while another is idle), and a rank waiting in the
        # Allreduce spins on its core unless told to yield it (here 2x faster with both options).
        cmd = ["mpirun", *root, "--bind-to", "none", "--mca", "mpi_yield_when_idle", "1",
               "-n", str(processes), *me, "--distributed"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/results/distributed_speed.json")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--distributed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        result = worker(args.steps, args.distributed)
        if result is not None:
            print(json.dumps(result))
        return
    if shutil.which("mpirun") is None:
        sys.exit("distributed_speed: needs Open MPI's mpirun (apt-get install openmpi-bin libopenmpi-dev) and mpi4py")
    best = {}
    for _ in range(args.rounds):
        for k in (1, 2):
            r = launch(k, args.steps)
            if k not in best or r["samples_per_s"] > best[k]["samples_per_s"]:
                best[k] = r
    mlp_bytes = best[2]["bytes_per_step"]
    report = {
        "network": "784-256-256-10", "global_batch": BATCH, "steps": args.steps, "rounds": args.rounds,
        "cpus": os.cpu_count(), "load_average": os.getloadavg(),
        "one_process": best[1], "two_processes": best[2],
        "speedup": best[2]["samples_per_s"] / best[1]["samples_per_s"],
        "bytes_per_step": {"mlp 784-256-256-10 (measured)": mlp_bytes,
                           "SimpleConvNet (from its parameter count; speed not measured)": CNN_PARAMETERS * 4},
    }
    one, two = best[1], best[2]
    print(f"784-256-256-10, global batch {BATCH}, {args.steps} steps, best of {args.rounds}, "
          f"{os.cpu_count()} CPUs, load average {report['load_average'][0]:.1f}")
    print(f"  1 process  : {one['samples_per_s']:7.0f} samples/s, {one['ms_per_step']:.1f} ms/step "
          f"(compute {one['compute_cpu_ms_per_step']:.1f} ms CPU)")
    print(f"  2 processes: {two['samples_per_s']:7.0f} samples/s, {two['ms_per_step']:.1f} ms/step "
          f"(compute {two['compute_cpu_ms_per_step']:.1f} ms CPU on the slower rank, sync_gradients "
          f"{two['sync_ms_per_step']:.1f} ms incl. waiting); {report['speedup']:.2f}x")
    print(f"  Allreduce of the gradients alone: best {two['allreduce_ms_best']:.2f} ms, "
          f"median {two['allreduce_ms_median']:.2f} ms")
    print(f"  all-reduced per step and rank: MLP {mlp_bytes:,} bytes ({two['parameters']:,} float32); "
          f"SimpleConvNet {CNN_PARAMETERS * 4:,} bytes ({CNN_PARAMETERS:,} float32; not measured)")
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
