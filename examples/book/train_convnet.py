"""Chapter 7: SimpleConvNet (conv-relu-pool-affine-relu-affine) on MNIST with Adam; the book reaches ~98.9% test accuracy.

Run: python examples/book/train_convnet.py [--epochs 20] [--train-size 60000] [--params params.pkl]
(20 epochs of 600 steps: about 1 s a step on 2 busy cores; --train-size 5000 --test-size 1000 as the book suggests)
"""
import argparse

import numpy as np

from graphgrad.book import SimpleConvNet
from graphgrad.book.common.trainer import Trainer
from graphgrad.book.dataset.mnist import load_mnist

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--train-size", type=int, default=60000)
parser.add_argument("--test-size", type=int, default=10000)
parser.add_argument("--params", default="params.pkl", help="where to save the trained parameters")
parser.add_argument("--quiet", action="store_true", help="print epoch lines only, not every step's loss")
parser.add_argument("--seed", type=int, default=None, help="seed np.random (the book's script does not)")
args = parser.parse_args()
if args.seed is not None:
    np.random.seed(args.seed)

(x_train, t_train), (x_test, t_test) = load_mnist(flatten=False)
x_train, t_train = x_train[:args.train_size], t_train[:args.train_size]
x_test, t_test = x_test[:args.test_size], t_test[:args.test_size]

network = SimpleConvNet(input_dim=(1, 28, 28), conv_param={"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1},
                        hidden_size=100, output_size=10, weight_init_std=0.01)
trainer = Trainer(network, x_train, t_train, x_test, t_test, epochs=args.epochs, mini_batch_size=100,
                  optimizer="Adam", optimizer_param={"lr": 0.001}, evaluate_sample_num_per_epoch=1000,
                  verbose=not args.quiet)
trainer.train()
if args.quiet:
    for epoch, (train_acc, test_acc) in enumerate(zip(trainer.train_acc_list, trainer.test_acc_list), start=1):
        print(f"=== epoch:{epoch}, train acc:{train_acc}, test acc:{test_acc} ===")
    print("test acc:" + str(trainer.test_acc))

network.save_params(args.params)
print("Saved Network Parameters!")
