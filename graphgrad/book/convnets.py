"""The textbook's convolutional networks: SimpleConvNet (chapter 7) and DeepConvNet (chapter 8).

Both keep the book's `params` dict (W1, b1, ...), `predict`/`loss`/`accuracy`/`gradient`, and
`save_params`/`load_params`, which write graphgrad's own checkpoint format (`graphgrad.save`: an
npz archive read without pickle) under whatever file name is given, the book's "params.pkl"
included. The book's own pickled files cannot be read (unpickling can run code): retrain, or
convert them once in an environment you trust with `graphgrad.save(pickle.load(f), path)`.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from ..io import load, save
from .gradient import numerical_gradient
from .layers import Affine, Convolution, Dropout, Pooling, Relu, SoftmaxWithLoss

__all__ = ["SimpleConvNet", "DeepConvNet"]


class _ConvNet:
    """accuracy in batches, gradient collection, and parameter files, shared by the two networks."""

    params: dict
    last_layer: SoftmaxWithLoss
    _weighted: list  # the layers holding W{i}, b{i}, in order

    def _layers(self):
        raise NotImplementedError

    def predict(self, x: np.ndarray, train_flg: bool = False) -> np.ndarray:
        """Scores for each image; train_flg turns dropout on."""
        for layer in self._layers():
            x = layer.forward(x, train_flg) if isinstance(layer, Dropout) else layer.forward(x)
        return x

    def accuracy(self, x: np.ndarray, t: np.ndarray, batch_size: int = 100) -> float:
        """Fraction of images classified right, predicted batch_size at a time (the book's loop: a last
        partial batch is left out of the count but not of the divisor)."""
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        hits = 0
        for i in range(x.shape[0] // batch_size):
            part = slice(i * batch_size, (i + 1) * batch_size)
            hits += int(np.sum(np.argmax(self.predict(x[part]), axis=1) == t[part]))
        return hits / x.shape[0]

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict:
        """Backpropagated gradients of the loss: {'W1': ..., 'b1': ..., ...}."""
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(list(self._layers())):
            dout = layer.backward(dout)
        grads = {}
        for i, layer in enumerate(self._weighted, start=1):
            grads[f"W{i}"], grads[f"b{i}"] = layer.dW, layer.db
        return grads

    def save_params(self, file_name: str = "params.pkl") -> None:
        """Write the parameters to file_name in graphgrad's checkpoint format (not pickle)."""
        save({key: np.asarray(value) for key, value in self.params.items()}, file_name)

    def load_params(self, file_name: str = "params.pkl") -> None:
        """Read parameters written by save_params into this network (in place, so its layers see them)."""
        loaded = load(file_name)
        for key, value in loaded.items():
            if key not in self.params:
                raise KeyError(f"{type(self).__name__}.load_params: {file_name!r} has {key!r}, which this network "
                               f"lacks (it has {', '.join(self.params)})")
            if np.shape(value) != self.params[key].shape:
                raise ValueError(f"{type(self).__name__}.load_params: {key} in {file_name!r} has shape "
                                 f"{np.shape(value)}, this network's has {self.params[key].shape}")
            self.params[key][...] = value
        for i, layer in enumerate(self._weighted, start=1):
            layer.W, layer.b = self.params[f"W{i}"], self.params[f"b{i}"]


