"""Next-word prediction and text generation: `NextWordPredictor` (raw strings in, words and
probabilities out), its training, evaluation and TF Serving export.

Example:

>>> from apptk.applications.next_word import NextWordPredictor
>>> NextWordPredictor.load()(["The quick brown"], top_k=3)  # the shipped `next_word` preset
[[{'word': 'fox', 'probability': 0.41}, ...]]
"""

from apptk.applications.lazy_exports import lazy_exports

__all__ = [
    "ARCHITECTURES",
    "KIND",
    "NextWordConfig",
    "NextWordPredictor",
    "evaluate_next_word",
    "export_next_word",
    "fit_next_word",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ARCHITECTURES": "spec",
        "KIND": "spec",
        "NextWordConfig": "spec",
        "NextWordPredictor": "predictor",
        "fit_next_word": "training",
        "evaluate_next_word": "evaluation",
        "export_next_word": "export",
    },
)
