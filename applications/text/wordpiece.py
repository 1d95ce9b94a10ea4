"""WordPiece vocabularies (learned with tensorflow-text's tools) and an in-graph tokenizer."""

import os
from collections.abc import Iterable

import tensorflow as tf
import tensorflow_text as tf_text
from tensorflow_text.tools.wordpiece_vocab import bert_vocab_from_dataset

from apptk.applications.errors import ModelFileError
from apptk.applications.run.atomic_files import write_text_atomically
from apptk.applications.text.processing import join_wordpieces, normalize_text

RESERVED_TOKENS = ("[PAD]", "[UNK]", "[START]", "[END]", "[MASK]")
PAD_ID, UNK_ID, START_ID, END_ID, MASK_ID = range(len(RESERVED_TOKENS))


def learn_vocabulary(texts: Iterable[str], vocabulary_size: int, case_fold: bool) -> list[str]:
    """Learns a WordPiece vocabulary from raw sentences, reserved tokens first.

    Args:
        texts: training sentences.
        vocabulary_size: the target size (the learner may return fewer tokens).
        case_fold: whether the tokenizer will case-fold its input.
    """
    dataset = tf.data.Dataset.from_tensor_slices(list(texts)).batch(1024)
    dataset = dataset.map(lambda batch: normalize_text(batch, case_fold))
    return bert_vocab_from_dataset.bert_vocab_from_dataset(
        dataset,
        vocab_size=vocabulary_size,
        reserved_tokens=list(RESERVED_TOKENS),
        bert_tokenizer_params={"lower_case": False},
        learn_params={},
    )


def write_vocabulary(tokens: list[str], path: str) -> None:
    write_text_atomically("\n".join(tokens) + "\n", path)


def stored_or_learned(path: str, learn) -> list[str]:
    """The vocabulary saved at `path` (a resumed run), else `learn()`'s, saved there."""
    if os.path.exists(path):
        return read_vocabulary(path)
    vocabulary = learn()
    write_vocabulary(vocabulary, path)
    return vocabulary


def read_vocabulary(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as handle:
            tokens = handle.read().splitlines()
    except OSError as error:
        raise ModelFileError(f"Cannot read vocabulary {path}: {error.strerror}.") from error
    if tuple(tokens[: len(RESERVED_TOKENS)]) != RESERVED_TOKENS:
        raise ModelFileError(f"{path} is not an apptk WordPiece vocabulary.")
    return tokens


class WordPieceTokenizer(tf.Module):
    """Normalizes and tokenizes strings into WordPiece ids, and back, inside the TF graph.

    Args:
        vocabulary: tokens, starting with `RESERVED_TOKENS`.
        case_fold: whether to case-fold input text before tokenizing.

    Example:

    >>> tokenizer = WordPieceTokenizer(vocabulary, case_fold=True)
    >>> ids = tokenizer.tokenize(tf.constant(["Hello, how are you?"]))  # ragged int32
    >>> tokenizer.detokenize(ids)  # ["hello, how are you?"]
    """

    def __init__(self, vocabulary: list[str], case_fold: bool, name: str | None = None):
        super().__init__(name=name)
        self.case_fold = case_fold
        self.vocabulary_size = len(vocabulary)
        self.tokens = tf.constant(vocabulary)
        self._tokenizer = tf_text.FastWordpieceTokenizer(
            vocabulary, token_out_type=tf.int32, unknown_token="[UNK]"
        )

    def tokenize(self, texts: tf.Tensor) -> tf.RaggedTensor:
        """`[batch]` strings → ragged `[batch, (tokens)]` int32 ids."""
        return self._tokenizer.tokenize(normalize_text(texts, self.case_fold))

    def detokenize(self, ids) -> tf.Tensor:
        """`[batch, length]` ids (dense or ragged) → `[batch]` strings; reserved ids dropped."""
        if not isinstance(ids, tf.RaggedTensor):
            ids = tf.RaggedTensor.from_tensor(ids)
        keep = (ids >= len(RESERVED_TOKENS)) | (ids == UNK_ID)
        ids = tf.ragged.boolean_mask(ids, keep)
        return join_wordpieces(tf.gather(self.tokens, ids))


def sentence_ids(token_ids: tf.RaggedTensor, max_length: int) -> tf.RaggedTensor:
    """`[START] tokens [END]`, the tokens cut so the whole fits in `max_length`."""
    rows = token_ids.nrows()
    return tf.concat(
        [
            tf.fill([rows, 1], START_ID),
            token_ids[:, : max_length - 2],
            tf.fill([rows, 1], END_ID),
        ],
        axis=1,
    )
