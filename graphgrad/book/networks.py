"""The textbook's TwoLayerNet, MultiLayerNet and MultiLayerNetExtend, wired from the adapters in `book.layers`.

`params` holds the book's arrays (W of shape (in, out)); the layers hold the same arrays, so
`params[key] -= lr * grads[key]` trains the network, exactly as the book's loops do.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .gradient import numerical_gradient
from .layers import Affine, BatchNormalization, Dropout, Relu, Sigmoid, SoftmaxWithLoss


def _randn(rng, shape: tuple, dtype) -> np.ndarray:
    """Standard normal draws: the book's global np.random when rng is None, else a seed or Generator."""
    if rng is None:
        return np.random.randn(*shape).astype(dtype, copy=False)
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    return gen.standard_normal(shape).astype(dtype, copy=False)


class _BookNet:
    """predict / loss / accuracy / numerical_gradient shared by the book's networks."""

    params: dict
    layers: "OrderedDict"
    last_layer: SoftmaxWithLoss

    @property
    def lastLayer(self) -> SoftmaxWithLoss:  # noqa: N802 - the book's spelling in TwoLayerNet
        """The loss layer (the book's TwoLayerNet name for it)."""
        return self.last_layer

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Scores (logits) for each row of x."""
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def _penalty(self) -> float:
        return 0.0

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        """Softmax cross-entropy of the predictions (plus the weight-decay penalty, if any)."""
        return self.last_layer.forward(self.predict(x), t) + self._penalty()

    def accuracy(self, x: np.ndarray, t: np.ndarray) -> float:
        """Fraction of rows whose highest score is the label (t as class numbers or one-hot rows)."""
        y = np.argmax(self.predict(x), axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        return float(np.sum(y == t)) / x.shape[0]

    def numerical_gradient(self, x: np.ndarray, t: np.ndarray) -> dict:
        """Gradients of the loss by central differences, one parameter element at a time (slow: for checks)."""
        loss_w = lambda _: self.loss(x, t)  # noqa: E731 - the book's idiom
        return {key: numerical_gradient(loss_w, param) for key, param in self.params.items()}

    def _backprop(self) -> None:
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)


class TwoLayerNet(_BookNet):
    """Affine1 → Relu1 → Affine2 → SoftmaxWithLoss, with weights N(0, weight_init_std²) and zero biases."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int, weight_init_std: float = 0.01,
                 rng=None, dtype=np.float64):
        """Weights N(0, weight_init_std²) from `rng` (a seed, a Generator, or None for np.random), zero biases."""
        self.params = {
            "W1": weight_init_std * _randn(rng, (input_size, hidden_size), dtype),
            "b1": np.zeros(hidden_size, dtype=dtype),
            "W2": weight_init_std * _randn(rng, (hidden_size, output_size), dtype),
            "b2": np.zeros(output_size, dtype=dtype),
        }
        self.layers = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
        self.layers["Relu1"] = Relu()
        self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])
        self.last_layer = SoftmaxWithLoss()

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict:
        """Gradients of the loss by backpropagation: {'W1', 'b1', 'W2', 'b2'}."""
        self.loss(x, t)
        self._backprop()
        grads = {}
        for i in (1, 2):
            layer = self.layers[f"Affine{i}"]
            grads[f"W{i}"], grads[f"b{i}"] = layer.dW, layer.db
        return grads


class MultiLayerNet(_BookNet):
    """Fully connected net: (Affine → activation) per hidden size, then Affine → SoftmaxWithLoss.

    weight_init_std: 'relu'/'he' → √(2/n_in), 'sigmoid'/'xavier' → √(1/n_in), or a number.
    weight_decay_lambda adds ½λΣ‖W‖² to the loss and λW to each weight gradient.
    """

    def __init__(self, input_size: int, hidden_size_list: list[int], output_size: int, activation: str = "relu",
                 weight_init_std="relu", weight_decay_lambda: float = 0.0, rng=None, dtype=np.float64):
        """Hidden layers of the given sizes with ReLU or sigmoid, He or Xavier init, and optional weight decay."""
        activations = {"relu": Relu, "sigmoid": Sigmoid}
        if activation.lower() not in activations:
            raise ValueError(f"MultiLayerNet: activation must be 'relu' or 'sigmoid', got {activation!r}")
        self.input_size, self.output_size = input_size, output_size
        self.hidden_size_list = list(hidden_size_list)
        self.hidden_layer_num = len(self.hidden_size_list)
        self.weight_decay_lambda = weight_decay_lambda
        sizes = [input_size] + self.hidden_size_list + [output_size]
        self.params = {}
        for i in range(1, len(sizes)):
            scale = self._init_scale(weight_init_std, sizes[i - 1])
            self.params[f"W{i}"] = scale * _randn(rng, (sizes[i - 1], sizes[i]), dtype)
            self.params[f"b{i}"] = np.zeros(sizes[i], dtype=dtype)
        self.layers = OrderedDict()
        for i in range(1, self.hidden_layer_num + 1):
            self.layers[f"Affine{i}"] = Affine(self.params[f"W{i}"], self.params[f"b{i}"])
            self.layers[f"Activation_function{i}"] = activations[activation.lower()]()
        last = self.hidden_layer_num + 1
        self.layers[f"Affine{last}"] = Affine(self.params[f"W{last}"], self.params[f"b{last}"])
        self.last_layer = SoftmaxWithLoss()

    @staticmethod
    def _init_scale(weight_init_std, fan_in: int) -> float:
        if isinstance(weight_init_std, str):
            kind = weight_init_std.lower()
            if kind in ("relu", "he"):
                return np.sqrt(2.0 / fan_in)
            if kind in ("sigmoid", "xavier"):
                return np.sqrt(1.0 / fan_in)
            raise ValueError(f"MultiLayerNet: weight_init_std must be 'relu', 'he', 'sigmoid', 'xavier' or a number, "
                             f"got {weight_init_std!r}")
        return float(weight_init_std)

    def _penalty(self) -> float:
        if not self.weight_decay_lambda:
            return 0.0
        n = self.hidden_layer_num + 1
        return 0.5 * self.weight_decay_lambda * sum(np.sum(self.params[f"W{i}"] ** 2) for i in range(1, n + 1))

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict:
        """Gradients of the loss (with weight decay) by backpropagation: {'W1', 'b1', ...}."""
        self.loss(x, t)
        self._backprop()
        grads = {}
        for i in range(1, self.hidden_layer_num + 2):
            layer = self.layers[f"Affine{i}"]
            grads[f"W{i}"] = layer.dW + self.weight_decay_lambda * layer.W if self.weight_decay_lambda else layer.dW
            grads[f"b{i}"] = layer.db
        return grads


