"""Scoring a text classifier on a labelled file: accuracy, per-label precision and recall."""

import time

import numpy as np

from apptk.applications.errors import DataError
from apptk.applications.run.metrics import confusion_matrix, per_class_scores
from apptk.applications.text_classifier.data import read_labelled_texts


def evaluate_text_classifier(classifier, path: str) -> dict:
    """Accuracy and per-label precision and recall on a `text<TAB>label` file.

    Returns:
        `accuracy`, `texts`, `precision[LABEL]` and `recall[LABEL]` for every label (None
        where undefined: a label never predicted, or never in the file) and `texts_per_second`.
    """
    texts, labels = read_labelled_texts(path)
    names = classifier.config.labels
    unknown = sorted(set(labels) - set(names))
    if unknown:
        raise DataError(
            f"{path} has labels the model was not trained on: {', '.join(unknown[:5])} "
            f"(it knows {', '.join(names)})."
        )
    started = time.perf_counter()
    predicted = np.argmax(classifier.probabilities(texts), axis=1).tolist()
    seconds = time.perf_counter() - started
    truth = [names.index(label) for label in labels]
    counts = confusion_matrix(truth, predicted, list(range(len(names))))
    metrics = {"accuracy": round(float(np.trace(counts)) / len(texts), 4), "texts": len(texts)}
    for name, scores in per_class_scores(counts, names).items():
        metrics[f"precision[{name}]"] = scores["precision"]
        metrics[f"recall[{name}]"] = scores["recall"]
    metrics["texts_per_second"] = round(len(texts) / seconds, 1)
    return metrics
