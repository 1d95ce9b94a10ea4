"""Text classification with a fitted classifier folder: texts in, labels with probabilities out.

Example:

>>> from apptk.applications.text_classifier import TextClassifier, fit_text_classifier
>>> fit_text_classifier("train.tsv", "runs/questions")  # the shipped encoder, fine-tuned
>>> TextClassifier.load("runs/questions")(["where do you live"])
[[{'label': 'question', 'probability': 0.97}, {'label': 'statement', ...}]]
"""

import os

import numpy as np
import tensorflow as tf

from apptk.applications.run import model_folder
from apptk.applications.text.checks import checked_texts
from apptk.applications.text.wordpiece import WordPieceTokenizer, read_vocabulary
from apptk.applications.text_classifier.data import token_ids
from apptk.applications.text_classifier.spec import (
    VOCABULARY_FILE,
    TextClassifierConfig,
    build_classifier,
)


class TextClassifier:
    """Predictions of a fitted text classifier folder: texts in, labels with probabilities out."""

    def __init__(self, model, tokenizer, config: TextClassifierConfig):
        self.model = model
        self.tokenizer = tokenizer
        self.config = config

    @classmethod
    def load(cls, path: str) -> "TextClassifier":
        """The classifier of a fitted folder (`apptk fit text-classifier`)."""
        config = model_folder.read_config(path, TextClassifierConfig)
        vocabulary = read_vocabulary(os.path.join(path, VOCABULARY_FILE))
        model = build_classifier(config, len(vocabulary))
        model_folder.load_fitted_weights(model, path)
        return cls(model, WordPieceTokenizer(vocabulary, case_fold=True), config)

    def probabilities(self, texts: list[str], batch_size: int = 256) -> np.ndarray:
        """Class probabilities `[len(texts), classes]`, in `config.labels` order."""
        texts = checked_texts(texts, "give some words to classify")
        batches = []
        for start in range(0, len(texts), batch_size):
            chunk = tf.constant(texts[start : start + batch_size])
            ids = token_ids(self.tokenizer, chunk, self.config.max_length)
            batches.append(np.asarray(self.model(ids, training=False)))
        return np.concatenate(batches)

    def __call__(self, texts: list[str]) -> list[list[dict]]:
        """For each text, every label with its probability, likeliest first."""
        rows = self.probabilities(texts)
        return [
            [
                {"label": self.config.labels[i], "probability": round(float(row[i]), 4)}
                for i in np.argsort(-row)
            ]
            for row in rows
        ]
