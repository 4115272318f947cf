"""Dataset, TensorDataset and DataLoader: batching, shuffling, reproducibility, resumable state."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad.data import DataLoader, Dataset, TensorDataset


def test_tensor_dataset_indexes_all_arrays_together():
    x, t = np.arange(12).reshape(6, 2), np.arange(6) * 10
    ds = TensorDataset(x, gg.tensor(t))
    assert len(ds) == 6
    xb, tb = ds[np.array([4, 1])]
    np.testing.assert_array_equal(xb, [[8, 9], [2, 3]])
    np.testing.assert_array_equal(tb, [40, 10])


def test_tensor_dataset_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="same number of rows"):
        TensorDataset(np.zeros((5, 2)), np.zeros(4))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 50), bs=st.integers(1, 60), shuffle=st.booleans(), drop_last=st.booleans())
def test_batches_cover_the_data(n, bs, shuffle, drop_last):
    if drop_last and bs > n:
        with pytest.raises(ValueError, match="larger than the dataset"):
            DataLoader(TensorDataset(np.arange(n)), bs, drop_last=drop_last)
        return
    loader = DataLoader(TensorDataset(np.arange(n), -np.arange(n)), bs, shuffle=shuffle, drop_last=drop_last, seed=3)
    batches = list(loader)
    assert len(batches) == len(loader)
    assert all(isinstance(b[0], gg.Tensor) for b in batches)
    assert all(len(b[0]) == bs for b in batches[:-1])
    seen = np.concatenate([b[0].data for b in batches])
    for x, t in batches:
        np.testing.assert_array_equal(t.data, -x.data)  # rows stay aligned
    if drop_last:
        assert len(seen) == (n // bs) * bs
    else:
        np.testing.assert_array_equal(np.sort(seen), np.arange(n))
    if not shuffle:
        np.testing.assert_array_equal(seen, np.arange(len(seen)))


def test_same_seed_same_order_and_epochs_differ():
    ds = TensorDataset(np.arange(100))
    a = [b[0].data for b in DataLoader(ds, 10, shuffle=True, seed=7)]
    b = [b[0].data for b in DataLoader(ds, 10, shuffle=True, seed=7)]
    np.testing.assert_array_equal(np.concatenate(a), np.concatenate(b))
    loader = DataLoader(ds, 10, shuffle=True, seed=7)
    first = np.concatenate([b[0].data for b in loader])
    second = np.concatenate([b[0].data for b in loader])
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("replacement", [False, True], ids=["permutation", "replacement"])
def test_state_dict_resumes_mid_epoch_exactly(replacement):
    ds = TensorDataset(np.arange(50))
    reference = DataLoader(ds, 7, shuffle=True, seed=1, replacement=replacement)
    expected = [b[0].data for _ in range(3) for b in reference]

    loader = DataLoader(ds, 7, shuffle=True, seed=1, replacement=replacement)
    got = [b[0].data for b in loader]
    it = iter(loader)
    got += [next(it)[0].data for _ in range(3)]
    state = json.loads(json.dumps(loader.state_dict()))  # must survive JSON
    fresh = DataLoader(ds, 7, shuffle=True, seed=999, replacement=replacement)
    fresh.load_state_dict(state)
    got += [b[0].data for b in fresh]
    got += [b[0].data for b in fresh]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)


def test_replacement_draws_full_batches_uniformly_with_repeats():
    # The textbook's sampling: every batch is np.random.choice(n, batch_size), repeats allowed.
    ds = TensorDataset(np.arange(10), -np.arange(10))
    loader = DataLoader(ds, 4, shuffle=True, seed=5, replacement=True)
    assert len(loader) == 3
    counts = np.zeros(10, int)
    for _ in range(2000):
        batches = list(loader)
        assert len(batches) == 3 and all(len(x) == 4 for x, _ in batches)
        for x, t in batches:
            np.testing.assert_array_equal(t.data, -x.data)
            counts += np.bincount(x.data, minlength=10)
    assert counts.sum() == 2000 * 12
    np.testing.assert_allclose(counts / counts.sum(), 0.1, atol=0.01)  # 24,000 draws: sd ~0.002
    one_epoch = np.concatenate([x.data for x, _ in DataLoader(ds, 4, shuffle=True, seed=5, replacement=True)])
    assert len(np.unique(one_epoch)) < len(one_epoch)  # 12 draws from 10 values repeat
    again = np.concatenate([x.data for x, _ in DataLoader(ds, 4, shuffle=True, seed=5, replacement=True)])
    np.testing.assert_array_equal(one_epoch, again)


def test_replacement_needs_shuffle():
    with pytest.raises(ValueError, match="replacement=True draws random batches, so it needs shuffle=True"):
        DataLoader(TensorDataset(np.arange(4)), 2, replacement=True)


def test_state_after_the_last_batch_starts_the_next_epoch():
    ds = TensorDataset(np.arange(20))
    loader = DataLoader(ds, 5, shuffle=True, seed=2)
    it = iter(loader)
    for _ in range(4):  # every batch taken, but the generator not exhausted
        next(it)
    state = loader.state_dict()
    assert state["batches_done"] == 0
    expected = [b[0].data for b in loader]
    fresh = DataLoader(ds, 5, shuffle=True)
    fresh.load_state_dict(state)
    for g, e in zip([b[0].data for b in fresh], expected):
        np.testing.assert_array_equal(g, e)


def test_batches_are_gathered_with_one_index_per_batch():
    class Counting(Dataset):
        batched = True  # ds[indices] returns the whole batch
        calls = 0

        def __len__(self):
            return 1000

        def __getitem__(self, index):
            Counting.calls += 1
            return np.asarray(index, dtype=float) if not isinstance(index, slice) else np.arange(1000.0)[index]

    loader = DataLoader(Counting(), 100, shuffle=True, seed=0)
    batches = list(loader)
    assert Counting.calls == 10 and len(batches) == 10
    assert isinstance(batches[0], gg.Tensor)  # a dataset returning one array gives one Tensor


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_bad_batch_size(bad):
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(TensorDataset(np.arange(4)), bad)


def test_load_state_dict_rejects_impossible_position():
    loader = DataLoader(TensorDataset(np.arange(10)), 5)
    with pytest.raises(ValueError, match="batches_done"):
        loader.load_state_dict({"generator": loader.generator.bit_generator.state, "batches_done": 9})
