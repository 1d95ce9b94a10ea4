"""tf.data input pipeline for translation: tokenize once, filter, bucket by length, pad."""

import tensorflow as tf

from apptk.applications.text.tatoeba_pairs import SentencePair
from apptk.applications.text.wordpiece import END_ID, START_ID, WordPieceTokenizer

BUCKET_BOUNDARIES = (8, 12, 16, 24, 32, 48)


def _tokenized(pairs, source_tokenizer, target_tokenizer) -> tf.data.Dataset:
    english = [pair.english for pair in pairs]
    spanish = [pair.spanish for pair in pairs]
    dataset = tf.data.Dataset.from_tensor_slices((english, spanish)).batch(2048)
    dataset = dataset.map(
        lambda source, target: (
            source_tokenizer.tokenize(source),
            target_tokenizer.tokenize(target),
        )
    )
    return dataset.unbatch()


def _teacher_forcing(source_ids, target_ids):
    start = tf.constant([START_ID], tf.int32)
    end = tf.constant([END_ID], tf.int32)
    inputs = {"source": source_ids, "target": tf.concat([start, target_ids], 0)}
    return inputs, tf.concat([target_ids, end], 0)


def translation_dataset(
    pairs: list[SentencePair],
    source_tokenizer: WordPieceTokenizer,
    target_tokenizer: WordPieceTokenizer,
    max_length: int,
    tokens_per_batch: int,
    shuffle: bool,
    seed: int = 0,
) -> tf.data.Dataset:
    """Builds `({"source", "target"}, labels)` batches for teacher-forced training.

    Pairs whose source or target (with `[START]`/`[END]`) exceed `max_length` tokens are
    dropped. Sentences of similar length are batched together and padded to the longest in
    their batch, with about `tokens_per_batch` tokens a batch.
    """
    dataset = _tokenized(pairs, source_tokenizer, target_tokenizer).filter(
        lambda source, target: tf.logical_and(
            tf.size(source) <= max_length, tf.size(target) + 1 <= max_length
        )
    )
    dataset = dataset.map(_teacher_forcing).cache()
    if shuffle:
        dataset = dataset.shuffle(20_000, seed=seed, reshuffle_each_iteration=True)
    boundaries = [b for b in BUCKET_BOUNDARIES if b < max_length]
    batch_sizes = [max(8, tokens_per_batch // b) for b in boundaries + [max_length]]
    dataset = dataset.bucket_by_sequence_length(
        lambda inputs, labels: tf.maximum(tf.size(inputs["source"]), tf.size(labels)),
        bucket_boundaries=[b + 1 for b in boundaries],
        bucket_batch_sizes=batch_sizes,
    )
    return dataset.prefetch(tf.data.AUTOTUNE)
