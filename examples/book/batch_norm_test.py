"""Chapter 6: training with and without batch normalisation, for several initial weight scales (figure 6-18).

Run: python examples/book/batch_norm_test.py [--epochs 20] [--scales 1,0.1,0.01]
"""
import argparse

import numpy as np

from graphgrad.book.common.multi_layer_net_extend import MultiLayerNetExtend
from graphgrad.book.common.optimizer import SGD
from graphgrad.book.dataset.mnist import load_mnist

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--train-size", type=int, default=1000)
parser.add_argument("--scales", default="1,0.1,0.01,0.001")
args = parser.parse_args()

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
x_train, t_train = x_train[:args.train_size], t_train[:args.train_size]
train_size, batch_size, learning_rate = x_train.shape[0], 100, 0.01


def train(weight_init_std):
    bn_network = MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100, 100, 100, 100], output_size=10,
                                     weight_init_std=weight_init_std, use_batchnorm=True)
    network = MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100, 100, 100, 100], output_size=10,
                                  weight_init_std=weight_init_std)
    optimizer = SGD(lr=learning_rate)
    train_acc_list, bn_train_acc_list = [], []
    iter_per_epoch = max(train_size / batch_size, 1)
    epoch_cnt = 0
    for i in range(1000000000):
        batch_mask = np.random.choice(train_size, batch_size)
        x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
        for _network in (bn_network, network):
            grads = _network.gradient(x_batch, t_batch)
            optimizer.update(_network.params, grads)
        if i % iter_per_epoch == 0:
            train_acc = network.accuracy(x_train, t_train)
            bn_train_acc = bn_network.accuracy(x_train, t_train)
            train_acc_list.append(train_acc)
            bn_train_acc_list.append(bn_train_acc)
            print("epoch:" + str(epoch_cnt) + " | " + str(train_acc) + " - " + str(bn_train_acc))
            epoch_cnt += 1
            if epoch_cnt >= args.epochs:
                break
    return train_acc_list, bn_train_acc_list


np.random.seed(0)
with np.errstate(over="ignore", invalid="ignore"):  # the unnormalised nets overflow at wide scales: the point
    for w in (float(s) for s in args.scales.split(",")):
        print("============== weight scale " + str(w) + " ==============")
        train_acc_list, bn_train_acc_list = train(w)
        print(f"final train acc: without batchnorm {train_acc_list[-1]:.3f}, with {bn_train_acc_list[-1]:.3f}")
