"""MatrixSlow's operators on graphgrad's ops: matrices in, matrices out (vectors are columns)."""
from . import loss, metrics  # noqa: F401
from .ops import (  # noqa: F401
    Add, Concat, Convolve, Logistic, MatMul, MaxPooling, Multiply, ReLU, Reshape, ScalarMultiply, SoftMax, Step,
    Welding,
)
