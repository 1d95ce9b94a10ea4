"""Held-out scores of a next-word model: perplexity and top-1 / top-5 next-word accuracy."""

import math
import time

import numpy as np
import tensorflow as tf

from apptk.applications.text.corpus import read_corpus


def evaluate_next_word(predictor, path: str, batch_size: int = 256) -> dict:
    """Scores every word of every line of `path` given the words before it in its line."""
    return score_lines(predictor, read_corpus(path), batch_size)


def score_lines(predictor, lines: list[str], batch_size: int = 256, counted=None) -> dict:
    """Scores the words of `lines`, each given the words before it in its line.

    Args:
        predictor: a `NextWordPredictor`.
        lines: the texts, one sentence each.
        batch_size: lines scored at once.
        counted: `[lines, words]` ragged booleans, the words to count (None: every word);
            the context is always the whole line.
    """
    total_log_probability, top1, top5, words = 0.0, 0, 0, 0
    started = time.perf_counter()
    for start in range(0, len(lines), batch_size):
        result = predictor.module.score(tf.constant(lines[start : start + batch_size]))
        mask = result["mask"].numpy()
        if counted is not None:
            batch_counted = counted[start : start + batch_size]
            mask &= batch_counted.to_tensor(False, shape=mask.shape).numpy()
        total_log_probability += float(np.sum(result["log_probabilities"].numpy()[mask]))
        top1 += int(np.sum(result["top1"].numpy()[mask]))
        top5 += int(np.sum(result["top5"].numpy()[mask]))
        words += int(mask.sum())
    seconds = time.perf_counter() - started
    return {
        "perplexity": round(math.exp(-total_log_probability / max(words, 1)), 2),
        "top1_accuracy": round(top1 / max(words, 1), 4),
        "top5_accuracy": round(top5 / max(words, 1), 4),
        "words": words,
        "lines": len(lines),
        "words_per_second": round(words / seconds, 1),
    }
