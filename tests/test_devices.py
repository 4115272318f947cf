"""The device API with CuPy absent: graphgrad.device against torch.device, graphgrad.cuda's answers and
errors, Tensor.to/.cuda/.cpu, and device propagation through ops on array-api-strict's second device."""
from __future__ import annotations

import subprocess
import sys
import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import graphgrad as gg

xs = pytest.importorskip("array_api_strict", reason="array-api-strict (the dev extra) is the CPU stand-in for a GPU")
D1 = xs.Device("device1")
SPECS = ["cpu", "cuda", "cuda:0", "cuda:3", "CUDA:1", " cpu "]


@pytest.fixture(autouse=True)
def no_cupy():
    if "cupy" in sys.modules or gg.cuda.is_available():
        pytest.fail("these tests describe a machine without CuPy; run the GPU check (benchmarks/gpu_check.py) there")


# ---- graphgrad.device ---------------------------------------------------------------------

@pytest.mark.parametrize("spec", SPECS)
def test_device_reads_like_torch_device(torch_oracle, spec):
    mine, theirs = gg.device(spec.strip().lower()), torch_oracle.device(spec.strip().lower())
    assert (mine.type, mine.index, str(mine), repr(mine)) == (theirs.type, theirs.index, str(theirs), repr(theirs))
    assert gg.device(spec) == mine and hash(gg.device(spec)) == hash(mine)


def test_device_equality_and_forms():
    assert gg.device("cuda", 1) == gg.device("cuda:1") == "cuda:1"
    assert gg.device(gg.device("cuda:2")) == gg.device("cuda:2")
    assert gg.device("cuda") != gg.device("cuda:0")  # as torch: no index is not index 0
    assert gg.device("cpu") != "cuda" and gg.device("cpu") != "not a device"
    assert len({gg.device("cpu"), gg.device("cpu"), gg.device("cuda:0")}) == 2


@pytest.mark.parametrize("bad", ["gpu", "cuda:-1", "cuda:x", "cpu:1", 3, ""])
def test_device_refuses_bad_names(bad):
    with pytest.raises(ValueError, match="graphgrad.device"):
        gg.device(bad)
    with pytest.raises(ValueError, match="disagree"):
        gg.device("cuda:1", 2)


# ---- graphgrad.cuda without CuPy ---------------------------------------------------------------

def test_cuda_without_cupy_says_so():
    assert gg.cuda.is_available() is False and gg.cuda.device_count() == 0
    assert "CuPy is not installed" in gg.cuda.unavailable_reason()
    assert "pip install -e '.[cuda]'" in gg.cuda.unavailable_reason()
    for call in (gg.cuda.synchronize, gg.cuda.current_device):
        with pytest.raises(RuntimeError, match=r"CUDA is not available: CuPy is not installed.*pip install -e '\.\[cuda\]'"):
            call()
    gg.cuda.manual_seed(0)  # as torch.cuda.manual_seed: silently nothing without a GPU
    gg.cuda.manual_seed_all(0)


def test_cuda_with_cupy_but_no_gpu(monkeypatch):
    """CuPy importable, the CUDA runtime failing (no driver): the reason names that, not the install."""
    class CUDARuntimeError(RuntimeError):
        pass

    def no_devices():
        raise CUDARuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=no_devices))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    assert gg.cuda.is_available() is False and gg.cuda.device_count() == 0
    assert "no usable CUDA GPU (CUDARuntimeError: cudaErrorNoDevice" in gg.cuda.unavailable_reason()
    with pytest.raises(RuntimeError, match="found no usable CUDA GPU"):
        gg.tensor([1.0]).cuda()


