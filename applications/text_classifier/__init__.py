"""Text classification by fine-tuning the masked LM's encoder (or from scratch):
`TextClassifier` (texts in, labels with probabilities out), its training and evaluation.

Example:

>>> from apptk.applications.text_classifier import TextClassifier, fit_text_classifier
>>> fit_text_classifier("train.tsv", "runs/questions")  # the shipped encoder, fine-tuned
>>> TextClassifier.load("runs/questions")(["where do you live"])
[[{'label': 'question', 'probability': 0.97}, {'label': 'statement', ...}]]
"""

from apptk.applications.lazy_exports import lazy_exports

__all__ = [
    "KIND",
    "TextClassifier",
    "TextClassifierConfig",
    "evaluate_text_classifier",
    "fit_text_classifier",
    "read_labelled_texts",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "KIND": "spec",
        "TextClassifierConfig": "spec",
        "TextClassifier": "classifier",
        "fit_text_classifier": "training",
        "evaluate_text_classifier": "evaluation",
        "read_labelled_texts": "data",
    },
)
