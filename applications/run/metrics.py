"""Classification scores every classifier reports: the confusion matrix, per-class precision
and recall."""

import numpy as np


def ratio(numerator: int, denominator: int) -> float | None:
    """`numerator / denominator` to 4 places, or None when it is undefined (0 / 0)."""
    return round(numerator / denominator, 4) if denominator else None


def confusion_matrix(true: list[int], predicted: list[int], classes: list[int]) -> np.ndarray:
    """Counts `[len(classes), len(classes)]`: rows the true classes, columns the predictions."""
    position = {class_index: row for row, class_index in enumerate(classes)}
    counts = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for actual, guess in zip(true, predicted):
        counts[position[actual], position[guess]] += 1
    return counts


def per_class_scores(counts: np.ndarray, labels: list[str]) -> dict[str, dict]:
    """`{label: {"precision", "recall", "support"}}` from a confusion matrix.

    Precision is None for a class never predicted and recall None for a class never seen:
    neither is defined there, and 0 would read as a measured failure.
    """
    return {
        label: {
            "precision": ratio(int(counts[row, row]), int(counts[:, row].sum())),
            "recall": ratio(int(counts[row, row]), int(counts[row].sum())),
            "support": int(counts[row].sum()),
        }
        for row, label in enumerate(labels)
    }
