"""The textbook's hand-driven layers (`forward`, then `backward(dout)`), as thin adapters over graphgrad's ops.

Each adapter holds graphgrad Functions and calls their `forward`/`backward` directly on arrays
(BatchNormalization, a composite, runs graphgrad's engine): every derivative is written once, in
`graphgrad.ops`, and serves both the engine and the book. Layers keep the very parameter arrays
they are given (`W`, `b`, `gamma`, `beta`) and read them at each forward, so in-place updates of a
network's `params` (and the book's `layer.W = ...` reassignments) reach them.
"""
from __future__ import annotations

import numpy as np

from ..autograd.grad import grad as _grad
from ..autograd.tensor import Tensor
from ..nn.functional import batch_norm as _batch_norm
from ..ops.activations import ReLU as _ReLUOp
from ..ops.activations import Sigmoid as _SigmoidOp
from ..ops.arithmetic import Mul as _MulOp
from ..ops.linear import Linear as _LinearOp
from ..ops.losses import SoftmaxCrossEntropy as _SoftmaxCrossEntropyOp
from ..ops.conv import Conv2d as _Conv2dOp
from ..ops.pooling import MaxPool2d as _MaxPool2dOp

__all__ = ["Relu", "Sigmoid", "Affine", "SoftmaxWithLoss", "Dropout", "BatchNormalization", "Convolution", "Pooling"]


