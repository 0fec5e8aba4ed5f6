"""The confusion matrix of digit predictions, and the one way it is written out as text."""

from __future__ import annotations

import numpy as np

DIGITS = list(range(10))


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """(10, 10) counts, rows: true digit, columns: predicted.

    Every digit gets its row and column, even one absent from both arrays (a small test set).
    """
    # imported here: scikit-learn is slow to import and most uses of the package never make a matrix
    from sklearn.metrics import confusion_matrix as sk_confusion_matrix

    return sk_confusion_matrix(y_true, y_pred, labels=DIGITS)


def confusion_text(cm: np.ndarray, label_width: int = 6) -> str:
    """The matrix as a fixed-width table: a header of predicted digits, then one row per true digit."""
    lines = [" " * label_width + "".join(f"{j:>6}" for j in DIGITS)]
    lines += [f"{i:>{label_width}}" + "".join(f"{v:>6}" for v in cm[i]) for i in DIGITS]
    return "\n".join(lines)
