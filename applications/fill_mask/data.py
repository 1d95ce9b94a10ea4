"""BERT's masking of subword tokens, with tensorflow-text's masking ops, for tf.data pipelines."""

import math

import tensorflow as tf
import tensorflow_text as tf_text

from apptk.applications.text.wordpiece import (
    END_ID,
    MASK_ID,
    PAD_ID,
    RESERVED_TOKENS,
    START_ID,
    sentence_ids,
)

# Tokens never chosen for prediction: padding and the sentence boundaries.
UNSELECTABLE_IDS = (PAD_ID, START_ID, END_ID)


def max_predictions(max_length: int, mask_rate: float) -> int:
    """Predictions per sentence at most: `mask_rate` of the longest sentence, rounded up."""
    return max(1, math.ceil(mask_rate * max_length))


def mask_tokens(
    token_ids: tf.RaggedTensor,
    vocabulary_size: int,
    max_length: int,
    mask_rate: float = 0.15,
):
    """BERT's masking: `mask_rate` of the tokens chosen; 80% → [MASK], 10% random, 10% kept.

    Args:
        token_ids: ragged `[batch, (tokens)]` ids, already wrapped by `sentence_ids`.
        vocabulary_size: random replacements are drawn from the non-reserved ids below it.
        max_length: the longest sentence, which bounds the predictions per sentence.
        mask_rate: share of tokens chosen for prediction.

    Returns:
        `(inputs, labels)`: inputs is a dict of dense `token_ids` `[batch, time]` and
        `mask_positions` `[batch, predictions]`; labels `[batch, predictions]` are the original
        ids at those positions, 0 where a sentence has fewer predictions.
    """
    selector = tf_text.RandomItemSelector(
        max_selections_per_batch=max_predictions(max_length, mask_rate),
        selection_rate=mask_rate,
        unselectable_ids=list(UNSELECTABLE_IDS),
    )
    chooser = tf_text.MaskValuesChooser(vocabulary_size, MASK_ID, 0.8, 0.1)
    masked_ids, positions, originals = tf_text.mask_language_model(token_ids, selector, chooser)
    masked_ids = _redraw_reserved_replacements(masked_ids, positions, originals, vocabulary_size)
    width = max_predictions(max_length, mask_rate)
    inputs = {
        "token_ids": masked_ids.to_tensor(),
        "mask_positions": tf.cast(positions.to_tensor(shape=[None, width]), tf.int32),
    }
    return inputs, originals.to_tensor(shape=[None, width])


def _redraw_reserved_replacements(masked_ids, positions, originals, vocabulary_size: int):
    """Draws again the random replacements that tensorflow-text took from the reserved ids.

    `MaskValuesChooser` draws from every id below the vocabulary size: a [PAD] (or [END])
    inside a sentence would hide that position from attention, as if it were padding.
    """
    flat_positions = tf.cast(positions.flat_values, tf.int64) + tf.repeat(
        masked_ids.row_starts(), positions.row_lengths()
    )
    chosen = tf.gather(masked_ids.flat_values, flat_positions)
    reserved = (chosen < len(RESERVED_TOKENS)) & (chosen != MASK_ID)
    redrawn = tf.random.uniform(
        tf.shape(chosen), len(RESERVED_TOKENS), vocabulary_size, dtype=chosen.dtype
    )
    replaced = tf.where(reserved & (chosen != originals.flat_values), redrawn, chosen)
    flat_ids = tf.tensor_scatter_nd_update(
        masked_ids.flat_values, flat_positions[:, None], replaced
    )
    return masked_ids.with_flat_values(flat_ids)


def masked_dataset(
    lines: list[str],
    tokenizer,
    max_length: int,
    batch_size: int,
    mask_rate: float = 0.15,
    shuffle: bool = False,
    seed: int = 0,
) -> tf.data.Dataset:
    """Batches of freshly masked sentences: each epoch masks other tokens (dynamic masking)."""
    dataset = tf.data.Dataset.from_tensor_slices(lines)
    if shuffle:
        dataset = dataset.shuffle(len(lines), seed=seed, reshuffle_each_iteration=True)

    def tokenize_and_mask(texts):
        ids = sentence_ids(tokenizer.tokenize(texts), max_length)
        return mask_tokens(ids, tokenizer.vocabulary_size, max_length, mask_rate)

    dataset = dataset.batch(batch_size).map(tokenize_and_mask, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)
