"""Word-level vocabularies and an in-graph word tokenizer for language models."""

import collections
from collections.abc import Iterable

import tensorflow as tf

from apptk.applications.errors import DataError
from apptk.applications.text.processing import normalize_text
from apptk.applications.text.wordpiece import RESERVED_TOKENS, UNK_ID


def split_words(texts: tf.Tensor) -> tf.RaggedTensor:
    """`[batch]` raw strings → ragged `[batch, (words)]`, case-folded, punctuation split off."""
    return tf.strings.split(normalize_text(texts, case_fold=True))


def learn_word_vocabulary(texts: Iterable[str], max_size: int, min_count: int = 1) -> list[str]:
    """The `max_size` most frequent words (reserved tokens first), each seen `min_count` times.

    Ties are broken alphabetically, so the same text always gives the same vocabulary.
    """
    counts: collections.Counter = collections.Counter()
    texts = tf.constant(list(texts), dtype=tf.string)  # typed, so an empty corpus is too
    dataset = tf.data.Dataset.from_tensor_slices(texts).batch(4096)
    for words in dataset.map(lambda batch: split_words(batch).flat_values):
        counts.update(word.decode("utf-8") for word in words.numpy())
    if not counts:
        raise DataError("The corpus holds no words.")
    ranked = sorted(
        (
            word
            for word, count in counts.items()
            if count >= min_count and word not in RESERVED_TOKENS
        ),
        key=lambda word: (-counts[word], word),
    )
    return list(RESERVED_TOKENS) + ranked[: max(0, max_size - len(RESERVED_TOKENS))]


class WordTokenizer(tf.Module):
    """Maps raw text to word ids (unknown words → `[UNK]`) and ids back to words, in-graph.

    Args:
        vocabulary: words, starting with `RESERVED_TOKENS`.

    Example:

    >>> tokenizer = WordTokenizer(["[PAD]", "[UNK]", "[START]", "[END]", "[MASK]", "the", "fox"])
    >>> tokenizer.tokenize(tf.constant(["The fox jumps"]))  # [[5, 6, 1]]
    """

    def __init__(self, vocabulary: list[str], name: str | None = None):
        super().__init__(name=name)
        self.vocabulary_size = len(vocabulary)
        self.words = tf.constant(vocabulary)
        self._table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                self.words, tf.range(len(vocabulary), dtype=tf.int32)
            ),
            default_value=UNK_ID,
        )

    def tokenize(self, texts: tf.Tensor) -> tf.RaggedTensor:
        """`[batch]` strings → ragged `[batch, (words)]` int32 ids."""
        return tf.ragged.map_flat_values(self._table.lookup, split_words(texts))

    def lookup(self, ids) -> tf.Tensor:
        """Ids of any shape → the words they stand for."""
        return tf.gather(self.words, ids)
