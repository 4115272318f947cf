"""Chapter 8: DeepConvNet (six 3x3 convolutions, dropout) on MNIST with Adam; the book reaches ~99.4% test accuracy.

Run: python examples/book/train_deepnet.py [--epochs 20] [--train-size 60000] [--params deep_convnet_params.pkl]
(20 epochs of 600 steps at several seconds a step on 2 cores: hours; use the options for a short run)
"""
import argparse

import numpy as np

from graphgrad.book import DeepConvNet
from graphgrad.book.common.trainer import Trainer
from graphgrad.book.dataset.mnist import load_mnist

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--train-size", type=int, default=60000)
parser.add_argument("--test-size", type=int, default=10000)
parser.add_argument("--params", default="deep_convnet_params.pkl", help="where to save the trained parameters")
parser.add_argument("--seed", type=int, default=None, help="seed np.random (the book's script does not)")
args = parser.parse_args()
if args.seed is not None:
    np.random.seed(args.seed)

(x_train, t_train), (x_test, t_test) = load_mnist(flatten=False)
x_train, t_train = x_train[:args.train_size], t_train[:args.train_size]
x_test, t_test = x_test[:args.test_size], t_test[:args.test_size]

network = DeepConvNet()
trainer = Trainer(network, x_train, t_train, x_test, t_test, epochs=args.epochs, mini_batch_size=100,
                  optimizer="Adam", optimizer_param={"lr": 0.001}, evaluate_sample_num_per_epoch=1000)
trainer.train()

network.save_params(args.params)
print("Saved Network Parameters!")
