"""graphgrad.utils.data in PyTorch's form: per-sample datasets, samplers, default_collate, random_split,
worker processes, torchvision-style MNIST; checked against torch.utils.data where PyTorch defines the answer."""
from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import time
from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphgrad as gg
import graphgrad.data
import graphgrad.utils.data as data
from graphgrad.data import (BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler, Subset,
                            SubsetRandomSampler, TensorDataset, default_collate, get_worker_info, random_split)
from graphgrad.distributed import DistributedSampler

torch = pytest.importorskip("torch", reason="PyTorch is the oracle (pip install torch==2.13.0)")
tdata = torch.utils.data


class Squares(Dataset):
    """A per-sample dataset: item i is (i² as a (2,) float32 array, i, i / 2, a dict)."""

    def __init__(self, n: int = 10):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not isinstance(i, int):
            raise TypeError(f"Squares takes one int index, got {type(i).__name__}")
        return np.full(2, i * i, dtype=np.float32), i, i / 2, {"id": i, "even": i % 2 == 0}


def same(ours, theirs):
    """Our collated batch has PyTorch's structure, dtypes, shapes and values."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, gg.Tensor), type(ours)
        assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch.")), (ours.dtype, theirs.dtype)
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    elif isinstance(theirs, dict):
        assert type(ours) is dict and list(ours) == list(theirs)
        for key in theirs:
            same(ours[key], theirs[key])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), (type(ours), type(theirs))
        for a, b in zip(ours, theirs):
            same(a, b)
    else:
        assert ours == theirs


def test_the_pytorch_import_path_gives_the_same_objects():
    for name in data.__all__:
        assert getattr(data, name) is getattr(graphgrad.data, name)
    assert graphgrad.utils.data is data


Point = namedtuple("Point", "x y")
SAMPLES = {
    "arrays-ints-floats-dicts": [Squares()[i] for i in range(4)],
    "tensors": [gg.tensor(np.arange(3.0) * i) for i in range(3)],
    "bools-and-strings": [(True, "a", b"x"), (False, "b", b"y")],
    "named-tuples": [Point(np.int16(i), [i, 2 * i]) for i in range(3)],
    "numpy-scalars": [np.float32(1.5), np.float32(2.5)],
    "nested-lists": [[np.zeros((2, 2)), [1, 2.0]], [np.ones((2, 2)), [3, 4.0]]],
}


@pytest.mark.parametrize("name", SAMPLES)
def test_default_collate_is_pytorchs(name):
    samples = SAMPLES[name]
    to_torch = lambda s: torch.from_numpy(s.data.copy()) if isinstance(s, gg.Tensor) else s
    same(default_collate(samples), tdata.default_collate([to_torch(s) for s in samples]))


def test_default_collate_says_what_cannot_be_stacked():
    with pytest.raises(ValueError, match=r"samples of shapes \[\(2,\), \(3,\)\] cannot be stacked"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(TypeError, match="found NoneType"):
        default_collate([None, None])
    with pytest.raises(ValueError, match="same number of fields, got \\[1, 2\\]"):
        default_collate([(1,), (1, 2)])


def test_per_sample_datasets_are_read_one_sample_at_a_time_and_collated():
    ours = list(DataLoader(Squares(10), batch_size=4))
    theirs = list(tdata.DataLoader(Squares(10), batch_size=4))
    assert len(ours) == len(theirs) == 3
    for a, b in zip(ours, theirs):
        same(a, b)


class CountingTensors(TensorDataset):
    calls = 0

    def __getitem__(self, index):
        CountingTensors.calls += 1
        return super().__getitem__(index)


def test_batched_datasets_keep_the_one_gather_per_batch():
    x, t = np.arange(40.0).reshape(20, 2), np.arange(20)
    CountingTensors.calls = 0
    fast = list(DataLoader(CountingTensors(x, t), batch_size=6, shuffle=True, seed=1))
    assert CountingTensors.calls == 4 and isinstance(fast[0], tuple)
    CountingTensors.calls = 0  # a collate_fn of one's own gets the samples, as in PyTorch
    slow = list(DataLoader(CountingTensors(x, t), batch_size=6, shuffle=True, seed=1, collate_fn=default_collate))
    assert CountingTensors.calls == 20
    for (xa, ta), (xb, tb) in zip(fast, slow):
        np.testing.assert_array_equal(xa.data, xb.data)
        np.testing.assert_array_equal(ta.data, tb.data)
    assert Subset(TensorDataset(x), [1, 2]).batched and not Subset(Squares(), [1]).batched


def test_subset_maps_indices():
    ds = Subset(Squares(10), [7, 2, 9])
    assert len(ds) == 3 and ds[0][1] == 7 and ds[-1][1] == 9
    same(next(iter(DataLoader(ds, batch_size=3))), next(iter(tdata.DataLoader(tdata.Subset(Squares(10), [7, 2, 9]),
                                                                             batch_size=3))))
    tensors = Subset(TensorDataset(np.arange(10) * 10), [3, 1, 4])
    np.testing.assert_array_equal(tensors[np.array([2, 0])][0], [40, 30])


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 60), cuts=st.lists(st.integers(1, 9), min_size=1, max_size=4))
def test_random_split_fractions_give_pytorchs_lengths(n, cuts):
    fractions = [c / sum(cuts) for c in cuts]
    fractions[-1] = 1 - sum(fractions[:-1])
    ours = random_split(range(n), fractions, generator=3)
    theirs = tdata.random_split(range(n), fractions, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    everything = sorted(i for s in ours for i in s.indices)
    assert everything == list(range(n))  # disjoint, and together the whole dataset


def test_random_split_is_reproducible_and_checks_lengths():
    a = [s.indices for s in random_split(Squares(10), [3, 7], generator=np.random.default_rng(5))]
    b = [s.indices for s in random_split(Squares(10), [3, 7], generator=5)]
    assert a == b and sorted(a[0] + a[1]) == list(range(10))
    with pytest.raises(ValueError, match=r"the lengths \[3, 3\] sum to 6, but the dataset has 10 samples"):
        random_split(Squares(10), [3, 3])
    with pytest.raises(ValueError, match="non-negative integers or fractions summing to 1"):
        random_split(Squares(10), [0.5, 9.5])


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), bs=st.integers(1, 12), drop_last=st.booleans())
def test_batch_sampler_and_lengths_are_pytorchs(n, bs, drop_last):
    ours = BatchSampler(SequentialSampler(range(n)), bs, drop_last)
    theirs = tdata.BatchSampler(tdata.SequentialSampler(range(n)), bs, drop_last)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)
    if drop_last and bs > n:
        return
    assert len(DataLoader(Squares(n), bs, drop_last=drop_last)) == len(tdata.DataLoader(Squares(n), bs,
                                                                                       drop_last=drop_last))


def test_the_default_generator_fixes_an_unseeded_loaders_order():
    def order():
        return [b[1].data.tolist() for b in DataLoader(Squares(12), batch_size=4, shuffle=True)]

    gg.nn.init.manual_seed(3)
    first = order()
    gg.nn.init.manual_seed(3)
    assert order() == first and sorted(sum(first, [])) == list(range(12))


def test_random_samplers():
    ds = Squares(10)
    perm = list(RandomSampler(ds, generator=0))
    assert sorted(perm) == list(range(10)) and perm == list(RandomSampler(ds, generator=0))
    many = list(RandomSampler(ds, num_samples=25, generator=1))  # chained permutations, as PyTorch's
    assert len(many) == 25 and sorted(many[:10]) == list(range(10)) and sorted(many[10:20]) == list(range(10))
    drawn = list(RandomSampler(ds, replacement=True, num_samples=200, generator=2))
    assert len(drawn) == 200 and len(set(drawn)) == 10  # repeats, every index drawn
    sub = SubsetRandomSampler([4, 8, 6], generator=3)
    assert sorted(sub) == [4, 6, 8] and len(sub) == 3
    gg.nn.init.manual_seed(11)
    first = list(RandomSampler(ds))
    gg.nn.init.manual_seed(11)
    assert list(RandomSampler(ds)) == first  # no generator: the default one, as torch.manual_seed
    with pytest.raises(ValueError, match="num_samples must be a positive integer, got 0"):
        RandomSampler(ds, num_samples=0)


def test_samplers_batch_samplers_and_the_distributed_sampler_drive_the_loader():
    ds = Squares(10)
    got = [b[1].data.tolist() for b in DataLoader(ds, batch_size=3, sampler=SubsetRandomSampler([9, 1, 5, 3],
                                                                                                generator=0))]
    assert sorted(sum(got, [])) == [1, 3, 5, 9] and [len(g) for g in got] == [3, 1]
    batches = [[3, 1], [0, 2, 8], [5]]
    assert [b[1].data.tolist() for b in DataLoader(ds, batch_sampler=batches)] == batches
    sampler = DistributedSampler(ds, num_replicas=2, rank=1, seed=4)
    sampler.set_epoch(3)
    loader = DataLoader(ds, batch_size=2, sampler=sampler)
    assert sum((b[1].data.tolist() for b in loader), []) == sampler.indices().tolist() and len(loader) == 3


@pytest.mark.parametrize("drop_last, batches", [(True, 2), (False, 3)])
def test_replacement_draws_len_loader_full_batches(drop_last, batches):
    loader = DataLoader(TensorDataset(np.arange(10)), 4, shuffle=True, replacement=True, drop_last=drop_last, seed=0)
    got = [b[0].data for b in loader]
    assert len(loader) == len(got) == batches and all(len(b) == 4 for b in got)
    expected = np.random.default_rng(0).integers(0, 10, size=4 * batches)  # the textbook's draws, as before
    np.testing.assert_array_equal(np.concatenate(got), expected)


@pytest.mark.parametrize("kwargs, message", [
    (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler is mutually exclusive"),
    (dict(batch_sampler=[[0]], shuffle=True), "batch_sampler is mutually exclusive"),
    (dict(num_workers=-1), "num_workers must be a non-negative integer, got -1"),
    (dict(timeout=-1), "timeout must be >= 0 seconds"),
    (dict(prefetch_factor=2), "prefetch_factor needs num_workers > 0"),
    (dict(persistent_workers=True), "persistent_workers=True needs num_workers > 0"),
    (dict(batch_size=None), "batch_size must be a positive integer, got None"),
])
def test_bad_loader_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DataLoader(Squares(4), **kwargs)


# ---- worker processes ------------------------------------------------------------------------------

class WhoAmI(Dataset):
    """Item i: (i, the pid of the process that read it, the worker id, a draw from NumPy's global generator)."""

    def __init__(self, n: int = 24, fail_at: int | None = None, sleep: float = 0.0, kill_at: int | None = None):
        self.n, self.fail_at, self.sleep, self.kill_at = n, fail_at, sleep, kill_at

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.fail_at:
            raise KeyError(f"sample {i} is corrupt")
        if i == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(self.sleep)
        info = get_worker_info()
        return i, os.getpid(), -1 if info is None else info.id, float(np.random.random())


def no_workers_left():
    deadline = time.monotonic() + 10
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    return not multiprocessing.active_children()


def test_workers_are_real_processes_and_results_come_in_order():
    loader = DataLoader(WhoAmI(), batch_size=3, shuffle=True, seed=2, num_workers=2)
    batches = list(loader)
    serial = list(DataLoader(WhoAmI(), batch_size=3, shuffle=True, seed=2))
    assert [b[0].data.tolist() for b in batches] == [b[0].data.tolist() for b in serial]
    pids = {int(p) for b in batches for p in b[1].data}
    assert len(pids) == 2 and os.getpid() not in pids
    assert {int(w) for b in batches for w in b[2].data} == {0, 1}
    draws = [float(d) for b in batches for d in b[3].data]
    assert len(set(draws)) == len(draws)  # each worker's NumPy generator seeded on its own
    assert no_workers_left()  # the epoch ended: the workers are gone


def test_a_worker_error_is_raised_in_the_main_process_naming_worker_and_index():
    loader = DataLoader(WhoAmI(fail_at=7), batch_size=2, num_workers=2)
    with pytest.raises(KeyError) as err:
        list(loader)
    text = str(err.value)
    assert "DataLoader worker 1 (pid " in text and "failed on dataset index 7" in text
    assert "KeyError: 'sample 7 is corrupt'" in text and "Traceback in the worker" in text
    assert no_workers_left()


def test_a_dead_worker_and_a_timeout_are_errors_not_hangs():
    with pytest.raises(RuntimeError, match=r"DataLoader worker 0 \(pid \d+\) exited unexpectedly with exit code -9"):
        list(DataLoader(WhoAmI(kill_at=4), batch_size=2, num_workers=2))
    with pytest.raises(RuntimeError, match="DataLoader timed out after 1 s"):
        list(DataLoader(WhoAmI(n=2, sleep=1.5), batch_size=1, num_workers=1, timeout=1, prefetch_factor=1))
    assert no_workers_left()


def test_persistent_workers_survive_epochs_and_others_are_fresh_each_epoch():
    def pids(loader):
        return {int(p) for b in loader for p in b[1].data}

    persistent = DataLoader(WhoAmI(8), batch_size=2, num_workers=2, persistent_workers=True)
    first = pids(persistent)
    assert pids(persistent) == first and len(multiprocessing.active_children()) == 2
    it = iter(persistent)
    next(it)
    del it  # an abandoned epoch: its late batches must not leak into the next one
    assert [b[0].data.tolist() for b in persistent] == [[0, 1], [2, 3], [4, 5], [6, 7]]
    del persistent
    assert no_workers_left()
    fresh = DataLoader(WhoAmI(8), batch_size=2, num_workers=2)
    assert pids(fresh).isdisjoint(pids(fresh))
    it = iter(fresh)
    next(it)
    del it  # leaving an epoch early stops its workers
    assert no_workers_left()


def test_worker_init_fn_and_worker_info():
    seen = multiprocessing.get_context().Queue()

    def init(worker_id):
        info = get_worker_info()
        seen.put((worker_id, info.id, info.num_workers, len(info.dataset)))

    assert get_worker_info() is None
    list(DataLoader(WhoAmI(6), batch_size=2, num_workers=2, worker_init_fn=init, prefetch_factor=1))
    assert sorted(seen.get(timeout=10) for _ in range(2)) == [(0, 0, 2, 6), (1, 1, 2, 6)]


def failing_init(worker_id):
    raise OSError(f"no GPU for worker {worker_id}")


def test_a_failing_worker_init_fn_is_reported():
    with pytest.raises(OSError, match=r"DataLoader worker 0 \(pid \d+\) failed in worker_init_fn: OSError: no GPU"):
        list(DataLoader(WhoAmI(4), batch_size=2, num_workers=1, worker_init_fn=failing_init))
    assert no_workers_left()


class Local(Exception):
    def __init__(self, a, b):  # unpicklable: pickling calls Local(message) with one argument
        super().__init__(f"{a} and {b}")


class Unsendable(WhoAmI):
    def __getitem__(self, i):
        if i == 3:
            raise Local("one", "two")
        return lambda: i  # a batch that cannot be pickled


def test_errors_that_cannot_travel_are_still_reported():
    cannot_pickle = (AttributeError, pickle.PicklingError)
    with pytest.raises(cannot_pickle, match=r"worker 0 \(pid \d+\) failed sending batch 0 to the main process "
                                            r"\(a batch must be picklable\): .*lambda"):
        list(DataLoader(Unsendable(4), batch_size=2, num_workers=1, collate_fn=list))
    with pytest.raises(Exception, match="failed on dataset index 3: Local: one and two") as err:
        list(DataLoader(Unsendable(4), batch_size=2, num_workers=1, sampler=[3, 0]))
    assert type(err.value) is RuntimeError  # Local cannot be made from one message
    assert no_workers_left()


def test_spawned_workers_get_the_dataset_by_pickling():
    ds = TensorDataset(np.arange(10.0), np.arange(10))
    loader = DataLoader(ds, batch_size=3, num_workers=1, multiprocessing_context="spawn")
    assert [b[0].data.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]


def test_workers_gather_batched_datasets_and_resume_mid_epoch():
    ds = TensorDataset(np.arange(30), -np.arange(30))
    serial = [b[0].data.tolist() for b in DataLoader(ds, batch_size=4, shuffle=True, seed=9)]
    loader = DataLoader(ds, batch_size=4, shuffle=True, seed=9, num_workers=2)
    it = iter(loader)
    got = [next(it)[0].data.tolist() for _ in range(3)]
    state = loader.state_dict()
    del it
    resumed = DataLoader(ds, batch_size=4, shuffle=True, num_workers=2)
    resumed.load_state_dict(state)
    got += [b[0].data.tolist() for b in resumed]
    assert got == serial


def test_random_transforms_draw_per_worker_streams():
    from graphgrad.datasets.transforms import RandomCrop

    class Crops(Dataset):
        crop = RandomCrop(2, generator=0)

        def __len__(self):
            return 40

        def __getitem__(self, i):
            return self.crop(np.arange(36.0).reshape(6, 6))

    def corners(workers):
        loader = DataLoader(Crops(), batch_size=5, num_workers=workers, seed=1)
        return [float(c) for b in loader for c in b.data[:, 0, 0]]

    two = corners(2)
    first_worker, second_worker = two[0:5] + two[10:15], two[5:10] + two[15:20]
    assert first_worker != second_worker  # not the same augmentations in both workers
    assert corners(2) == two  # and reproducible from the seeds


# ---- torchvision-style MNIST -----------------------------------------------------------------------

@pytest.fixture
def idx_root(tmp_path, monkeypatch):
    """Fake MNIST and Fashion-MNIST IDX files in torchvision's layout; the network switched off."""
    from graphgrad.datasets import fetch, mnist, write_idx

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("GRAPHGRAD_DATA", raising=False)

    def offline(*args, **kwargs):
        raise OSError("network disabled in tests")

    monkeypatch.setattr(fetch.urllib.request, "urlopen", offline)
    monkeypatch.setattr(fetch.subprocess, "run", offline)
    rng = np.random.default_rng(0)
    for folder in ("MNIST", "FashionMNIST"):
        (tmp_path / folder / "raw").mkdir(parents=True)
        for split, n in (("train", 64), ("test", 20)):
            images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
            labels = (images.mean(axis=(1, 2)) > 127.5).astype(np.uint8)  # something to learn: bright or dark
            write_idx(tmp_path / folder / "raw" / (mnist.IDX_NAMES[split][0] + ".gz"), images)
            write_idx(tmp_path / folder / "raw" / (mnist.IDX_NAMES[split][1] + ".gz"), labels)
    return tmp_path


@pytest.mark.parametrize("workers", [0, 2])
def test_mnist_with_transforms_batches_as_torchvision_would(idx_root, workers):
    from graphgrad.datasets import MNIST, FashionMNIST
    from graphgrad.datasets.transforms import Compose, Normalize, ToTensor

    recipe = Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])
    for kind in (MNIST, FashionMNIST):
        ds = kind(idx_root, train=False, transform=recipe, download=False)
        assert not ds.batched and kind(idx_root, train=False).batched
        loader = DataLoader(ds, batch_size=8, num_workers=workers)
        images, labels = next(iter(loader))
        raw = torch.from_numpy(ds.data[:8].copy()).float().div(255).unsqueeze(1)
        np.testing.assert_array_equal(images.data, ((raw - 0.1307) / 0.3081).numpy())
        assert images.shape == (8, 1, 28, 28) and labels.dtype == np.int64
        np.testing.assert_array_equal(labels.data, ds.targets[:8])
        ds.transform = None  # the loader asks again each epoch: now one vectorised gather of raw images
        images, _ = next(iter(loader))
        assert ds.batched and images.dtype == np.uint8 and images.shape == (8, 28, 28)


