"""torchvision-style MNIST and FashionMNIST on small IDX files the tests write (never the network)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import graphgrad as gg
from graphgrad.data import DataLoader
from graphgrad.datasets import MNIST, DatasetUnavailable, FashionMNIST, fetch, mnist, write_idx
from graphgrad.datasets.transforms import Compose, Normalize, RandomHorizontalFlip, ToTensor


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("GRAPHGRAD_DATA", raising=False)

    def offline(*args, **kwargs):
        raise OSError("network disabled in tests")

    monkeypatch.setattr(fetch.urllib.request, "urlopen", offline)
    monkeypatch.setattr(fetch.subprocess, "run", offline)


def write_split_files(directory, n_train=7, n_test=3):
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    out = {}
    for split, n in (("train", n_train), ("test", n_test)):
        images, labels = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)
        write_idx(directory / (mnist.IDX_NAMES[split][0] + ".gz"), images)
        write_idx(directory / (mnist.IDX_NAMES[split][1] + ".gz"), labels)
        out[split] = images, labels
    return out


def test_samples_are_raw_images_and_int_labels_as_torchvision(tmp_path):
    files = write_split_files(tmp_path)
    ds = MNIST(tmp_path, train=True, download=False, quiet=True)
    assert len(ds) == 7 and ds.train and ds.root == tmp_path
    image, label = ds[2]
    assert image.shape == (28, 28) and image.dtype == np.uint8 and type(label) is int
    np.testing.assert_array_equal(image, files["train"][0][2])
    assert label == files["train"][1][2]
    assert ds.data.dtype == np.uint8 and ds.targets.dtype == np.int64
    assert ds.classes[0] == "0 - zero" and ds.class_to_idx["9 - nine"] == 9
    with pytest.raises(ValueError):
        ds[0][0][0, 0] = 1  # samples are read-only views: a transform cannot edit the dataset
    with pytest.raises(IndexError, match="index 7 out of range for 7 samples"):
        ds[7]
    test = MNIST(root=tmp_path, train=False, download=False, quiet=True)
    assert len(test) == 3 and not test.train
    np.testing.assert_array_equal(test[-1][0], files["test"][0][-1])


def test_transforms_give_torchvisions_tensors(tmp_path):
    files = write_split_files(tmp_path)
    recipe = Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])
    ds = MNIST(tmp_path, train=True, transform=recipe, target_transform=lambda t: t * 10, quiet=True)
    image, label = ds[4]
    expected = torch.from_numpy(files["train"][0][4][None].copy()).float().div(255).sub(0.1307).div(0.3081)
    assert isinstance(image, gg.Tensor) and image.shape == (1, 28, 28) and image.dtype == np.float32
    np.testing.assert_array_equal(image.data, expected.numpy())
    assert label == 10 * int(files["train"][1][4])


def test_the_data_loader_batches_per_sample_datasets(tmp_path):
    write_split_files(tmp_path)
    ds = MNIST(tmp_path, transform=Compose([ToTensor(), RandomHorizontalFlip(p=1.0)]), quiet=True)
    batches = list(DataLoader(ds, batch_size=3, shuffle=False))
    assert [b[0].shape for b in batches] == [(3, 1, 28, 28), (3, 1, 28, 28), (1, 1, 28, 28)]
    for row in range(3):
        np.testing.assert_array_equal(batches[1][0].data[row], ds[3 + row][0].data)
    np.testing.assert_array_equal(batches[0][1].data, [ds[i][1] for i in range(3)])
    plain = MNIST(tmp_path, quiet=True)
    images, labels = plain[np.array([5, 1])]  # no transform: one vectorised gather
    assert images.dtype == np.uint8 and images.shape == (2, 28, 28)
    np.testing.assert_array_equal(images, np.stack([plain[5][0], plain[1][0]]))
    np.testing.assert_array_equal(labels, [plain[5][1], plain[1][1]])


def test_torchvisions_folder_layout_is_found(tmp_path):
    write_split_files(tmp_path / "MNIST" / "raw")
    write_split_files(tmp_path / "FashionMNIST" / "raw", n_train=4)
    assert len(MNIST(tmp_path, download=False, quiet=True)) == 7
    fashion = FashionMNIST(tmp_path, train=True, quiet=True)
    assert len(fashion) == 4 and fashion.classes[9] == "Ankle boot"


def test_fashion_mnist_without_files_says_where_to_put_them(tmp_path):
    with pytest.raises(DatasetUnavailable) as err:
        FashionMNIST(tmp_path / "data", train=True)
    text = str(err.value)
    assert f"no IDX files in {tmp_path / 'data'} or {tmp_path / 'data' / 'FashionMNIST' / 'raw'}" in text
    assert "train-images-idx3-ubyte.gz" in text and "zalandoresearch/fashion-mnist" in text
    with pytest.raises(DatasetUnavailable, match="zalandoresearch/fashion-mnist"):
        FashionMNIST(train=False)  # no root, no cache: the same advice


def test_mnist_without_files_in_root_falls_back_to_the_verified_sources(tmp_path):
    with pytest.raises(DatasetUnavailable, match="official mirrors: .*network disabled"):
        MNIST(tmp_path / "empty", download=True, quiet=True)
    with pytest.raises(DatasetUnavailable, match="or pass download=True"):
        MNIST(tmp_path / "empty", download=False, quiet=True)


def test_graphgrads_vectorised_form_is_unchanged(tmp_path):
    files = write_split_files(tmp_path)
    train = MNIST("train", root=tmp_path, quiet=True)
    x, t = train.arrays
    assert x.shape == (7, 784) and x.dtype == np.float32 and t.dtype == np.int64
    np.testing.assert_allclose(x * 255, files["train"][0].reshape(7, 784), rtol=1e-6)
    batch = train[np.array([0, 2])]
    assert batch[0].shape == (2, 784)
    with pytest.raises(ValueError, match=r"torchvision's: MNIST\(root, train=True, transform=...\)"):
        MNIST("train", transform=ToTensor())
    with pytest.raises(ValueError, match="split must be 'train' or 'test', got 'validation'"):
        MNIST("validation", root=tmp_path)
