"""One table of op cases, shared by the array-library tests (tests/test_array_api.py) and the GPU check
(benchmarks/gpu_check.py): every public op, with inputs, run on any array library and compared with NumPy.

`CASES` are differentiable: name -> (function of tensors, its float inputs as NumPy float64 arrays
[, central-difference tolerance]); a name's first part (before "-") is the op it covers. `VALUE_CASES`
carry no gradient (comparisons, indices, integer and boolean math): their values are compared.
"""
from __future__ import annotations

import numpy as np

import graphgrad as gg
from .backend import beside

rng = np.random.default_rng(0)


def u(*shape, lo=-2.0, hi=2.0):
    """Uniform values in [lo, hi) of `shape` (float64)."""
    return rng.uniform(lo, hi, shape)


def pos(*shape):
    """Positive values in [0.5, 2) of `shape` (for log, sqrt, division)."""
    return rng.uniform(0.5, 2.0, shape)


def apart(*shape):
    """Values with no ties and no zeros: kinks stay out of the finite differences."""
    return (rng.permutation(np.prod(shape, dtype=int)).reshape(shape) + 1.0) * 0.37 * rng.choice([-1, 1], shape)


LABELS = np.array([2, 0, 1, 2])
W3 = np.array([0.5, 2.0, 1.5])  # class weights
# name -> (function of tensors, its float inputs as NumPy float64 arrays[, central-difference tolerance])
CASES = {
    "add": (lambda a, b: a + b, [u(2, 3), u(3)]),
    "sub": (lambda a, b: a - b, [u(2, 3), u(2, 1)]),
    "mul": (lambda a, b: a * b, [u(2, 3), u(2, 3)]),
    "div": (lambda a, b: a / b, [u(2, 3), pos(3)]),
    "neg": (lambda a: -a, [u(3, 2)]),
    "pow": (lambda a, b: a ** b, [pos(2, 3), u(2, 3)]),
    "pow-scalar": (lambda a: a ** 3, [u(2, 3)]),
    "matmul": (lambda a, b: a @ b, [u(2, 3), u(3, 4)]),
    "matmul-vector": (lambda a, b: a @ b, [u(3), u(3, 2)]),
    "exp": (gg.exp, [u(2, 3)]),
    "log": (gg.log, [pos(2, 3)]),
    "sqrt": (gg.sqrt, [pos(2, 3)]),
    "abs": (gg.abs, [apart(2, 3)]),
    "maximum": (gg.maximum, [apart(2, 3), apart(2, 3) * 1.01]),
    "minimum": (gg.minimum, [apart(2, 3), apart(3) * 1.01]),
    "clip": (lambda a: gg.clip(a, -0.5, 0.7), [apart(3, 4)]),
    "where": (lambda a, b: gg.where(like(a, np.array([True, False, True])), a, b), [u(2, 3), u(2, 3)]),
    "astype": (lambda a: gg.astype(a, "float32").astype("float64"), [u(2, 3)], 5e-2),  # float32 steps of 1e-6 are coarse
    "sigmoid": (gg.sigmoid, [u(2, 3)]),
    "tanh": (gg.tanh, [u(2, 3)]),
    "relu": (gg.relu, [apart(2, 3)]),
    "softmax": (lambda a: gg.softmax(a, axis=0), [u(3, 2)]),
    "log_softmax": (gg.log_softmax, [u(2, 4)]),
    "logsumexp": (lambda a: gg.logsumexp(a, axis=1), [u(2, 4)]),
    "sum": (lambda a: gg.sum(a, axis=0), [u(3, 2)]),
    "mean": (lambda a: gg.mean(a, axis=(0, 2), keepdims=True), [u(2, 3, 2)]),
    "max": (lambda a: gg.max(a, dim=1).values, [apart(2, 3)]),
    "min": (lambda a: gg.min(a), [apart(2, 3)]),
    "reshape": (lambda a: gg.reshape(a, (3, 2)), [u(2, 3)]),
    "transpose": (lambda a: gg.transpose(a, (1, 0, 2)), [u(2, 3, 2)]),
    "broadcast_to": (lambda a: gg.broadcast_to(a, (2, 3)), [u(3)]),
    "expand_dims": (lambda a: gg.expand_dims(a, 1), [u(2, 3)]),
    "squeeze": (lambda a: gg.squeeze(a, 1), [u(2, 1, 3)]),
    "getitem": (lambda a: a[1:, ::2], [u(3, 4)]),
    "getitem-repeated": (lambda a: a[like(a, np.array([0, 2, 0]))], [u(3, 2)]),
    "concatenate": (lambda a, b: gg.concatenate([a, b], axis=1), [u(2, 3), u(2, 1)]),
    "stack": (lambda a, b: gg.stack([a, b], axis=1), [u(2, 3), u(2, 3)]),
    "linear": (gg.linear, [u(4, 3), u(2, 3), u(2)]),
    "cross_entropy": (lambda a: gg.cross_entropy(a, like(a, LABELS)), [u(4, 3)]),
    "cross_entropy-soft": (lambda a, t: gg.cross_entropy(a, t), [u(4, 3), pos(4, 3)]),
    "conv1d": (lambda x, w: gg.conv1d(x, w, padding=1), [u(1, 2, 5), u(3, 2, 3)]),
    "conv2d": (lambda x, w, b: gg.conv2d(x, w, b, stride=2, padding=1), [u(1, 2, 5, 5), u(3, 2, 3, 3), u(3)]),
    "conv_transpose2d": (lambda x, w: gg.conv_transpose2d(x, w, stride=2), [u(1, 2, 3, 3), u(2, 3, 2, 2)]),
    "max_pool1d": (lambda x: gg.max_pool1d(x, 2), [apart(1, 2, 6)]),
    "max_pool2d": (lambda x: gg.max_pool2d(x, 2), [apart(1, 2, 4, 4)]),
    "avg_pool1d": (lambda x: gg.avg_pool1d(x, 2), [u(1, 2, 6)]),
    "avg_pool2d": (lambda x: gg.avg_pool2d(x, 2, padding=1), [u(1, 2, 4, 4)]),
    "adaptive_avg_pool2d": (lambda x: gg.adaptive_avg_pool2d(x, 2), [u(1, 2, 5, 5)]),
    "adaptive_max_pool2d": (lambda x: gg.adaptive_max_pool2d(x, 2), [apart(1, 2, 5, 5)]),
    "pad": (lambda x: gg.pad(x, (1, 2, 0, 1), mode="reflect"), [u(1, 2, 3, 4)]),
    "unfold": (lambda x: gg.unfold(x, 2), [u(1, 2, 3, 3)]),
    "fold": (lambda x: gg.fold(x, (3, 3), 2), [u(1, 8, 4)]),
    "flatten": (lambda x: gg.flatten(x, 1), [u(2, 3, 2)]),
    "stacked_affine": (lambda x, w1, w2, b1, b2: gg.stacked_affine(x, [w1, w2], [b1, b2]),
                       [u(3, 1), u(3, 1), u(3, 1), u(1, 1), u(1, 1)]),
    "step": (gg.step, [apart(2, 3)]),
    "binary_cross_entropy_with_logits": (gg.binary_cross_entropy_with_logits, [u(2, 3), rng.uniform(0, 1, (2, 3))]),
    # PyTorch's activations, losses and the embedding lookup (tests/test_torch_nn.py compares them with PyTorch)
    "gelu": (gg.gelu, [u(2, 3)]),
    "gelu-tanh": (lambda a: gg.gelu(a, approximate="tanh"), [u(2, 3)]),
    "silu": (gg.silu, [u(2, 3)]),
    "elu": (lambda a: gg.elu(a, alpha=0.7), [apart(2, 3)]),
    "selu": (gg.selu, [apart(2, 3)]),
    "softplus": (lambda a: gg.softplus(a, beta=2.0, threshold=3.0), [apart(2, 3)]),
    "hardtanh": (lambda a: gg.hardtanh(a, -0.5, 0.8), [apart(3, 4)]),
    "relu6": (lambda a: gg.relu6(a * 5), [apart(3, 4)]),
    "mish": (gg.mish, [u(2, 3)]),
    "cross_entropy-weighted": (lambda a: gg.cross_entropy(a, like(a, np.array([[2, 0], [1, -100]])), like(a, W3),
                                                          label_smoothing=0.2), [u(2, 3, 2)]),
    "cross_entropy-soft-smoothed": (lambda a, t: gg.cross_entropy(a, t, like(a, W3), label_smoothing=0.1),
                                    [u(4, 3), pos(4, 3)]),
    "nll_loss": (lambda a: gg.nll_loss(a, like(a, np.array([2, 0, 1, 1])), like(a, W3), ignore_index=1), [u(4, 3)]),
    "binary_cross_entropy": (lambda a, t: gg.binary_cross_entropy(gg.sigmoid(a), t, like(a, np.array([0.5, 2.0, 1.0]))),
                             [u(2, 3), rng.uniform(0, 1, (2, 3))]),
    # padding row 1 is not looked up: its gradient is 0 by design, which central differences would contradict
    "embedding": (lambda w: gg.embedding(like(w, np.array([[0, 2], [2, 3], [3, 0]])), w, padding_idx=1), [u(4, 3)]),
    # PyTorch's op breadth
    "sin": (gg.sin, [u(2, 3)]),
    "cos": (gg.cos, [u(2, 3)]),
    "tan": (gg.tan, [rng.uniform(-1, 1, (2, 3))]),
    "asin": (gg.asin, [rng.uniform(-0.9, 0.9, (2, 3))]),
    "acos": (gg.acos, [rng.uniform(-0.9, 0.9, (2, 3))]),
    "atan": (gg.atan, [u(2, 3)]),
    "atan2": (gg.atan2, [u(2, 3), pos(2, 3)]),
    "sinh": (gg.sinh, [u(2, 3)]),
    "cosh": (gg.cosh, [u(2, 3)]),
    "asinh": (gg.asinh, [u(2, 3)]),
    "acosh": (gg.acosh, [pos(2, 3) + 1.0]),
    "atanh": (gg.atanh, [rng.uniform(-0.9, 0.9, (2, 3))]),
    "erf": (gg.erf, [u(2, 3)]),
    "exp2": (gg.exp2, [u(2, 3)]),
    "expm1": (gg.expm1, [u(2, 3)]),
    "log2": (gg.log2, [pos(2, 3)]),
    "log10": (gg.log10, [pos(2, 3)]),
    "log1p": (gg.log1p, [pos(2, 3)]),
    "rsqrt": (gg.rsqrt, [pos(2, 3)]),
    "reciprocal": (gg.reciprocal, [pos(2, 3)]),
    "square": (gg.square, [u(2, 3)]),
    "logaddexp": (gg.logaddexp, [u(2, 3), u(3)]),
    "lerp": (lambda a, b: gg.lerp(a, b, 0.3), [u(2, 3), u(2, 3)]),
    "lerp-tensor": (gg.lerp, [u(2, 3), u(2, 3), rng.uniform(0, 1, (2, 3))]),
    "copysign": (lambda a: gg.copysign(a, like(a, np.array([1.0, -1.0, 2.0]))), [apart(2, 3)]),
    "fmod": (lambda a: gg.fmod(a, 0.7), [apart(2, 3)]),
    "remainder": (lambda a: gg.remainder(a, 0.7), [apart(2, 3)]),
    "frac": (gg.frac, [apart(2, 3)]),
    "floor": (lambda a: gg.floor(a) * a, [apart(2, 3)]),
    "ceil": (lambda a: gg.ceil(a) * a, [apart(2, 3)]),
    "round": (lambda a: gg.round(a) * a, [apart(2, 3)]),
    "trunc": (lambda a: gg.trunc(a) * a, [apart(2, 3)]),
    "sign": (lambda a: gg.sign(a) * a, [apart(2, 3)]),
    "clamp": (lambda a: gg.clamp(a, -0.5, 0.7), [apart(3, 4)]),
    "clamp_min": (lambda a: gg.clamp_min(a, -0.5), [apart(3, 4)]),
    "clamp_max": (lambda a: gg.clamp_max(a, 0.7), [apart(3, 4)]),
    "prod": (lambda a: gg.prod(a, dim=1), [u(2, 3)]),
    "std": (lambda a: gg.std(a, dim=1, correction=1), [u(2, 4)]),
    "var": (lambda a: gg.var(a, dim=0, correction=0), [u(3, 2)]),
    "std_mean": (lambda a: gg.std_mean(a, dim=1)[0] + gg.std_mean(a, dim=1)[1], [u(2, 4)]),
    "var_mean": (lambda a: gg.var_mean(a, dim=1)[0] * gg.var_mean(a, dim=1)[1], [u(2, 4)]),
    "amax": (lambda a: gg.amax(a, dim=1), [apart(2, 3)]),
    "amin": (lambda a: gg.amin(a, dim=0), [apart(2, 3)]),
    "cumsum": (lambda a: gg.cumsum(a, dim=1), [u(2, 3)]),
    "cumprod": (lambda a: gg.cumprod(a, dim=1), [pos(2, 3)]),
    "cummax": (lambda a: gg.cummax(a, dim=1)[0], [apart(2, 4)]),
    "cummin": (lambda a: gg.cummin(a, dim=1)[0], [apart(2, 4)]),
    "logcumsumexp": (lambda a: gg.logcumsumexp(a, dim=1), [u(2, 3)]),
    "sort": (lambda a: gg.sort(a, dim=1, descending=True)[0], [apart(2, 4)]),
    "topk": (lambda a: gg.topk(a, 2, dim=1)[0], [apart(2, 4)]),
    "gather": (lambda a: gg.gather(a, 1, like(a, np.array([[0, 2], [1, 1]]))), [u(2, 3)]),
    "scatter": (lambda a, b: gg.scatter(a, 1, like(a, np.array([[0, 2], [1, 0]])), b), [u(2, 3), u(2, 2)]),
    "scatter_add": (lambda a, b: gg.scatter_add(a, 1, like(a, np.array([[0, 0], [1, 2]])), b), [u(2, 3), u(2, 2)]),
    "scatter_reduce": (lambda a, b: gg.scatter_reduce(a, 1, like(a, np.array([[0, 0], [1, 2]])), b, "sum"),
                       [u(2, 3), u(2, 2)]),
    "index_select": (lambda a: gg.index_select(a, 0, like(a, np.array([2, 0, 2]))), [u(3, 2)]),
    "masked_fill": (lambda a: gg.masked_fill(a, like(a, np.array([True, False, True])), 0.5), [u(2, 3)]),
    "masked_select": (lambda a: gg.masked_select(a, like(a, np.array([[True, False, True], [False, True, True]]))),
                      [u(2, 3)]),
    "permute": (lambda a: gg.permute(a, 2, 0, 1), [u(2, 3, 2)]),
    "t": (gg.t, [u(2, 3)]),
    "view_as": (lambda a: gg.view_as(a, gg.zeros(3, 2)), [u(2, 3)]),
    "expand": (lambda a: gg.expand(a, 2, -1, 3), [u(1, 3, 1)]),
    "expand_as": (lambda a, b: gg.expand_as(a, b) * b, [u(3, 1), u(3, 2)]),
    "unflatten": (lambda a: gg.unflatten(a, 1, (2, 3)), [u(2, 6)]),
    "clone": (gg.clone, [u(2, 3)]),
    "contiguous": (gg.contiguous, [u(2, 3)]),
    "repeat": (lambda a: gg.repeat(a, 2, 1, 2), [u(2, 3)]),
    "repeat_interleave": (lambda a: gg.repeat_interleave(a, 2, dim=0), [u(2, 3)]),
    "roll": (lambda a: gg.roll(a, 1, 1), [u(2, 3)]),
    "flip": (lambda a: gg.flip(a, 0, 1), [u(2, 3)]),
    "tril": (gg.tril, [u(3, 3)]),
    "triu": (lambda a: gg.triu(a, 1), [u(3, 4)]),
    "diag": (gg.diag, [u(3, 3)]),
    "diag-vector": (gg.diag, [u(3)]),
    "diagonal": (lambda a: gg.diagonal(a, 1), [u(3, 4)]),
    "chunk": (lambda a: gg.chunk(a, 2, dim=1)[1], [u(2, 4)]),
    "split": (lambda a: gg.split(a, [1, 3], dim=1)[1], [u(2, 4)]),
    "meshgrid": (lambda a, b: gg.meshgrid(a, b)[0] * gg.meshgrid(a, b)[1], [u(2), u(3)]),
    "einsum": (lambda a, b: gg.einsum("ij,jk->ik", a, b), [u(2, 3), u(3, 4)]),
    "normalize": (lambda a: gg.normalize(a, dim=1), [u(2, 3)]),
    "interpolate": (lambda x: gg.interpolate(x, scale_factor=2, mode="nearest"), [u(1, 2, 2, 3)]),
    "interpolate-bilinear": (lambda x: gg.interpolate(x, size=(3, 4), mode="bilinear", align_corners=False),
                             [u(1, 2, 2, 3)]),
    "scaled_dot_product_attention": (lambda q, k, v: gg.scaled_dot_product_attention(q, k, v, is_causal=True),
                                     [u(1, 3, 2), u(1, 3, 2), u(1, 3, 2)]),
}

