"""The textbook's names, for readers running its chapter code unchanged.

The book's layers are graphgrad's own ops: `MulLayer` is `Mul`, with the same
`forward(x, y)` / `backward(dout) -> (dx, dy)` interface the engine uses.
"""
from ..functions.arithmetic import Add as AddLayer
from ..functions.arithmetic import Mul as MulLayer

__all__ = ["AddLayer", "MulLayer"]
