"""MatrixSlow's CNN example (its chapter 8) on graphgrad.matrixslow: two convolution layers of 3 maps
(5x5, then 3x3 kernels), 3x3 max pooling with stride 2 after each, a 147-120 ReLU layer and a 120-10
output, trained with Adam sample by sample (mini-batches of 32) on the first 1,000 MNIST training
images, each epoch ending with the accuracy on those same images, as MatrixSlow prints it.

Written for graphgrad in MatrixSlow's style: only the imports differ (MNIST from graphgrad.book
instead of scikit-learn's fetch_openml, `np.mat` -> `np.asmatrix`), plus options to shorten the run.

Run: python examples/matrixslow/cnn_mnist.py [--samples 1000] [--epochs 60] [--seed 0]
"""
import argparse
import time

import numpy as np

import graphgrad.matrixslow as ms
from graphgrad.book.dataset.mnist import load_mnist

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--samples", type=int, default=1000, help="how many training images (MatrixSlow: 1000)")
parser.add_argument("--epochs", type=int, default=60)
parser.add_argument("--seed", type=int, default=None, help="seed np.random (MatrixSlow's script does not)")
args = parser.parse_args()
if args.seed is not None:
    np.random.seed(args.seed)

# the first images of MNIST's training set, pixels in [0, 1], labels one-hot
(X, y), _ = load_mnist(normalize=True, flatten=True, one_hot_label=False)
X, y = X[:args.samples].astype(np.float64), y[:args.samples].astype(int)
one_hot_label = np.eye(10)[y]

img_shape = (28, 28)
x = ms.core.Variable(img_shape, init=False, trainable=False)
one_hot = ms.core.Variable(dim=(10, 1), init=False, trainable=False)

conv1 = ms.layer.conv([x], img_shape, 3, (5, 5), "ReLU")
pooling1 = ms.layer.pooling(conv1, (3, 3), (2, 2))
conv2 = ms.layer.conv(pooling1, (14, 14), 3, (3, 3), "ReLU")
pooling2 = ms.layer.pooling(conv2, (3, 3), (2, 2))
fc1 = ms.layer.fc(ms.ops.Concat(*pooling2), 147, 120, "ReLU")
output = ms.layer.fc(fc1, 120, 10, "None")
predict = ms.ops.SoftMax(output)
loss = ms.ops.loss.CrossEntropyWithSoftMax(output, one_hot)

learning_rate = 0.005
optimizer = ms.optimizer.Adam(ms.default_graph, loss, learning_rate)
batch_size = 32

start = time.process_time()
for epoch in range(args.epochs):
    batch_count = 0
    for i in range(len(X)):
        x.set_value(np.asmatrix(X[i]).reshape(img_shape))
        one_hot.set_value(np.asmatrix(one_hot_label[i]).T)
        optimizer.one_step()
        batch_count += 1
        if batch_count >= batch_size:
            print("epoch: {:d}, iteration: {:d}, loss: {:.3f}".format(epoch + 1, i + 1, loss.value[0, 0]))
            optimizer.update()
            batch_count = 0

    pred = []
    for i in range(len(X)):
        x.set_value(np.asmatrix(X[i]).reshape(img_shape))
        predict.forward()
        pred.append(predict.value.A.ravel())
    pred = np.array(pred).argmax(axis=1)
    accuracy = (y == pred).astype(int).sum() / len(X)
    print("epoch: {:d}, accuracy: {:.3f}".format(epoch + 1, accuracy))
print(f"CPU time: {time.process_time() - start:.1f} s")
