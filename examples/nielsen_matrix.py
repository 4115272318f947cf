"""Nielsen's network, fully matrix-based: each mini-batch goes through the network as one matrix.

The same 784-30-10 sigmoid network, quadratic cost and stochastic gradient descent as
`nielsen_network.py`, but the rows of a mini-batch travel together (X is (m, 784)), and the
gradients come from graphgrad's backward instead of hand-written equations. The cost is
C = (1/2m) Σ ‖a - y‖², so plain SGD with lr = eta is exactly Nielsen's w -= (eta/m) Σ ∇w.

    python examples/nielsen_matrix.py [--epochs 1] [--train 10000] [--synthetic]
"""
from __future__ import annotations

import time

import numpy as np

import graphgrad as gg
from graphgrad import nn
from graphgrad.optim import SGD
from nielsen_data import one_hot, parse_args


class MatrixNetwork:
    """Linear → Sigmoid layers built from graphgrad modules; weights start N(0, 1) like Nielsen's."""

    def __init__(self, sizes: list[int], seed: int = 0, dtype=np.float32):
        rng = np.random.default_rng(seed)
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            linear = nn.Linear(n_in, n_out, dtype=dtype)
            nn.init.normal_(linear.weight, generator=rng)
            nn.init.normal_(linear.bias, generator=rng)
            layers += [linear, nn.Sigmoid()]
        self.model = nn.Sequential(*layers)

    def feedforward(self, x: np.ndarray) -> np.ndarray:
        """Outputs for the rows of x, without recording a graph."""
        with gg.no_grad():
            return self.model(x).data

    def SGD(self, x: np.ndarray, y: np.ndarray, epochs: int, mini_batch_size: int, eta: float,  # noqa: N802
            test_data=None, seed: int = 0) -> list[float]:
        """Train on rows x with one-hot rows y; returns each epoch's seconds."""
        rng = np.random.default_rng(seed)
        optimizer = SGD(self.model.parameters(), lr=eta)
        seconds = []
        for epoch in range(epochs):
            start = time.perf_counter()
            order = rng.permutation(len(x))
            for k in range(0, len(order), mini_batch_size):
                idx = order[k:k + mini_batch_size]
                self.update_mini_batch(x[idx], y[idx], optimizer)
            seconds.append(time.perf_counter() - start)
            if test_data is not None:
                print(f"epoch {epoch}: {self.evaluate(*test_data)} / {len(test_data[0])}  ({seconds[-1]:.2f} s)")
        return seconds

    def update_mini_batch(self, x: np.ndarray, y: np.ndarray, optimizer: SGD) -> None:
        """One step on the whole mini-batch at once: forward, quadratic cost, backward, update."""
        a = self.model(x)
        cost = nn.functional.mse_loss(a, y, reduction="sum") * (0.5 / len(x))
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()

    def evaluate(self, x: np.ndarray, labels: np.ndarray) -> int:
        """How many rows get the right digit."""
        return int((self.feedforward(x).argmax(axis=1) == labels).sum())


def main() -> None:
    args, (x, t), (xt, tt) = parse_args("Nielsen's network, matrix-based minibatches on graphgrad")
    net = MatrixNetwork([784, 30, 10])
    net.SGD(x, one_hot(t, dtype=np.float32), args.epochs, args.batch, args.eta, test_data=(xt, tt))


if __name__ == "__main__":
    main()
