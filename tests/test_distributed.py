"""graphgrad.distributed: K-process runs under `mpirun` against one process, the sampler, failures.

The multi-process tests launch `mpirun --oversubscribe -n K` on the small scripts in
tests/mpi_scripts/ and compare what they write; they skip only when mpirun or mpi4py is missing.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from graphgrad.data import DataLoader, TensorDataset
from graphgrad.distributed import DistributedSampler, ShardedDataset
from graphgrad.train import load_checkpoint

SCRIPTS = Path(__file__).parent / "mpi_scripts"
ROOT = Path(__file__).parent.parent

try:
    import mpi4py  # noqa: F401
except ImportError:
    mpi4py = None

needs_mpi = pytest.mark.skipif(
    shutil.which("mpirun") is None or mpi4py is None,
    reason="needs Open MPI's mpirun and mpi4py (apt-get install openmpi-bin libopenmpi-dev; pip install mpi4py)",
)


def mpirun(k: int, *args: str) -> list[str]:
    """The command line that runs `python args...` on k processes (as root too, as CI runs)."""
    root = ["--allow-run-as-root"] if os.geteuid() == 0 else []
    return ["mpirun", *root, "--oversubscribe", "-n", str(k), sys.executable, *args]


def run(cmd: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `cmd` in its own session with one BLAS thread; on timeout end the whole session (no orphans)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=ROOT, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{' '.join(cmd)} hung for {timeout}s:\n{out}\n{err}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


# ---- equivalence ------------------------------------------------------------------------------

@needs_mpi
@pytest.mark.parametrize("family", ["mlp", "cnn"])
def test_two_and_three_processes_train_to_the_single_process_parameters(tmp_path, family):
    """MLP and CNN (SimpleConvNet; a conv net with BatchNorm2d), with batch norm too: SyncBatchNorm's
    statistics and gradients are the whole batch's. The buckets were reduced while backward ran."""
    script = str(SCRIPTS / "train_equivalence.py")
    runs = {1: tmp_path / "plain", 2: tmp_path / "two", 3: tmp_path / "three"}
    for d in runs.values():
        d.mkdir()
    done = run([sys.executable, script, str(runs[1]), "plain", family], timeout=400)
    assert done.returncode == 0, done.stderr
    for k in (2, 3):
        done = run(mpirun(k, script, str(runs[k]), "ddp", family), timeout=400)
        assert done.returncode == 0, done.stderr
    for opt in ("momentum", "adam", "adam_bn"):  # adam_bn: SyncBatchNorm on the ranks, BatchNorm1d/2d on one
        reference = dict(np.load(runs[1] / f"plain_{family}_{opt}_rank0.npz"))
        start = np.load(runs[1] / f"plain_{family}_{opt}_start.npz")  # training moved every parameter
        assert all(np.abs(reference[n] - start[n]).max() > 1e-4 * np.abs(start[n]).max() for n in start), opt
        for k in (2, 3):
            first = dict(np.load(runs[k] / f"ddp_{family}_{opt}_rank0.npz"))
            assert first.keys() == reference.keys()
            for name, want in reference.items():
                got = first[name]
                assert np.abs(got - want).max() <= 1e-12 * np.abs(want).max(), (opt, k, name)
            for r in range(1, k):  # every rank holds exactly rank 0's parameters
                other = np.load(runs[k] / f"ddp_{family}_{opt}_rank{r}.npz")
                assert all(np.array_equal(other[n], first[n]) for n in reference), (opt, k, r)


@needs_mpi
def test_collectives_and_gradient_sync_on_two_ranks():
    """all_reduce, broadcast_parameters, uneven/empty shares, missing gradients (asserted in the script)."""
    done = run(mpirun(2, str(SCRIPTS / "api.py")))
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stdout + done.stderr


def test_importing_graphgrad_and_its_distributed_package_does_not_start_mpi():
    code = "import sys, graphgrad, graphgrad.distributed; print('mpi4py' in sys.modules)"
    done = run([sys.executable, "-c", code])
    assert done.returncode == 0 and done.stdout.strip() == "False", done.stderr


# ---- the samplers -------------------------------------------------------------------------------

@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (10, 3, True), (12, 4, False),
                                                    (2, 5, False), (7, 1, False)])