def test_import_graphgrad_does_not_import_cupy_or_the_kernels():
    code = ("import sys, graphgrad as gg; gg.cuda.is_available(); "
            "x = gg.tensor([1.0]).to('cpu'); print('graphgrad.backend.cuda_kernels' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# ---- Tensor.to / .cuda / .cpu --------------------------------------------------------------

def test_to_cuda_says_why_not():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    for move in (lambda: x.to("cuda"), lambda: x.cuda(), lambda: x.to("cuda:1", "float64"),
                 lambda: gg.tensor([1.0], device="cuda"), lambda: x.to(device=gg.device("cuda"))):
        with pytest.raises(RuntimeError, match=r"CUDA is not available: CuPy is not installed \(pip install -e '\.\[cuda\]'"):
            move()
    with pytest.raises(RuntimeError, match=r"moving an array to cuda:1: CUDA is not available"):
        x.to(1)  # an index means that GPU, as in PyTorch
    model = gg.nn.Linear(2, 2)
    before = model.weight.data
    with pytest.raises(RuntimeError, match="CuPy is not installed"):
        model.cuda()
    assert model.weight.data is before


def test_to_cpu_and_same_dtype_are_no_ops():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    assert x.device == gg.device("cpu") and x.device == "cpu"
    assert x.to("cpu") is x and x.cpu() is x and x.to(gg.device("cpu")) is x and x.to("float32") is x
    assert x.to() is x and x.to(x) is x


def test_to_dtype_and_device_dtype_forms():
    x = gg.tensor([1.5, -2.0], requires_grad=True)
    for y in (x.to("float64"), x.to("cpu", "float64"), x.to(dtype=np.float64), x.to(device="cpu", dtype="float64"),
              x.to(gg.tensor([0.0], dtype="float64"))):
        assert y.dtype == np.float64 and y.device == "cpu" and y.creator is not None
    with pytest.raises(TypeError, match="two devices"):
        x.to("cpu", "cuda")
    with pytest.raises(TypeError, match="two dtypes"):
        x.to("float32", "float64")
    with pytest.raises(TypeError, match="unexpected keyword"):
        x.to(place="cpu")


def test_device_of_other_libraries_is_their_own_device_object():
    x = gg.tensor(xs.asarray([1.0, 2.0], device=D1))
    assert x.device == D1 and isinstance(x.device, xs.Device)
    y = gg.tensor(np.ones(3), device=D1)
    assert y.device == D1 and type(y.data).__module__.startswith("array_api_strict")
    assert gg.tensor(y, device="cpu").device == "cpu" and isinstance(gg.tensor(y, device="cpu").data, np.ndarray)


def test_ops_keep_the_device_and_gradients_match_numpy():
    rng = np.random.default_rng(0)
    a, w = rng.standard_normal((4, 3)), rng.standard_normal((3, 2))

    def run(device):
        x = gg.tensor(a, requires_grad=True, device=device)
        m = gg.tensor(w, requires_grad=True, device=device)
        loss = gg.cross_entropy(gg.tanh(x @ m) * 2, gg.tensor(np.array([0, 1, 1, 0]), device=device))
        loss.backward()
        return loss, x.grad, m.grad

    here, there = run(None), run(D1)
    for h, t in zip(here, there):
        assert t.device == D1
        np.testing.assert_allclose(t.numpy(), h.numpy(), rtol=1e-12, atol=1e-14)


def test_to_another_device_is_differentiable(torch_oracle):
    a = np.array([0.3, -1.2, 2.0])
    x = gg.tensor(a, requires_grad=True)
    y = x.to(D1)
    assert y.device == D1 and y.creator is not None and type(y.creator).__name__ == "ToDevice"
    (y.exp() * 3).sum().backward(create_graph=True)
    g, x.grad = x.grad, None
    assert g.device == "cpu" and g.creator is not None
    g.sum().backward()  # d/dx of 3 exp(x): the copy back to the CPU is recorded too
    tx = torch_oracle.tensor(a, requires_grad=True)
    (tg,) = torch_oracle.autograd.grad((tx.exp() * 3).sum(), [tx], create_graph=True)
    tg.sum().backward()
    np.testing.assert_allclose(g.numpy(), tg.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    assert isinstance(x.grad.data, np.ndarray)


def test_to_without_grad_is_a_plain_copy():
    x = gg.tensor([1.0, 2.0])
    y = x.to(D1)
    assert y.creator is None and y.device == D1 and y.to(D1) is y
    back = y.to("cpu")
    assert isinstance(back.data, np.ndarray)
    np.testing.assert_array_equal(back.numpy(), [1.0, 2.0])


def test_mixing_devices_names_both_like_torch():
    here = gg.tensor([1.0, 2.0])
    there = gg.tensor([1.0, 2.0], device=D1)
    with pytest.raises(RuntimeError) as err:
        there + here
    assert str(err.value).startswith(
        "Add: Expected all tensors to be on the same device, but found at least two devices, "
        "array_api_strict.Device('device1') and cpu!"
    )
    with pytest.raises(RuntimeError, match=r"MatMul: Expected all tensors .* cpu and array_api_strict"):
        gg.tensor(np.ones((2, 2))) @ gg.tensor(np.ones((2, 2)), device=D1)


def test_mixing_libraries_on_one_device_is_refused_clearly():
    cpu_strict = gg.tensor(xs.asarray([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device|different array libraries"):
        cpu_strict * gg.tensor([1.0, 2.0])


@settings(max_examples=20, deadline=None)
@given(a=hnp.arrays(st.sampled_from([np.float32, np.float64, np.int64, np.bool_]), hnp.array_shapes(min_dims=0, max_dims=3)))
def test_round_trip_keeps_values_dtype_and_shape(a):
    there = gg.backend.devices.to_device(a, D1)
    assert there.device == D1 and tuple(there.shape) == a.shape
    back = gg.backend.devices.to_device(there, "cpu")
    assert isinstance(back, np.ndarray) and back.dtype == a.dtype
    np.testing.assert_array_equal(back, a)


@settings(max_examples=15, deadline=None)
@given(a=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3), elements=st.floats(-3, 3)))
def test_gradient_through_a_move_is_the_upstream_gradient_on_the_source_device(a):
    w = np.linspace(-1.0, 2.0, a.size).reshape(a.shape)
    x = gg.tensor(a, requires_grad=True)
    (x.to(D1) * gg.tensor(w, device=D1)).sum().backward()
    assert isinstance(x.grad.data, np.ndarray)
    np.testing.assert_array_equal(x.grad.numpy(), w)
