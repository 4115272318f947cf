"""The textbook's `dataset` package: `from dataset.mnist import load_mnist` becomes `from graphgrad.book.dataset.mnist import load_mnist`."""
