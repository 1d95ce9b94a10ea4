"""Next-word training data: a corpus as one token stream, cut into truncated-BPTT windows."""

import tensorflow as tf

from apptk.applications.errors import DataError
from apptk.applications.text.word_vocabulary import WordTokenizer
from apptk.applications.text.wordpiece import START_ID


def token_stream(lines: list[str], tokenizer: WordTokenizer) -> tf.Tensor:
    """All lines as one id stream, each line opened by `[START]` (the sentence boundary)."""
    ids = tokenizer.tokenize(tf.constant(lines))
    starts = tf.fill([ids.nrows(), 1], START_ID)
    return tf.concat([starts, ids], axis=1).flat_values


def window_dataset(
    stream: tf.Tensor, sequence_length: int, batch_size: int, shuffle: bool, seed: int = 0
) -> tf.data.Dataset:
    """Cuts the stream into `(inputs, next-token labels)` windows for truncated BPTT."""
    if int(tf.size(stream)) < sequence_length + 1:
        raise DataError(
            f"The text is too short: {int(tf.size(stream))} tokens for windows of "
            f"{sequence_length + 1}."
        )
    windows = tf.signal.frame(stream, sequence_length + 1, sequence_length)
    dataset = tf.data.Dataset.from_tensor_slices(windows)
    if shuffle:
        dataset = dataset.shuffle(len(windows), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.map(lambda window: (window[:-1], window[1:]))
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
