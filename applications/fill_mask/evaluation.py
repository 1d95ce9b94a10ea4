"""Held-out scores of a masked language model: masked-token accuracy and pseudo-perplexity."""

import math
import time

import numpy as np
import tensorflow as tf

from apptk.applications.fill_mask.data import mask_tokens
from apptk.applications.text.corpus import read_corpus
from apptk.applications.text.wordpiece import END_ID, MASK_ID, PAD_ID, START_ID


def _ragged(token_ids: np.ndarray) -> tf.RaggedTensor:
    return tf.RaggedTensor.from_tensor(token_ids, padding=PAD_ID)


def masked_token_scores(module, lines: list[str], seed: int, mask_rate: float) -> tuple:
    """`(correct, log_probability_sum, predictions)` under BERT's masking with a fixed seed."""
    token_ids = module.token_ids(tf.constant(lines))["token_ids"].numpy()
    vocabulary_size = int(module.vocabulary.shape[0])
    max_length = int(module.max_length_variable)
    tf.random.set_seed(seed)
    inputs, labels = mask_tokens(_ragged(token_ids), vocabulary_size, max_length, mask_rate)
    result = module.log_probabilities(inputs["token_ids"], inputs["mask_positions"])
    log_probabilities = result["log_probabilities"].numpy()
    labels = labels.numpy()
    real = labels != PAD_ID
    chosen = np.take_along_axis(log_probabilities, labels[..., None], axis=-1)[..., 0]
    correct = (np.argmax(log_probabilities, axis=-1) == labels) & real
    return int(correct.sum()), float(chosen[real].sum()), int(real.sum())


def pseudo_log_likelihood(module, lines: list[str]) -> tuple[float, int]:
    """Sum of log p(token | all other tokens), each token masked on its own (Salazar et al.).

    Returns `(log_likelihood_sum, tokens)`; the sentence markers are not scored.
    """
    token_ids = module.token_ids(tf.constant(lines))["token_ids"].numpy()
    rows, positions = np.nonzero(
        (token_ids != PAD_ID) & (token_ids != START_ID) & (token_ids != END_ID)
    )
    masked = token_ids[rows].copy()
    targets = masked[np.arange(len(rows)), positions].copy()
    masked[np.arange(len(rows)), positions] = MASK_ID
    result = module.log_probabilities(
        tf.constant(masked, tf.int32), tf.constant(positions[:, None], tf.int32)
    )
    log_probabilities = result["log_probabilities"].numpy()[:, 0, :]
    return float(log_probabilities[np.arange(len(rows)), targets].sum()), len(rows)


def evaluate_fill_mask(
    masker,
    path: str,
    limit: int | None = None,
    batch_size: int = 64,
    mask_rate: float = 0.15,
    seed: int = 0,
) -> dict:
    """Scores the lines of `path`: masked-token accuracy (BERT's masking, a fixed seed, so
    repeated runs agree) and pseudo-perplexity (every token masked in turn).

    Args:
        masker: a `FillMasker`.
        path: a UTF-8 text file, one sentence per line.
        limit: score only the first `limit` lines.
        batch_size: sentences per batch.
        mask_rate: share of tokens masked for the accuracy.
        seed: masking seed.
    """
    lines = read_corpus(path)[:limit]
    correct, log_probability, predictions = 0, 0.0, 0
    pseudo_log_likelihood_sum, tokens = 0.0, 0
    started = time.perf_counter()
    for index, start in enumerate(range(0, len(lines), batch_size)):
        batch = lines[start : start + batch_size]
        batch_correct, batch_log_probability, batch_predictions = masked_token_scores(
            masker.module, batch, seed + index, mask_rate
        )
        correct += batch_correct
        log_probability += batch_log_probability
        predictions += batch_predictions
        batch_pll, batch_tokens = pseudo_log_likelihood(masker.module, batch)
        pseudo_log_likelihood_sum += batch_pll
        tokens += batch_tokens
    return {
        "masked_token_accuracy": round(correct / max(predictions, 1), 4),
        "masked_token_perplexity": round(math.exp(-log_probability / max(predictions, 1)), 2),
        "pseudo_perplexity": round(math.exp(-pseudo_log_likelihood_sum / max(tokens, 1)), 2),
        "masked_tokens": predictions,
        "tokens": tokens,
        "lines": len(lines),
        "seconds": round(time.perf_counter() - started, 1),
    }
