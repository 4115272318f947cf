"""Data-parallel training speed over MPI: samples/s on 1 vs 2 processes, for an MLP and the SimpleConvNet.

Networks: 784-256-256-10 at global batch 256 and the SimpleConvNet (`graphgrad train --model cnn`)
at global batch 200, float32, SGD. The 1-process figure is plain training (no MPI); the 2-process
ones run `mpirun -n 2` with DistributedDataParallel over a ShardedDataset (each rank computes half
of every batch): with the reductions overlapped with backward (the default, which puts either
network's gradient in one bucket; and with 1 MiB buckets, two each here, of which the first
travels while backward computes the first layer's gradients), and with them all after backward
(`no_sync()` around backward, then `sync_gradients()`). And the ceiling: 2 independent processes
(no MPI, no gradients exchanged), each training on half the batch side by side, their samples/s
from the slower one's step: what two processes get from this machine's cores, caches and memory
bandwidth before any communication. BLAS is pinned to one thread per process.
The rounds are interleaved (every configuration once per round, the order rotated from round to
round) and the medians reported, from wall time and from CPU time (`time.process_time` per rank,
the slower rank's): on a machine shared with other work the wall figures show the contention and the CPU
figures what the code costs. Also measured: the time per step spent in `sync_gradients` (the
reductions not yet done when backward ends, plus waiting for the slower rank), the bare
`Allreduce` of one step's gradients, and the bytes each rank all-reduces per step. Random data of
MNIST's shape (speed does not depend on the values). Prints a table and writes JSON.

    python benchmarks/distributed_speed.py [--rounds 5] [--out benchmarks/results/distributed_speed.json]
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
from statistics import median  # noqa: E402

import numpy as np  # noqa: E402

# name: (global batch, timed steps); 10 warm-up steps before them
NETWORKS = {"mlp": (256, 200), "cnn": (200, 30)}
WARMUP = 10
# label: (processes, overlap, bucket_cap_mb); one bucket holds either network's whole gradient at 25 MiB
CONFIGS = {"1 process": (1, True, 25.0), "2 processes": (2, True, 25.0),
           "2 processes, 1 MiB buckets": (2, True, 1.0), "2 processes, no overlap": (2, False, 25.0),
           "2 independent processes": (2, None, None)}  # no MPI: each trains on its own, half the batch


def build(network: str, rng):
    """784-256-256-10 or the SimpleConvNet, float32."""
    from graphgrad import nn
    from graphgrad.train.models import simple_cnn

    if network == "cnn":
        return simple_cnn(seed=0)
    return nn.Sequential(nn.Linear(784, 256, generator=rng), nn.ReLU(), nn.Linear(256, 256, generator=rng),
                         nn.ReLU(), nn.Linear(256, 10, generator=rng))


def worker(network: str, distributed: bool, overlap: bool, bucket_cap_mb: float, share: int = 1) -> dict | None:
    """Train the timed steps (after a warm-up) on 1/share of the global batch; the timings on rank 0, None on the
    other ranks."""
    from contextlib import nullcontext

    from graphgrad import nn, optim
    from graphgrad.data import DataLoader, TensorDataset

    batch, steps = NETWORKS[network]
    batch //= share
    rng = np.random.default_rng(0)
    x = rng.random((batch * 20, 784), dtype=np.float32)
    dataset = TensorDataset(x, rng.integers(0, 10, len(x)))
    model = net = build(network, rng)
    if distributed:
        from graphgrad.distributed import DistributedDataParallel, ShardedDataset, barrier

        net, dataset = DistributedDataParallel(model, bucket_cap_mb=bucket_cap_mb), ShardedDataset(dataset)
    opt, loss_fn = optim.SGD(model.parameters(), lr=0.01), nn.CrossEntropyLoss()
    loader = DataLoader(dataset, batch_size=batch, shuffle=True, seed=0)
    sync_wall = sync_cpu = 0.0
    done, started, cpu_started = 0, None, None
    while done < WARMUP + steps:
        for xb, tb in loader:
            if done == WARMUP:
                if distributed:
                    barrier()
                started, cpu_started, sync_wall, sync_cpu = time.perf_counter(), time.process_time(), 0.0, 0.0
            loss = loss_fn(net(xb), tb)
            opt.zero_grad()
            with nullcontext() if overlap or not distributed else net.no_sync():
                loss.backward()
            if distributed:
                wall, cpu = time.perf_counter(), time.process_time()
                net.sync_gradients()
                sync_wall += time.perf_counter() - wall
                sync_cpu += time.process_time() - cpu
            opt.step()
            done += 1
            if done == WARMUP + steps:
                break
    if distributed:
        barrier()  # the step ends when both ranks have finished it
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    result = {"wall_ms_per_step": 1e3 * wall / steps, "cpu_ms_per_step": 1e3 * cpu / steps,
              "compute_cpu_ms_per_step": 1e3 * (cpu - sync_cpu) / steps,
              "parameters": sum(p.data.size for p in model.parameters())}
    if not distributed:
        return result
    from mpi4py import MPI

    from graphgrad.distributed import init

    world = init()
    for key in ("cpu_ms_per_step", "compute_cpu_ms_per_step"):  # the slower rank's
        result[key] = world.allreduce(result[key], op=MPI.MAX)
    result["bytes_per_step"] = net.bytes_per_step
    result["buckets"] = len(net.buckets)
    result["sync_ms_per_step"] = world.allreduce(1e3 * sync_wall / steps, op=MPI.MAX)
    # The Allreduce alone, back to back (both ranks ready): its best time is the transfer's cost.
    flat = np.zeros(net.bytes_per_step // 4, np.float32)
    reduced, times = np.empty_like(flat), []
    for _ in range(20):
        world.Barrier()
        before = time.perf_counter()
        world.Allreduce(flat, reduced, op=MPI.SUM)
        times.append(time.perf_counter() - before)
    result["allreduce_ms_best"], result["allreduce_ms_median"] = 1e3 * min(times), 1e3 * median(times)
    return result if world.Get_rank() == 0 else None


def launch(network: str, processes: int, overlap: bool | None, bucket_cap_mb: float | None) -> dict:
    """One run on `processes` processes (1: plain, no MPI; overlap None: as many plain processes side by side,
    each on its share of the batch, the slower one's timings): rank 0's JSON result."""
    me = [sys.executable, os.path.abspath(__file__), "--worker", network]
    if processes == 1:
        cmd = me
    elif overlap is None:
        runs = [subprocess.Popen(me + ["--share", str(processes)], stdout=subprocess.PIPE, text=True)
                for _ in range(processes)]
        results = [json.loads(run.communicate()[0].strip().splitlines()[-1]) for run in runs]
        if any(run.returncode for run in runs):
            raise subprocess.CalledProcessError(max(run.returncode for run in runs), me)
        return max(results, key=lambda r: r["wall_ms_per_step"])
    else:
        root = ["--allow-run-as-root"] if os.geteuid() == 0 else []
        # For a machine shared with other work: Open MPI pins each rank to one core by default
        # (a rank then waits for its core while another is idle), and a rank waiting in the
        # Allreduce spins on its core unless told to yield it (here 2x faster with both options).
        cmd = ["mpirun", *root, "--oversubscribe", "--bind-to", "none", "--mca", "mpi_yield_when_idle", "1",
               "-n", str(processes), *me, "--distributed", "--bucket-cap-mb", str(bucket_cap_mb)]
        cmd += [] if overlap else ["--no-overlap"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def summarise(network: str, runs: dict) -> dict:
    """Medians over the rounds of each configuration, samples/s from wall and from CPU time."""
    batch, steps = NETWORKS[network]
    out = {"global_batch": batch, "steps": steps}
    for label, rounds in runs.items():
        med = {key: median(r[key] for r in rounds) for key in rounds[0] if isinstance(rounds[0][key], float)}
        med["samples_per_s_wall"] = batch / med["wall_ms_per_step"] * 1e3
        med["samples_per_s_cpu"] = batch / med["cpu_ms_per_step"] * 1e3
        med["wall_ms_per_step_rounds"] = [round(r["wall_ms_per_step"], 2) for r in rounds]
        for key in ("parameters", "bytes_per_step", "buckets"):
            if key in rounds[0]:
                med[key] = rounds[0][key]
        out[label] = med
    one = out["1 process"]
    for label in runs:
        out[label]["speedup_wall"] = out[label]["samples_per_s_wall"] / one["samples_per_s_wall"]
        out[label]["speedup_cpu"] = out[label]["samples_per_s_cpu"] / one["samples_per_s_cpu"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--networks", default="mlp,cnn")
    parser.add_argument("--out", default="benchmarks/results/distributed_speed.json")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--distributed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-overlap", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bucket-cap-mb", type=float, default=25.0, help=argparse.SUPPRESS)
    parser.add_argument("--share", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        result = worker(args.worker, args.distributed, not args.no_overlap, args.bucket_cap_mb, args.share)
        if result is not None:
            print(json.dumps(result))
        return
    if shutil.which("mpirun") is None:
        sys.exit("distributed_speed: needs Open MPI's mpirun (apt-get install openmpi-bin libopenmpi-dev) and mpi4py")
    networks = args.networks.split(",")
    runs = {n: {label: [] for label in CONFIGS} for n in networks}
    loads = [os.getloadavg()[0]]
    labels = list(CONFIGS)
    for r in range(args.rounds):
        for network in networks:
            for label in labels[r % len(labels):] + labels[:r % len(labels)]:  # each configuration in turn first
                runs[network][label].append(launch(network, *CONFIGS[label]))
        loads.append(os.getloadavg()[0])
    report = {"cpus": os.cpu_count(), "rounds": args.rounds, "load_average_1min": loads,
              "networks": {n: summarise(n, runs[n]) for n in networks}}
    print(f"{args.rounds} interleaved rounds, medians; {os.cpu_count()} CPUs, 1-minute load average "
          f"{min(loads):.1f} to {max(loads):.1f}")
    for network, summary in report["networks"].items():
        name = "784-256-256-10" if network == "mlp" else "SimpleConvNet"
        print(f"{name}, global batch {summary['global_batch']}, {summary['steps']} steps:")
        for label in CONFIGS:
            r = summary[label]
            line = (f"  {label:26s}: {r['samples_per_s_wall']:6.0f} samples/s wall ({r['speedup_wall']:.2f}x), "
                    f"{r['samples_per_s_cpu']:6.0f} from CPU time ({r['speedup_cpu']:.2f}x); "
                    f"{r['wall_ms_per_step']:.1f} ms/step, CPU {r['cpu_ms_per_step']:.1f} ms "
                    f"(outside sync_gradients {r['compute_cpu_ms_per_step']:.1f})")
            if "sync_ms_per_step" in r:
                line += f", in sync_gradients {r['sync_ms_per_step']:.2f} ms"
            print(line)
        two, small = summary["2 processes"], summary["2 processes, 1 MiB buckets"]
        print(f"  all-reduced per step and rank: {two['bytes_per_step']:,} bytes ({two['parameters']:,} float32, "
              f"{two['buckets']} or {small['buckets']} buckets); bare Allreduce best {two['allreduce_ms_best']:.2f} ms, "
              f"median {two['allreduce_ms_median']:.2f} ms")
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
