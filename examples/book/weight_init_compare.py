"""Chapter 6: weights N(0, 0.01²) vs Xavier vs He initialisation for a 5-layer ReLU net on MNIST (figure 6-15).

Run: python examples/book/weight_init_compare.py [--iters 2000]
"""
import argparse

import numpy as np

from graphgrad.book.common.multi_layer_net import MultiLayerNet
from graphgrad.book.common.optimizer import SGD
from graphgrad.book.dataset.mnist import load_mnist

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--iters", type=int, default=2000)
parser.add_argument("--train-size", type=int, default=60000)
args = parser.parse_args()

np.random.seed(0)
(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
x_train, t_train = x_train[:args.train_size], t_train[:args.train_size]
train_size, batch_size = x_train.shape[0], 128

weight_init_types = {"std=0.01": 0.01, "Xavier": "sigmoid", "He": "relu"}
optimizer = SGD(lr=0.01)
networks, train_loss = {}, {}
for key, weight_type in weight_init_types.items():
    networks[key] = MultiLayerNet(input_size=784, hidden_size_list=[100, 100, 100, 100], output_size=10,
                                  weight_init_std=weight_type)
    train_loss[key] = []

for i in range(args.iters):
    batch_mask = np.random.choice(train_size, batch_size)
    x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
    for key in weight_init_types:
        grads = networks[key].gradient(x_batch, t_batch)
        optimizer.update(networks[key].params, grads)
        train_loss[key].append(networks[key].loss(x_batch, t_batch))
    if i % 100 == 0 or i == args.iters - 1:
        print("===========" + "iteration:" + str(i) + "===========")
        for key in weight_init_types:
            print(key + ":" + str(train_loss[key][-1]))

print("mean loss over the last 100 iterations:")
for key in weight_init_types:
    print(f"{key}: {np.mean(train_loss[key][-100:]):.4f}")
