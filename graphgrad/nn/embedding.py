"""Embedding: a lookup table of vectors, one row per index (PyTorch's nn.Embedding)."""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from ..ops.linear import Embedding as _EmbeddingOp
from . import init
from .module import Module
from .parameter import Parameter


class Embedding(Module):
    """y = weight[input] for integer indices of any shape; weight (num_embeddings, embedding_dim) starts N(0, 1).

    `padding_idx`'s row starts at zero and never gets a gradient (a padding token stays zero).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 _weight=None, dtype=None, generator=None):
        """num_embeddings rows of embedding_dim; `_weight` gives the initial table, `generator` seeds it."""
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx {padding_idx} must be within num_embeddings ({num_embeddings})"
                )
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        if _weight is None:
            self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype=np.dtype(dtype or np.float32)))
            init.normal_(self.weight, 0.0, 1.0, generator)
            if padding_idx is not None:
                self.weight.data[padding_idx] = 0
        else:
            weight = _weight.data if isinstance(_weight, Tensor) else _weight
            if tuple(weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"Embedding: _weight of shape {tuple(weight.shape)} must be ({num_embeddings}, {embedding_dim})"
                )
            self.weight = Parameter(weight)

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx: int | None = None) -> "Embedding":
        """An Embedding holding `embeddings` (2-D); freeze=True: the table gets no gradient."""
        data = embeddings.data if isinstance(embeddings, Tensor) else embeddings
        if len(data.shape) != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape {tuple(data.shape)}")
        module = cls(data.shape[0], data.shape[1], padding_idx, _weight=data)
        module.weight.requires_grad_(not freeze)
        return module

    def forward(self, input) -> Tensor:
        """The rows of weight at `input`'s indices: shape input.shape + (embedding_dim,)."""
        return _EmbeddingOp(self.padding_idx)(input, self.weight)

    def extra_repr(self) -> str:
        """The table's size and padding index, for repr()."""
        pad = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