PYTORCH_SCRIPT = '''
import graphgrad as torch                                   # was: import torch
from graphgrad import nn, optim                             # was: from torch import nn, optim
from graphgrad.utils.data import DataLoader
from graphgrad.datasets import transforms, MNIST            # was: from torchvision import datasets, transforms
from graphgrad.optim.lr_scheduler import StepLR

transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
train_set = MNIST(ROOT, train=True, download=False, transform=transform)   # was: datasets.MNIST(...)
test_set = MNIST(ROOT, train=False, download=False, transform=transform)
train_loader = DataLoader(train_set, batch_size=16, shuffle=True, num_workers=WORKERS)
test_loader = DataLoader(test_set, batch_size=10, shuffle=False)

model = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 32), nn.ReLU(), nn.Linear(32, 10))
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
scheduler = StepLR(optimizer, step_size=1, gamma=0.7)


def train(epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        optimizer.zero_grad()
        output = model(data)
        loss = criterion(output, target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())


def test():
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for data, target in test_loader:
            output = model(data)
            test_loss += criterion(output, target).item() * len(data)
            pred = output.argmax(1)                         # was: output.argmax(dim=1, keepdim=True)
            correct += (pred == target).sum().item()        # was: pred.eq(target.view_as(pred)).sum().item()
    return test_loss / len(test_loader.dataset), correct / len(test_loader.dataset)


losses = []
for epoch in range(1, 3):
    train(epoch)
    scheduler.step()
RESULT = test()
'''


@pytest.mark.parametrize("workers", [0, 2])
def test_a_pytorch_style_mnist_script_runs(idx_root, workers):
    namespace = {"ROOT": str(idx_root), "WORKERS": workers}
    gg.nn.init.manual_seed(0)  # the script's torch.manual_seed(0): weights and shuffling
    exec(compile(PYTORCH_SCRIPT, "pytorch_mnist_script.py", "exec"), namespace)
    losses, (test_loss, accuracy) = namespace["losses"], namespace["RESULT"]
    assert len(losses) == 2 * 4 and all(np.isfinite(losses))
    assert np.mean(losses[-2:]) < np.mean(losses[:2]) - 0.5  # it learns (two of the ten classes occur)
    assert np.isfinite(test_loss) and 0 <= accuracy <= 1 and (accuracy * 20).is_integer()
    assert namespace["optimizer"].param_groups[0]["lr"] == pytest.approx(0.01 * 0.7 ** 2)
