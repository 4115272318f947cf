"""The textbook's hand-driven layers (`forward`, then `backward(dout)`), as thin adapters over graphgrad's ops.

Each adapter holds one graphgrad Function and calls its `forward`/`backward` directly on arrays:
the derivative is written once, in `graphgrad.ops`, and serves both the engine and the book.
"""
from __future__ import annotations

import numpy as np

from ..ops.activations import ReLU as _ReLUOp
from ..ops.activations import Sigmoid as _SigmoidOp
from ..ops.linear import Linear as _LinearOp
from ..ops.losses import SoftmaxCrossEntropy as _SoftmaxCrossEntropyOp


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

    t may be one-hot rows or class numbers.
    """

    def __init__(self):
        """No loss until forward runs."""
        self.op = _SoftmaxCrossEntropyOp("mean")
        self.op.needs_input_grad = (True, False)  # the labels never need a gradient
        self.loss = self.t = None

    @property
    def y(self) -> np.ndarray:
        """The softmax output of the last forward."""
        return self.op.saved[1]  # (target, softmax)

    def forward(self, x: np.ndarray, t: np.ndarray) -> float:
        """The mean cross-entropy of softmax(x) against t, keeping y and t for backward."""
        self.t = t
        self.loss = self.op.forward(x, np.asarray(t))
        return self.loss

    def backward(self, dout=1) -> np.ndarray:
        """(y - t) / N, times dout."""
        dx, _ = self.op.backward(np.asarray(dout, dtype=self.y.dtype))
        return dx
