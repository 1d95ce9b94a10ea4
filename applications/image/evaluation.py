"""Scoring an image classifier on a labelled folder: accuracy, per-class precision and recall,
the confusion matrix (as numbers and as a PNG) and images per second."""

import time
import warnings

import numpy as np

from apptk.applications.errors import DataError
from apptk.applications.image.data import scan_image_folder
from apptk.applications.run.metrics import confusion_matrix, per_class_scores

# Above this many classes (ImageNet), the matrix keeps only the classes seen or predicted.
FULL_MATRIX_CLASSES = 50


def evaluate_image_classifier(
    classifier, folder: str, batch_size: int = 32, plot_path: str | None = None
) -> dict:
    """Classifies every image of the labelled `folder` (one sub-folder per class).

    Args:
        classifier: an `ImageClassifier`; the folder's classes must be among its labels.
        folder: the labelled test images.
        batch_size: images per model call.
        plot_path: where to draw the confusion matrix PNG (None: not drawn).

    Returns:
        `images`, `accuracy`, `images_per_second`, `per_class` (`precision`, `recall`,
        `support` by class; precision is None for a class never predicted) and
        `confusion_matrix` (`labels`, and `counts` with rows the true classes).
    """
    data = scan_image_folder(folder, class_names=classifier.labels)
    started = time.perf_counter()
    results = classifier.classify_files(data.paths, top_k=1, batch_size=batch_size)
    seconds = time.perf_counter() - started
    errors = [result["error"] for result in results if "error" in result]
    if errors:
        warnings.warn(
            f"Skipped {len(errors)} images that could not be read ({errors[0]}).", stacklevel=2
        )
    index_of = {label: index for index, label in reversed(list(enumerate(classifier.labels)))}
    true, predicted = [], []
    for label, result in zip(data.labels, results):
        if "predictions" in result:
            true.append(label)
            predicted.append(index_of[result["predictions"][0]["label"]])
    if not true:
        raise DataError(f"None of the images in {folder} could be read.")
    if len(classifier.labels) <= FULL_MATRIX_CLASSES:
        classes = list(range(len(classifier.labels)))
    else:
        classes = sorted(set(true) | set(predicted))
    counts = confusion_matrix(true, predicted, classes)
    labels = [classifier.labels[class_index] for class_index in classes]
    per_class = per_class_scores(counts, labels)
    metrics = {
        "images": len(true),
        "accuracy": round(float(np.trace(counts)) / len(true), 4),
        "images_per_second": round(len(results) / seconds, 1),
        "per_class": per_class,
        "confusion_matrix": {"labels": labels, "counts": counts.tolist()},
    }
    if plot_path:
        from apptk.applications.run.plots import plot_confusion_matrix

        metrics["confusion_matrix_png"] = plot_confusion_matrix(labels, counts, plot_path)
    return metrics