class SimpleConvNet(_ConvNet):
    """conv - relu - pool(2x2, stride 2) - affine - relu - affine - softmax, weights N(0, weight_init_std²)."""

    def __init__(self, input_dim=(1, 28, 28), conv_param=None, hidden_size: int = 100, output_size: int = 10,
                 weight_init_std: float = 0.01):
        """The book's constructor arguments (see the class docstring)."""
        conv_param = {"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1, **(conv_param or {})}
        filter_num, filter_size = conv_param["filter_num"], conv_param["filter_size"]
        pad, stride = conv_param["pad"], conv_param["stride"]
        conv_out = (input_dim[1] - filter_size + 2 * pad) // stride + 1
        pool_out = filter_num * (conv_out // 2) * (conv_out // 2)
        self.params = {
            "W1": weight_init_std * np.random.randn(filter_num, input_dim[0], filter_size, filter_size),
            "b1": np.zeros(filter_num),
            "W2": weight_init_std * np.random.randn(pool_out, hidden_size),
            "b2": np.zeros(hidden_size),
            "W3": weight_init_std * np.random.randn(hidden_size, output_size),
            "b3": np.zeros(output_size),
        }
        p = self.params
        self.layers = OrderedDict()
        self.layers["Conv1"] = Convolution(p["W1"], p["b1"], stride, pad)
        self.layers["Relu1"] = Relu()
        self.layers["Pool1"] = Pooling(pool_h=2, pool_w=2, stride=2)
        self.layers["Affine1"] = Affine(p["W2"], p["b2"])
        self.layers["Relu2"] = Relu()
        self.layers["Affine2"] = Affine(p["W3"], p["b3"])
        self.last_layer = SoftmaxWithLoss()
        self._weighted = [self.layers["Conv1"], self.layers["Affine1"], self.layers["Affine2"]]

    def _layers(self):
        return self.layers.values()

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        """Softmax cross-entropy of the predictions."""
        return self.last_layer.forward(self.predict(x), t)

    def numerical_gradient(self, x: np.ndarray, t: np.ndarray) -> dict:
        """Central-difference gradients of the loss (slow: for checks on tiny inputs)."""
        loss_w = lambda _: self.loss(x, t)  # noqa: E731 - the book's idiom
        return {key: numerical_gradient(loss_w, param) for key, param in self.params.items()}


class DeepConvNet(_ConvNet):
    """Six 3x3 convolutions with ReLU (a 2x2 max pool after every second), then affine - relu - dropout -
    affine - dropout - softmax; He-initialised weights. The book's network for >99% on MNIST.
    """

    def __init__(self, input_dim=(1, 28, 28),
                 conv_param_1=None, conv_param_2=None, conv_param_3=None, conv_param_4=None,
                 conv_param_5=None, conv_param_6=None, hidden_size: int = 50, output_size: int = 10):
        """The book's constructor arguments (see the class docstring)."""
        defaults = [(16, 1), (16, 1), (32, 1), (32, 2), (64, 1), (64, 1)]  # (filter_num, pad), 3x3, stride 1
        given = [conv_param_1, conv_param_2, conv_param_3, conv_param_4, conv_param_5, conv_param_6]
        convs = [{"filter_num": n, "filter_size": 3, "pad": pad, "stride": 1, **(g or {})}
                 for (n, pad), g in zip(defaults, given)]
        channels = [input_dim[0]] + [c["filter_num"] for c in convs]
        fan_in = [channels[i] * convs[i]["filter_size"] ** 2 for i in range(6)] + [64 * 4 * 4, hidden_size]
        scales = np.sqrt(2.0 / np.array(fan_in))
        self.params = {}
        for i, conv in enumerate(convs):
            size = conv["filter_size"]
            self.params[f"W{i + 1}"] = scales[i] * np.random.randn(conv["filter_num"], channels[i], size, size)
            self.params[f"b{i + 1}"] = np.zeros(conv["filter_num"])
        self.params["W7"] = scales[6] * np.random.randn(64 * 4 * 4, hidden_size)
        self.params["b7"] = np.zeros(hidden_size)
        self.params["W8"] = scales[7] * np.random.randn(hidden_size, output_size)
        self.params["b8"] = np.zeros(output_size)
        p = self.params
        self.layers = []
        for i, conv in enumerate(convs):
            self.layers += [Convolution(p[f"W{i + 1}"], p[f"b{i + 1}"], conv["stride"], conv["pad"]), Relu()]
            if i % 2 == 1:
                self.layers.append(Pooling(pool_h=2, pool_w=2, stride=2))
        self.layers += [Affine(p["W7"], p["b7"]), Relu(), Dropout(0.5), Affine(p["W8"], p["b8"]), Dropout(0.5)]
        self.last_layer = SoftmaxWithLoss()
        self._weighted = [layer for layer in self.layers if isinstance(layer, (Convolution, Affine))]

    def _layers(self):
        return self.layers

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        """Softmax cross-entropy of the training-mode predictions (dropout on), as the book's."""
        return self.last_layer.forward(self.predict(x, train_flg=True), t)