def test_distributed_sampler_covers_every_index_once_per_epoch(n, replicas, drop_last):
    dataset = np.arange(n)
    epochs = []
    for epoch in range(3):
        parts = []
        for r in range(replicas):
            sampler = DistributedSampler(dataset, num_replicas=replicas, rank=r, seed=5, drop_last=drop_last)
            sampler.set_epoch(epoch)
            parts.append(list(sampler))
        assert len({len(p) for p in parts}) == 1 and len(parts[0]) == len(sampler)
        seen = np.concatenate(parts)
        if drop_last:  # n // replicas each, no index twice
            assert len(seen) == n // replicas * replicas and len(set(seen.tolist())) == len(seen)
        else:  # every index, and the padding repeats only the first (len(seen) - n) of the epoch's order
            counts = np.bincount(seen, minlength=n)
            assert counts.min() >= 1 and len(seen) == -(-n // replicas) * replicas
            order = np.stack(parts, axis=1).reshape(-1)  # rank r took every replicas-th index from r
            assert np.array_equal(np.sort(order[:n]), np.arange(n))
            assert np.array_equal(order[n:], np.resize(order[:n], len(seen) - n))
        epochs.append(seen)
    if n > 2:
        assert not np.array_equal(epochs[0], epochs[1]) and not np.array_equal(epochs[1], epochs[2])


def test_distributed_sampler_without_shuffle_and_its_errors():
    parts = [list(DistributedSampler(range(5), num_replicas=2, rank=r, shuffle=False)) for r in range(2)]
    assert parts == [[0, 2, 4], [1, 3, 0]]
    with pytest.raises(ValueError, match="rank=2, num_replicas=2"):
        DistributedSampler(range(5), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="3 samples cannot be shared by 4 replicas with drop_last"):
        DistributedSampler(range(3), num_replicas=4, rank=0, drop_last=True)


def test_dataloader_batches_a_distributed_sampler_and_follows_set_epoch():
    x = np.arange(22, dtype=np.float64)[:, None]
    sampler = DistributedSampler(TensorDataset(x), num_replicas=2, rank=1, seed=3)
    loader = DataLoader(TensorDataset(x), batch_size=4, sampler=sampler)
    assert len(loader) == 3  # 11 samples of this rank in batches of 4
    first = np.concatenate([b.data[:, 0] for (b,) in loader])
    assert np.array_equal(first, sampler.indices())
    sampler.set_epoch(1)
    second = np.concatenate([b.data[:, 0] for (b,) in loader])
    assert np.array_equal(second, sampler.indices()) and not np.array_equal(first, second)
    with pytest.raises(ValueError, match="sampler sets the order itself"):
        DataLoader(TensorDataset(x), batch_size=4, sampler=sampler, shuffle=True)


@pytest.mark.parametrize("batch, replicas", [(31, 3), (31, 2), (2, 3), (8, 4)])
def test_sharded_dataset_splits_every_global_batch_into_contiguous_shares(batch, replicas):
    x = np.arange(100, dtype=np.float64)[:, None]
    loaders = [DataLoader(ShardedDataset(TensorDataset(x), num_replicas=replicas, rank=r), batch_size=batch,
                          shuffle=True, seed=4) for r in range(replicas)]
    single = DataLoader(TensorDataset(x), batch_size=batch, shuffle=True, seed=4)
    for whole, *shares in zip(single, *loaders):
        sizes = [len(s.data) for (s,) in shares]
        assert np.array_equal(np.concatenate([s.data for (s,) in shares]), whole[0].data)
        assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)
    with pytest.raises(ValueError, match="rank=-1"):
        ShardedDataset(TensorDataset(x), num_replicas=2, rank=-1)


# ---- failures -----------------------------------------------------------------------------------

