"""The textbook's `common` package on graphgrad: the values the book prints, and each layer against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from graphgrad.book.common.functions import (
    cross_entropy_error, mean_squared_error, relu, relu_grad, sigmoid, sigmoid_grad, softmax, softmax_loss,
    step_function,
)
from graphgrad.book.common.gradient import numerical_gradient, numerical_gradient_2d
from graphgrad.book.common.layers import BatchNormalization, Convolution, Dropout, Pooling, SoftmaxWithLoss
from graphgrad.book.common.util import col2im, conv_output_size, im2col, shuffle_dataset, smooth_curve

# ---- chapter 3-4: functions, printed values --------------------------------------------------------
Y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
Y_WRONG = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])
T = np.eye(10)[2]


def test_activations_print_the_books_values():
    np.testing.assert_array_equal(step_function(np.array([-1.0, 1.0, 2.0])), [0, 1, 1])
    np.testing.assert_allclose(sigmoid(np.array([-1.0, 1.0, 2.0])), [0.26894142, 0.73105858, 0.88079708], atol=1e-8)
    np.testing.assert_array_equal(relu(np.array([-1.0, 0.0, 3.0])), [0, 0, 3])
    np.testing.assert_allclose(softmax(np.array([0.3, 2.9, 4.0])), [0.01821127, 0.24519181, 0.73659691], atol=1e-8)
    big = softmax(np.array([1010.0, 1000.0, 990.0]))  # the book's overflow example
    np.testing.assert_allclose(big, [9.99954600e-01, 4.53978686e-05, 2.06106005e-09], rtol=1e-6)
    np.testing.assert_allclose(softmax(np.array([[0.3, 2.9, 4.0]] * 2)), [[0.01821127, 0.24519181, 0.73659691]] * 2,
                               atol=1e-8)


def test_losses_print_the_books_values():
    assert mean_squared_error(Y, T) == pytest.approx(0.09750000000000003)
    assert mean_squared_error(Y_WRONG, T) == pytest.approx(0.5975)
    assert cross_entropy_error(Y, T) == pytest.approx(0.510825457099338)
    assert cross_entropy_error(Y_WRONG, T) == pytest.approx(2.302584092994546)
    batch = np.stack([Y, Y_WRONG])
    expected = (0.510825457099338 + 2.302584092994546) / 2
    for labels in (np.eye(10)[[2, 2]], np.array([2, 2]), np.array([[2], [2]])):
        assert cross_entropy_error(batch, labels) == pytest.approx(expected)
    assert cross_entropy_error(Y, np.int64(2)) == pytest.approx(0.510825457099338)
    x = np.array([[0.3, 2.9, 4.0]])
    assert softmax_loss(x, np.array([2])) == pytest.approx(-np.log(0.73659691 + 1e-7), rel=1e-7)
    with pytest.raises(ValueError, match="cross_entropy_error: labels of shape"):
        cross_entropy_error(batch, np.array([2, 2, 2]))


def test_sigmoid_grad_and_relu_grad_are_the_derivatives():
    x = np.linspace(-3, 3, 13) + 0.05
    np.testing.assert_allclose(sigmoid_grad(x), numerical_gradient(lambda v: np.sum(sigmoid(v)), x.copy()), rtol=1e-7)
    np.testing.assert_array_equal(relu_grad(x), (x > 0).astype(float))


def function_2(x):
    return np.sum(x ** 2, axis=-1) if x.ndim > 1 else np.sum(x ** 2)


def test_numerical_gradient_prints_the_books_values_and_gradient_descent_reaches_the_minimum():
    np.testing.assert_allclose(numerical_gradient(function_2, np.array([3.0, 4.0])), [6.0, 8.0])
    np.testing.assert_allclose(numerical_gradient(function_2, np.array([0.0, 2.0])), [0.0, 4.0], atol=1e-9)
    np.testing.assert_allclose(numerical_gradient(function_2, np.array([3.0, 0.0])), [6.0, 0.0], atol=1e-9)
    x = np.array([-3.0, 4.0])
    for _ in range(100):  # the book's gradient_descent(function_2, init_x, lr=0.1, step_num=100)
        x -= 0.1 * numerical_gradient(function_2, x)
    np.testing.assert_allclose(x, [-6.11110793e-10, 8.14814391e-10], rtol=1e-5)
    grid = np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, 3.0]])
    np.testing.assert_allclose(numerical_gradient_2d(lambda v: np.sum(v ** 2), grid), 2 * grid, atol=1e-9)
    with pytest.raises(TypeError, match="numerical_gradient: x must be a float ndarray"):
        numerical_gradient(function_2, np.array([3, 4]))


def test_simple_net_of_chapter_4_prints_the_books_loss_and_gradient():
    W = np.array([[0.47355232, 0.9977393, 0.84668094], [0.85557411, 0.03563661, 0.69422093]])
    x, t = np.array([0.6, 0.9]), np.array([0, 0, 1])
    p = x @ W
    np.testing.assert_allclose(p, [1.05414809, 0.63071653, 1.1328074], atol=1e-8)
    loss = lambda _: cross_entropy_error(softmax(x @ W), t)  # noqa: E731
    # the book prints 0.92806853663411326, computed without the 1e-7 inside the log (which moves digit 7)
    assert loss(None) == pytest.approx(0.92806853663411326, rel=1e-6)
    assert loss(None) == pytest.approx(-np.log(softmax(p)[2] + 1e-7), rel=1e-12)
    np.testing.assert_allclose(numerical_gradient(loss, W),
                               [[0.21924763, 0.14356247, -0.36281009], [0.32887144, 0.2153437, -0.54421514]], atol=1e-6)


# ---- chapter 6-7: util -----------------------------------------------------------------------------
def test_im2col_shapes_as_the_book_prints_them():
    assert im2col(np.random.rand(1, 3, 7, 7), 5, 5, stride=1, pad=0).shape == (9, 75)
    assert im2col(np.random.rand(10, 3, 7, 7), 5, 5, stride=1, pad=0).shape == (90, 75)
    assert conv_output_size(28, 5) == 24 and conv_output_size(7, 3, stride=2, pad=1) == 4


@pytest.mark.parametrize("stride,pad", [(1, 0), (2, 1), (3, 2)])
def test_im2col_layout_and_col2im_is_its_adjoint(stride, pad):
    rng = np.random.default_rng(stride)
    x = rng.standard_normal((2, 3, 7, 8))
    col = im2col(x, 3, 2, stride, pad)
    xp = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    out_h, out_w = (7 + 2 * pad - 3) // stride + 1, (8 + 2 * pad - 2) // stride + 1
    row = 0
    for n in range(2):  # rows: (image, output row, output column); columns: (channel, filter row, filter column)
        for i in range(out_h):
            for j in range(out_w):
                patch = xp[n, :, i * stride:i * stride + 3, j * stride:j * stride + 2]
                np.testing.assert_array_equal(col[row], patch.reshape(-1))
                row += 1
    assert row == col.shape[0]
    c = rng.standard_normal(col.shape)
    assert np.sum(col * c) == pytest.approx(np.sum(x * col2im(c, x.shape, 3, 2, stride, pad)))
    with pytest.raises(ValueError, match="col2im: col of shape"):
        col2im(c[1:], x.shape, 3, 2, stride, pad)
    with pytest.raises(ValueError, match="im2col: filter .* is larger than the padded input"):
        im2col(x, 9, 2)


def test_smooth_curve_and_shuffle_dataset():
    curve = np.r_[np.ones(20), np.zeros(20)]
    smooth = smooth_curve(curve)
    assert smooth.shape == curve.shape
    np.testing.assert_allclose(smooth[:10], 1) and np.testing.assert_allclose(smooth[-10:], 0, atol=1e-12)
    assert 0 < smooth[20] < 1
    x, t = np.arange(20).reshape(10, 2), np.arange(10)
    np.random.seed(0)
    xs, ts = shuffle_dataset(x, t)
    np.testing.assert_array_equal(xs[:, 0] // 2, ts)
    assert sorted(ts) == list(range(10)) and list(ts) != list(range(10))


# ---- layers against PyTorch ------------------------------------------------------------------------
@pytest.mark.parametrize("stride,pad", [(1, 0), (2, 1)])
def test_convolution_matches_torch(stride, pad):
    rng = np.random.default_rng(0)
    x, W, b = rng.standard_normal((2, 3, 9, 8)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    layer = Convolution(W, b, stride, pad)
    out = layer.forward(x)
    xt, Wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
    ref = TF.conv2d(xt, Wt, bt, stride=stride, padding=pad)
    np.testing.assert_allclose(out, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    ref.backward(torch.tensor(dout))
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.dW, Wt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.db, bt.grad.numpy(), rtol=1e-10)
    assert layer.dW.shape == W.shape


def test_pooling_matches_torch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 6, 6))
    layer = Pooling(2, 2, stride=2)
    out = layer.forward(x)
    xt = torch.tensor(x, requires_grad=True)
    ref = TF.max_pool2d(xt, 2, 2)
    np.testing.assert_array_equal(out, ref.detach().numpy())
    dout = rng.standard_normal(out.shape)
    ref.backward(torch.tensor(dout))
    np.testing.assert_allclose(layer.backward(dout), xt.grad.numpy())
    overlapping = Pooling(3, 3, stride=1)  # overlapping windows: col2im adds the shares
    out = overlapping.forward(x)
    xt.grad = None
    ref = TF.max_pool2d(xt, 3, 1)
    np.testing.assert_array_equal(out, ref.detach().numpy())
    ref.backward(torch.ones_like(ref))
    np.testing.assert_allclose(overlapping.backward(np.ones(out.shape)), xt.grad.numpy())


def test_pooling_pads_with_zeros_as_the_book_does():
    x = -1.0 - np.random.default_rng(2).random((2, 3, 4, 4))  # all negative: a window of padding reads 0
    layer = Pooling(2, 2, stride=2, pad=1)
    out = layer.forward(x)
    xt = torch.tensor(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))), requires_grad=True)
    ref = TF.max_pool2d(xt, 2, 2)
    np.testing.assert_array_equal(out, ref.detach().numpy())
    dout = np.random.default_rng(3).standard_normal(out.shape)
    ref.backward(torch.tensor(dout))
    np.testing.assert_array_equal(layer.backward(dout), xt.grad.numpy()[:, :, 1:-1, 1:-1])


def test_dropout_train_mask_and_test_scaling():
    x = np.ones((200, 50))
    layer = Dropout(0.3)
    np.random.seed(0)
    y = layer.forward(x, train_flg=True)
    assert set(np.unique(y)) == {0.0, 1.0} and abs(y.mean() - 0.7) < 0.01
    np.testing.assert_array_equal(layer.backward(np.full(x.shape, 2.0)), 2.0 * layer.mask)
    np.testing.assert_allclose(layer.forward(x, train_flg=False), 0.7)


@pytest.mark.parametrize("shape", [(8, 5), (6, 2, 3, 3)])
def test_batch_normalization_matches_torch_and_keeps_the_books_running_statistics(shape):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape) * 3 + 1
    d = int(np.prod(shape[1:]))
    gamma, beta = rng.standard_normal(d), rng.standard_normal(d)
    layer = BatchNormalization(gamma, beta, momentum=0.9)
    out = layer.forward(x, train_flg=True)
    xt = torch.tensor(x.reshape(shape[0], -1), requires_grad=True)
    gt, bt = torch.tensor(gamma, requires_grad=True), torch.tensor(beta, requires_grad=True)
    ref = TF.batch_norm(xt, None, None, gt, bt, training=True, eps=1e-6)
    np.testing.assert_allclose(out, ref.detach().numpy().reshape(shape), rtol=1e-10, atol=1e-12)
    dout = rng.standard_normal(shape)
    ref.backward(torch.tensor(dout.reshape(shape[0], -1)))
    dx = layer.backward(dout)
    np.testing.assert_allclose(dx, xt.grad.numpy().reshape(shape), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(layer.dgamma, gt.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(layer.dbeta, bt.grad.numpy(), rtol=1e-10)
    flat = x.reshape(shape[0], -1)
    np.testing.assert_allclose(layer.running_mean, 0.1 * flat.mean(axis=0))
    np.testing.assert_allclose(layer.running_var, 0.1 * flat.var(axis=0))  # the biased variance, as the book
    test_out = layer.forward(x, train_flg=False)
    expected = gamma * (flat - layer.running_mean) / np.sqrt(layer.running_var + 1e-6) + beta
    np.testing.assert_allclose(test_out, expected.reshape(shape), rtol=1e-10)


def test_softmax_with_loss_accepts_every_label_form_the_book_does():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 5))
    labels = np.array([0, 3, 1, 4])
    results = []
    for t in (labels, labels.reshape(4, 1), np.eye(5)[labels], labels.astype(np.uint8)):
        layer = SoftmaxWithLoss()
        results.append((layer.forward(x, t), layer.backward()))
    xt = torch.tensor(x, requires_grad=True)
    ref = TF.cross_entropy(xt, torch.tensor(labels))
    ref.backward()
    for loss, dx in results:
        assert loss == pytest.approx(ref.item(), rel=1e-12)
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12)
    single = SoftmaxWithLoss()  # one sample as a vector, with a one-hot vector or a class number
    for t in (np.eye(5)[3], np.int64(3)):
        loss = single.forward(x[1], t)
        assert loss == pytest.approx(TF.cross_entropy(torch.tensor(x[1:2]), torch.tensor([3])).item(), rel=1e-12)
        dx = single.backward()
        assert dx.shape == (5,)
        np.testing.assert_allclose(dx, softmax(x[1]) - np.eye(5)[3], rtol=1e-12)
        np.testing.assert_allclose(single.y, softmax(x[1]), rtol=1e-12)
