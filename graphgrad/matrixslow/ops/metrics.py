"""MatrixSlow's metrics nodes (Accuracy, Precision, Recall, F1Score, ROC, ROC_AUC): not supported yet."""
from __future__ import annotations

__all__ = ["Accuracy", "Precision", "Recall", "F1Score", "ROC", "ROC_AUC"]


def _unsupported(name: str):
    def build(*args, **kargs):
        raise NotImplementedError(f"ops.metrics.{name}: MatrixSlow's metrics nodes are not supported yet; compute "
                                  f"the metric from predict.value after forward()")
    build.__name__ = name
    build.__doc__ = f"Not supported yet: MatrixSlow's {name} metric node."
    return build


Accuracy, Precision, Recall, F1Score, ROC, ROC_AUC = (_unsupported(n) for n in __all__)