# Ops whose results carry no gradient (comparisons, indices, integer and boolean math): values only.
# name -> (function of tensors, its inputs as NumPy arrays of any dtype)
INTS, BITS = np.array([[3, -1, 4], [1, 5, -9]]), np.array([[1, 2, 4], [8, 3, 1]])
VALUE_CASES = {
    "eq": (lambda a, b: gg.eq(a, b), [apart(2, 3), apart(2, 3)]),
    "ne": (lambda a: gg.ne(a, a), [apart(2, 3)]),
    "lt": (gg.lt, [u(2, 3), u(2, 3)]),
    "le": (gg.le, [u(2, 3), u(3)]),
    "gt": (lambda a: gg.gt(a, 0.5), [u(2, 3)]),
    "ge": (gg.ge, [u(2, 3), u(2, 3)]),
    "isclose": (gg.isclose, [u(2, 3), u(2, 3)]),
    "isnan": (gg.isnan, [np.array([1.0, np.nan, np.inf])]),
    "isinf": (gg.isinf, [np.array([1.0, np.nan, -np.inf])]),
    "isfinite": (gg.isfinite, [np.array([1.0, np.nan, np.inf])]),
    "any": (lambda a: gg.any(a > 1, dim=1), [u(2, 3)]),
    "all": (lambda a: gg.all(a > -1), [u(2, 3)]),
    "logical_and": (gg.logical_and, [u(2, 3) > 0, u(2, 3) > 0]),
    "logical_or": (gg.logical_or, [u(2, 3) > 0, u(2, 3) > 0]),
    "logical_not": (gg.logical_not, [u(2, 3) > 0]),
    "argmax": (lambda a: gg.argmax(a, dim=1), [apart(2, 3)]),
    "argmin": (lambda a: gg.argmin(a, dim=0, keepdim=True), [apart(2, 3)]),
    "argsort": (lambda a: gg.argsort(a, dim=1, descending=True), [apart(2, 4)]),
    "sort-indices": (lambda a: gg.sort(a, dim=0)[1], [apart(3, 2)]),
    "topk-indices": (lambda a: gg.topk(a, 2, dim=1, largest=False)[1], [apart(2, 4)]),
    "cummax-indices": (lambda a: gg.cummax(a, dim=1)[1], [apart(2, 4)]),
    "nonzero": (gg.nonzero, [np.array([[0.0, 1.5], [2.0, 0.0]])]),
    "one_hot": (lambda a: gg.one_hot(a, 4), [np.array([0, 3, 1])]),
    "floor_divide": (gg.floor_divide, [INTS, np.array([2, -3, 2])]),
    "bitwise_and": (gg.bitwise_and, [BITS, INTS]),
    "bitwise_or": (gg.bitwise_or, [BITS, INTS]),
    "bitwise_xor": (gg.bitwise_xor, [BITS, INTS]),
    "bitwise_not": (gg.bitwise_not, [INTS]),
    "bitwise_left_shift": (gg.bitwise_left_shift, [BITS, np.array([1, 2, 0])]),
    "bitwise_right_shift": (gg.bitwise_right_shift, [BITS, np.array([1, 2, 0])]),
}


# Ops whose result is a Python value, not a tensor: tests/test_array_api.py checks them one by one.
PYTHON_RESULTS = {"allclose"}


def like(t, a: np.ndarray):
    """Constant `a` in the library (and on the device) of tensor t's data."""
    return beside(a, t.data)