def _wait_gone(pids: list[int], seconds: float) -> list[int]:
    """The pids still running (zombies count as gone) after waiting up to `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        alive = []
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            if state != "Z":
                alive.append(pid)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def _pids(directory: Path, k: int) -> list[int]:
    return [int((directory / f"pid{r}").read_text()) for r in range(k)]


@needs_mpi
def test_an_exception_on_one_rank_aborts_every_rank_with_its_number(tmp_path):
    started = time.monotonic()
    done = run(mpirun(3, str(SCRIPTS / "fail.py"), str(tmp_path), "raise", "1"), timeout=30)
    assert time.monotonic() - started < 10
    assert done.returncode != 0
    assert "RuntimeError: deliberate failure at step 3" in done.stderr
    assert "rank 1 of 3: graphgrad.distributed: failed with RuntimeError" in done.stderr
    assert "aborting all 3 processes (MPI_Abort)" in done.stderr
    assert _wait_gone(_pids(tmp_path, 3), 5) == []


@needs_mpi
def test_kill_9_of_one_rank_ends_the_job_without_orphans(tmp_path):
    cmd = mpirun(3, str(SCRIPTS / "fail.py"), str(tmp_path), "hang")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not all((tmp_path / f"pid{r}").exists() for r in range(3)) and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = _pids(tmp_path, 3)
        time.sleep(0.5)  # every rank is in its training loop
        os.kill(pids[1], signal.SIGKILL)
        started = time.monotonic()
        _, err = proc.communicate(timeout=10)
        assert time.monotonic() - started < 10
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode != 0 and "rank 1" in err and "signal 9" in err
    assert _wait_gone(pids, 5) == []


# ---- graphgrad train --distributed: checkpoint on 2 processes, resume on 1 and on 3 ----------------

CLI = ["-c", "import sys; from graphgrad.cli import main; sys.exit(main(sys.argv[1:]))"]  # `graphgrad ...`


def _train_args(data: Path, out: Path, epochs: int, *extra: str) -> list[str]:
    return [*CLI, "train", "--data", str(data), "--out", str(out), "--epochs", str(epochs),
            "--model", "mlp", "--hidden", "32", "--optimizer", "adam", "--lr", "0.01", "--batch-size", "20",
            "--dtype", "float64", "--quiet", *extra]


@needs_mpi
def test_train_checkpointed_on_two_processes_resumes_on_one_and_on_three(data_dir, tmp_path):
    whole, two = tmp_path / "whole", tmp_path / "two"
    done = run([sys.executable, *_train_args(data_dir, whole, 3)])
    assert done.returncode == 0, done.stderr
    done = run(mpirun(2, *_train_args(data_dir, two, 1, "--distributed")))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("test accuracy") == 1  # rank 0 alone reports
    reference = load_checkpoint(whole)
    first = load_checkpoint(two)
    for key in ("train_loss", "train_accuracy", "test_accuracy"):  # epoch 1 summed over both ranks
        assert first["history"][0][key] == pytest.approx(reference["history"][0][key], rel=1e-12), key
    one, three = tmp_path / "one", tmp_path / "three"
    shutil.copytree(two, one)
    shutil.copytree(two, three)
    done = run([sys.executable, *_train_args(data_dir, one, 3, "--resume")])  # a plain run reads it too
    assert done.returncode == 0, done.stderr
    done = run(mpirun(3, *_train_args(data_dir, three, 3, "--resume", "--distributed")))  # shares 7+7+6
    assert done.returncode == 0, done.stderr
    want = reference["model"]
    for out in (one, three):
        state = load_checkpoint(out)
        assert state["iteration"] == 30
        for name, value in want.items():
            assert np.abs(state["model"][name] - value).max() <= 1e-12 * np.abs(value).max(), (out.name, name)


def test_fit_distributed_needs_a_distributed_data_parallel_model():
    from graphgrad import nn
    from graphgrad.nn import CrossEntropyLoss
    from graphgrad.optim import SGD
    from graphgrad.train import fit

    model = nn.Linear(2, 2)
    loader = DataLoader(TensorDataset(np.zeros((4, 2)), np.zeros(4, dtype=np.int64)), batch_size=2)
    with pytest.raises(TypeError, match="wrapped in graphgrad.distributed.DistributedDataParallel, got Linear"):
        fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), loader, distributed=True, quiet=True)


@needs_mpi
def test_train_usage_error_on_one_rank_ends_every_rank(data_dir, tmp_path):
    # rank 1 reads a data directory that does not exist: it alone fails, and must not leave rank 0 waiting
    script = ("import sys; from graphgrad.distributed import rank; from graphgrad.cli import main; "
              f"sys.argv[1:] = {_train_args(data_dir, tmp_path / 'out', 1, '--distributed')[2:]!r}; "
              f"sys.argv[sys.argv.index('--data') + 1] += '-missing' * rank(); sys.exit(main(sys.argv[1:]))")
    started = time.monotonic()
    done = run(mpirun(2, "-c", script), timeout=30)
    assert time.monotonic() - started < 10 and done.returncode != 0
    assert "rank 1 of 2: graphgrad train: error:" in done.stderr and "MPI_Abort" in done.stderr


def test_convert_sync_batchnorm_keeps_the_parameters_buffers_and_eval_output():
    from graphgrad import Tensor, nn
    from graphgrad.distributed import SyncBatchNorm

    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Conv2d(1, 3, 3, bias=False, dtype=np.float64, generator=rng),
                          nn.BatchNorm2d(3, dtype=np.float64), nn.Sequential(nn.Flatten(), nn.BatchNorm1d(12)))
    model[1].running_mean[...] = [0.5, -1.0, 2.0]
    params, state = list(model.parameters()), model.state_dict()
    x = Tensor(rng.standard_normal((2, 1, 4, 4)))
    want = model.eval()(x).data
    converted = SyncBatchNorm.convert_sync_batchnorm(model)
    assert converted is model and type(model[1]) is SyncBatchNorm and type(model[2][1]) is SyncBatchNorm
    assert list(model.parameters()) == params  # the same Parameter objects: an optimizer keeps working
    assert list(model.state_dict()) == list(state)  # and in the same order
    assert all(np.shares_memory(a, state[k]) for k, a in model.state_dict().items())
    assert not model[1].training
    np.testing.assert_array_equal(model(x).data, want)
    with pytest.raises(ValueError, match=r"SyncBatchNorm\(3\): expected input of shape .*\(N, 3, H, W\), got \(2, 4\)"):
        model[1].train()(Tensor(np.ones((2, 4))))
    assert type(SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm1d(2))) is SyncBatchNorm
