"""Nielsen's network, sample by sample: stochastic gradient descent where backprop sees one column vector at a time.

The structure of Nielsen's `network.py` (Neural Networks and Deep Learning, chapter 1-2), in
plain NumPy: `SGD` shuffles and cuts mini-batches, `update_mini_batch` sums the per-sample
gradients that `backprop` returns, sigmoid neurons, quadratic cost C = ½‖a - y‖².
Compare with `nielsen_matrix.py`, which does the same on whole mini-batches with graphgrad.

    python examples/nielsen_network.py [--epochs 1] [--train 10000] [--synthetic]
"""
from __future__ import annotations

import time

import numpy as np

from nielsen_data import one_hot, parse_args


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e⁻ᶻ), written with tanh so large |z| never overflows."""
    return 0.5 * (1 + np.tanh(0.5 * z))


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    """σ'(z) = σ(z)(1 - σ(z))."""
    s = sigmoid(z)
    return s * (1 - s)


class Network:
    """A fully connected sigmoid network; weights[l] has shape (n_out, n_in), biases[l] is a column (n_out, 1)."""

    def __init__(self, sizes: list[int], seed: int = 0):
        rng = np.random.default_rng(seed)
        self.sizes = list(sizes)
        self.num_layers = len(sizes)
        self.biases = [rng.standard_normal((n, 1)) for n in sizes[1:]]
        self.weights = [rng.standard_normal((n_out, n_in)) for n_in, n_out in zip(sizes[:-1], sizes[1:])]

    def feedforward(self, a: np.ndarray) -> np.ndarray:
        """The output for one input column a of shape (784, 1)."""
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(w @ a + b)
        return a

    def SGD(self, training_data, epochs: int, mini_batch_size: int, eta: float, test_data=None,  # noqa: N802
            seed: int = 0) -> list[float]:
        """Train for `epochs` passes over [(x, y)] column pairs; returns each epoch's seconds."""
        rng = np.random.default_rng(seed)
        seconds = []
        for epoch in range(epochs):
            start = time.perf_counter()
            order = rng.permutation(len(training_data))
            for k in range(0, len(order), mini_batch_size):
                self.update_mini_batch([training_data[i] for i in order[k:k + mini_batch_size]], eta)
            seconds.append(time.perf_counter() - start)
            if test_data is not None:
                print(f"epoch {epoch}: {self.evaluate(test_data)} / {len(test_data)}  ({seconds[-1]:.2f} s)")
        return seconds

    def update_mini_batch(self, mini_batch, eta: float) -> None:
        """One gradient step: the gradients of every (x, y) in the mini-batch, summed, times eta / m."""
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            delta_b, delta_w = self.backprop(x, y)
            nabla_b = [nb + db for nb, db in zip(nabla_b, delta_b)]
            nabla_w = [nw + dw for nw, dw in zip(nabla_w, delta_w)]
        step = eta / len(mini_batch)
        self.weights = [w - step * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - step * nb for b, nb in zip(self.biases, nabla_b)]

    def backprop(self, x: np.ndarray, y: np.ndarray):
        """(∂C/∂b, ∂C/∂w) per layer for one sample, by the four equations of backpropagation."""
        activation, activations, zs = x, [x], []
        for b, w in zip(self.biases, self.weights):
            z = w @ activation + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        nabla_b, nabla_w = [None] * len(self.biases), [None] * len(self.weights)
        delta = self.cost_derivative(activations[-1], y) * sigmoid_prime(zs[-1])  # BP1: output error
        nabla_b[-1], nabla_w[-1] = delta, delta @ activations[-2].T                # BP3, BP4
        for l in range(2, self.num_layers):
            delta = (self.weights[-l + 1].T @ delta) * sigmoid_prime(zs[-l])      # BP2: error moves back
            nabla_b[-l], nabla_w[-l] = delta, delta @ activations[-l - 1].T
        return nabla_b, nabla_w

    def evaluate(self, test_data) -> int:
        """How many test inputs get the right digit (the output neuron with the highest activation)."""
        return sum(int(np.argmax(self.feedforward(x)) == label) for x, label in test_data)

    @staticmethod
    def cost_derivative(output_activations: np.ndarray, y: np.ndarray) -> np.ndarray:
        """∂C/∂a for the quadratic cost: a - y."""
        return output_activations - y


def as_columns(x: np.ndarray, labels: np.ndarray, targets: bool):
    """Nielsen's data layout: a list of (784x1 input, 10x1 one-hot target) or (input, label) pairs."""
    ys = one_hot(labels)[:, :, None] if targets else labels
    return list(zip(x.astype(np.float64)[:, :, None], ys))


def main() -> None:
    args, (x, t), (xt, tt) = parse_args("Nielsen's network.py structure, per-sample backprop")
    net = Network([784, 30, 10])
    net.SGD(as_columns(x, t, True), args.epochs, args.batch, args.eta, test_data=as_columns(xt, tt, False))


if __name__ == "__main__":
    main()
