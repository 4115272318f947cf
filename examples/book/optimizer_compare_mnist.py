"""Chapter 6: SGD, Momentum, AdaGrad and Adam training the same 5-layer net on MNIST (the book's figure 6-9).

Run: python examples/book/optimizer_compare_mnist.py [--iters 2000] [--plot]
"""
import argparse

import numpy as np

from graphgrad.book.common.multi_layer_net import MultiLayerNet
from graphgrad.book.common.optimizer import SGD, AdaGrad, Adam, Momentum
from graphgrad.book.common.util import smooth_curve
from graphgrad.book.dataset.mnist import load_mnist

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--iters", type=int, default=2000)
parser.add_argument("--train-size", type=int, default=60000)
parser.add_argument("--plot", action="store_true", help="draw the loss curves (needs matplotlib)")
args = parser.parse_args()

np.random.seed(0)
(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
x_train, t_train = x_train[:args.train_size], t_train[:args.train_size]
train_size, batch_size = x_train.shape[0], 128

optimizers = {"SGD": SGD(), "Momentum": Momentum(), "AdaGrad": AdaGrad(), "Adam": Adam()}
networks, train_loss = {}, {}
for key in optimizers:
    networks[key] = MultiLayerNet(input_size=784, hidden_size_list=[100, 100, 100, 100], output_size=10)
    train_loss[key] = []

for i in range(args.iters):
    batch_mask = np.random.choice(train_size, batch_size)
    x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
    for key in optimizers:
        grads = networks[key].gradient(x_batch, t_batch)
        optimizers[key].update(networks[key].params, grads)
        train_loss[key].append(networks[key].loss(x_batch, t_batch))
    if i % 100 == 0 or i == args.iters - 1:
        print("===========" + "iteration:" + str(i) + "===========")
        for key in optimizers:
            print(key + ":" + str(train_loss[key][-1]))

print("mean loss over the last 100 iterations:")
for key in optimizers:
    print(f"{key}: {np.mean(train_loss[key][-100:]):.4f}")

if args.plot:
    import matplotlib.pyplot as plt

    for key, marker in zip(optimizers, "osD^"):
        plt.plot(np.arange(args.iters), smooth_curve(train_loss[key]), marker=marker, markevery=100, label=key)
    plt.xlabel("iterations")
    plt.ylabel("loss")
    plt.ylim(0, 1)
    plt.legend()
    plt.show()