class Relu:
    """y = max(x, 0); backward passes dout where x > 0 (the caller's arrays are never modified)."""

    def __init__(self):
        """No mask until forward runs."""
        self.op = _ReLUOp()

    def forward(self, x: np.ndarray) -> np.ndarray:
        """max(x, 0), keeping the mask of where x <= 0 for backward."""
        return self.op.forward(x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dout where the input was positive, 0 elsewhere (dout itself is not changed)."""
        return self.op.backward(dout)


class Sigmoid:
    """y = 1 / (1 + e⁻ˣ); backward is dout·y(1 - y)."""

    def __init__(self):
        """No output until forward runs."""
        self.op = _SigmoidOp()

    @property
    def out(self) -> np.ndarray:
        """The last forward's output, as the book's layer keeps it."""
        (y,) = self.op.saved
        return y

    def forward(self, x: np.ndarray) -> np.ndarray:
        """1 / (1 + exp(-x)), keeping the output for backward."""
        return self.op.forward(x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dout × y(1 - y)."""
        return self.op.backward(dout)


class Affine:
    """out = x·W + b with the book's W of shape (in, out); after backward, `dW` and `db` hold the gradients.

    `W` and `b` are the very arrays passed in (the network's `params`), so in-place updates of
    the params reach the layer. graphgrad's Linear op stores weights as (out, in); it is handed
    the free view `W.T`, and `dW` is the matching view of its weight gradient.
    """

    def __init__(self, W: np.ndarray, b: np.ndarray):
        """The layer over the book's (in, out) weight W and bias b, kept as the very arrays given."""
        self.W, self.b = W, b
        self.dW = self.db = None
        self.op = _LinearOp()
        self.original_x_shape = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x · W + b, keeping x for backward."""
        self.original_x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)  # images (N, C, H, W) enter as rows, as in the book
        return self.op.forward(self.x, self.W.T, self.b)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dx = dout · Wᵀ; sets self.dW = xᵀ · dout and self.db = Σ dout."""
        dx, dWt, self.db = self.op.backward(dout)
        self.dW = dWt.T
        return dx.reshape(self.original_x_shape)


class SoftmaxWithLoss:
    """Softmax + cross-entropy: `forward(x, t)` returns the mean loss; `backward()` returns (y - t) / N.

    t may be one-hot rows, class numbers shaped (N,) or (N, 1), and a single sample x of shape
    (C,) takes a one-hot t of shape (C,) or one class number; dx then has x's shape. For a single
    sample the gradient is y - t (the book's listing divides it by C there).
    """

    def __init__(self):
        """No loss until forward runs."""
        self.op = _SoftmaxCrossEntropyOp(reduction="mean")
        self.op.needs_input_grad = (True, False)  # the labels never need a gradient
        self.loss = self.t = None
        self._single = False

    @property
    def y(self) -> np.ndarray:
        """The softmax output of the last forward (shaped like its x)."""
        y = self.op.saved[1]  # (target, softmax)
        return y[0] if self._single else y

    def forward(self, x: np.ndarray, t: np.ndarray) -> float:
        """The mean cross-entropy of softmax(x) against t, keeping y and t for backward."""
        self.t = t
        x, t = np.asarray(x), np.asarray(t)
        self._single = x.ndim == 1
        if self._single:
            x = x.reshape(1, -1)
            t = t.reshape(1, -1) if t.size == x.size else t.reshape(1)
        elif t.ndim == 2 and t.shape[1] == 1 and x.shape[1] != 1:
            t = t.reshape(-1)  # class numbers as a column
        self.loss = self.op.forward(x, t)
        return self.loss

    def backward(self, dout=1) -> np.ndarray:
        """(y - t) / N, times dout."""
        dx, _ = self.op.backward(np.asarray(dout, dtype=self.op.saved[1].dtype))
        return dx[0] if self._single else dx


class Dropout:
    """The book's dropout: training multiplies by a fresh 0/1 mask (each unit kept with probability
    1 - dropout_ratio, drawn from np.random); testing scales by 1 - dropout_ratio. Backward: dout·mask.
    """

    def __init__(self, dropout_ratio: float = 0.5):
        """The book's constructor arguments (see the class docstring)."""
        if not 0 <= dropout_ratio < 1:
            raise ValueError(f"Dropout: dropout_ratio must be in [0, 1), got {dropout_ratio}")
        self.dropout_ratio = dropout_ratio
        self.mask = None
        self.op = _MulOp()
        self.op.needs_input_grad = (True, False)

    def forward(self, x: np.ndarray, train_flg: bool = True) -> np.ndarray:
        """The forward pass on a batch, as the book's layer (keeping what backward needs)."""
        if not train_flg:
            return x * (1.0 - self.dropout_ratio)
        self.mask = np.random.rand(*x.shape) > self.dropout_ratio
        return self.op.forward(x, self.mask.astype(x.dtype))

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dout -> dx; the parameters' gradients are kept as the book's attributes (dW, db, ...)."""
        dx, _ = self.op.backward(dout)
        return dx


class BatchNormalization:
    """Batch normalisation of each feature: γ·(x - μ)/√(σ² + 1e-6) + β, with batch statistics when
    training and the running ones (running = momentum·running + (1 - momentum)·batch, σ² biased) when not.

    Images (N, C, H, W) are normalised per element of C·H·W, as in the book. The forward is graphgrad's
    `batch_norm` on tensors and backward is the engine's; `dgamma`, `dbeta` hold the last gradients.
    """

    eps = 1e-6  # the book's 10e-7

    def __init__(self, gamma: np.ndarray, beta: np.ndarray, momentum: float = 0.9, running_mean=None,
                 running_var=None):
        """The book's constructor arguments (see the class docstring)."""
        self.gamma, self.beta, self.momentum = gamma, beta, momentum
        self.running_mean, self.running_var = running_mean, running_var
        self.input_shape = self.batch_size = None
        self.dgamma = self.dbeta = None
        self._graph = None

    def forward(self, x: np.ndarray, train_flg: bool = True) -> np.ndarray:
        """The forward pass on a batch, as the book's layer (keeping what backward needs)."""
        self.input_shape = x.shape
        x2 = x.reshape(x.shape[0], -1)
        if x2.shape[1] != np.size(self.gamma):
            raise ValueError(f"BatchNormalization: input of shape {x.shape} has {x2.shape[1]} features per sample "
                             f"but gamma has {np.size(self.gamma)}")
        if self.running_mean is None:
            self.running_mean = np.zeros(x2.shape[1])
            self.running_var = np.zeros(x2.shape[1])
        xt = Tensor(x2, requires_grad=True)
        gamma, beta = Tensor(self.gamma, requires_grad=True), Tensor(self.beta, requires_grad=True)
        if train_flg:
            self.batch_size = x2.shape[0]
            out = _batch_norm(xt, None, None, gamma, beta, training=True, eps=self.eps)
            m = self.momentum
            self.running_mean = m * self.running_mean + (1 - m) * x2.mean(axis=0)
            self.running_var = m * self.running_var + (1 - m) * x2.var(axis=0)
        else:
            out = _batch_norm(xt, self.running_mean, self.running_var, gamma, beta, training=False, eps=self.eps)
        self._graph = (out, xt, gamma, beta)
        return out.data.reshape(self.input_shape)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dout -> dx; the parameters' gradients are kept as the book's attributes (dW, db, ...)."""
        out, xt, gamma, beta = self._graph
        dx, dgamma, dbeta = _grad(out, (xt, gamma, beta), dout.reshape(out.shape))
        self.dgamma, self.dbeta = dgamma.data, dbeta.data
        return dx.data.reshape(self.input_shape)


class Convolution:
    """2-D convolution (cross-correlation) of (N, C, H, W) images with filters W (FN, C, FH, FW) and bias b (FN,).

    The book builds it from im2col and an affine product (`graphgrad.book.im2col` shows that
    layout); here it is graphgrad's conv2d op, whose kernels do the same patch-matrix products
    blockwise, so the book's networks train at graphgrad's speed and share its one derivative.
    After backward, `dW` (W's shape) and `db` hold the gradients.
    """

    def __init__(self, W: np.ndarray, b: np.ndarray, stride: int = 1, pad: int = 0):
        """The book's constructor arguments (see the class docstring)."""
        self.W, self.b, self.stride, self.pad = W, b, stride, pad
        self.x = None
        self.dW = self.db = None
        self.op = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The forward pass on a batch, as the book's layer (keeping what backward needs)."""
        if x.ndim != 4 or x.shape[1] != self.W.shape[1]:
            raise ValueError(f"Convolution: input of shape {x.shape} does not fit filters of shape {self.W.shape}; "
                             f"expected (N, {self.W.shape[1]}, H, W)")
        self.x = x
        self.op = _Conv2dOp(stride=self.stride, padding=self.pad)
        # the book's product of float32 images with float64 filters is float64: BLAS wants one dtype
        return self.op.forward(x.astype(self.W.dtype, copy=False), self.W, self.b)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dout -> dx; the parameters' gradients are kept as the book's attributes (dW, db, ...)."""
        dx, self.dW, self.db = self.op.backward(dout)
        return dx


class Pooling:
    """Max pooling over pool_h x pool_w windows of each channel (graphgrad's max_pool2d op).

    As in the book, padding is zeros and backward sends each window's gradient to its first maximum.
    """

    def __init__(self, pool_h: int, pool_w: int, stride: int = 1, pad: int = 0):
        """The book's constructor arguments (see the class docstring)."""
        self.pool_h, self.pool_w, self.stride, self.pad = pool_h, pool_w, stride, pad
        self.x = None
        self.op = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The forward pass on a batch, as the book's layer (keeping what backward needs)."""
        self.x = x
        p = self.pad
        if p:
            x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        self.op = _MaxPool2dOp((self.pool_h, self.pool_w), stride=self.stride)
        return self.op.forward(x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dout -> dx (the gradient at each window's first maximum, summed where windows overlap)."""
        dx = self.op.backward(dout)
        p = self.pad
        return dx[:, :, p:dx.shape[2] - p, p:dx.shape[3] - p] if p else dx
