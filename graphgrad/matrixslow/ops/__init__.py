"""MatrixSlow's operators on graphgrad's ops: matrices in, matrices out (vectors are columns).

As in MatrixSlow, `ops` also offers the losses and the metrics (`ops.CrossEntropyWithSoftMax`,
`ops.Accuracy`), besides `ops.loss` and `ops.metrics`.
"""
from . import loss, metrics  # noqa: F401
from .loss import CrossEntropyWithSoftMax, LogLoss, PerceptionLoss  # noqa: F401
from .metrics import F1Score, ROC, ROC_AUC, Accuracy, Precision, Recall  # noqa: F401
from .ops import (  # noqa: F401
    Add, Concat, Convolve, Logistic, MatMul, MaxPooling, Multiply, ReLU, Reshape, ScalarMultiply, SoftMax, Step,
    Welding,
)