class MultiLayerNetExtend(MultiLayerNet):
    """MultiLayerNet with the book's extensions: BatchNormalization after each hidden Affine
    (use_batchnorm; parameters gamma{i}, beta{i}) and Dropout after each activation (use_dropout,
    dropping dropout_ration of the units while training). `predict`/`loss` take train_flg.
    """

    def __init__(self, input_size: int, hidden_size_list: list[int], output_size: int, activation: str = "relu",
                 weight_init_std="relu", weight_decay_lambda: float = 0.0, use_dropout: bool = False,
                 dropout_ration: float = 0.5, use_batchnorm: bool = False, rng=None, dtype=np.float64):
        """The book's constructor arguments (see the class docstring)."""
        super().__init__(input_size, hidden_size_list, output_size, activation, weight_init_std,
                         weight_decay_lambda, rng, dtype)
        self.use_dropout, self.use_batchnorm = use_dropout, use_batchnorm
        plain, self.layers = self.layers, OrderedDict()
        for i in range(1, self.hidden_layer_num + 1):
            self.layers[f"Affine{i}"] = plain[f"Affine{i}"]
            if use_batchnorm:
                width = self.hidden_size_list[i - 1]
                self.params[f"gamma{i}"] = np.ones(width, dtype=dtype)
                self.params[f"beta{i}"] = np.zeros(width, dtype=dtype)
                self.layers[f"BatchNorm{i}"] = BatchNormalization(self.params[f"gamma{i}"], self.params[f"beta{i}"])
            self.layers[f"Activation_function{i}"] = plain[f"Activation_function{i}"]
            if use_dropout:
                self.layers[f"Dropout{i}"] = Dropout(dropout_ration)
        last = f"Affine{self.hidden_layer_num + 1}"
        self.layers[last] = plain[last]

    def predict(self, x: np.ndarray, train_flg: bool = False) -> np.ndarray:
        """Scores for each row of x; train_flg selects dropout masks and batch statistics."""
        for layer in self.layers.values():
            x = layer.forward(x, train_flg) if isinstance(layer, (Dropout, BatchNormalization)) else layer.forward(x)
        return x

    def loss(self, x: np.ndarray, t: np.ndarray, train_flg: bool = False) -> float:
        """Softmax cross-entropy plus the weight-decay penalty."""
        return self.last_layer.forward(self.predict(x, train_flg), t) + self._penalty()

    def numerical_gradient(self, x: np.ndarray, t: np.ndarray) -> dict:
        """Central-difference gradients of the training-mode loss, for every parameter."""
        loss_w = lambda _: self.loss(x, t, train_flg=True)  # noqa: E731 - the book's idiom
        return {key: numerical_gradient(loss_w, param) for key, param in self.params.items()}

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict:
        """Backpropagated gradients of the training-mode loss: W, b (with weight decay), gamma, beta."""
        self.loss(x, t, train_flg=True)
        self._backprop()
        grads = {}
        for i in range(1, self.hidden_layer_num + 2):
            layer = self.layers[f"Affine{i}"]
            grads[f"W{i}"] = layer.dW + self.weight_decay_lambda * layer.W if self.weight_decay_lambda else layer.dW
            grads[f"b{i}"] = layer.db
            if self.use_batchnorm and i <= self.hidden_layer_num:
                norm = self.layers[f"BatchNorm{i}"]
                grads[f"gamma{i}"], grads[f"beta{i}"] = norm.dgamma, norm.dbeta
        return grads
