"""Labelled texts for a classifier: `text<TAB>label` files, validation splits, tf.data batches."""

import tensorflow as tf

from apptk.applications.errors import DataError
from apptk.applications.text.splits import stable_split
from apptk.applications.text.text_files import read_text_file
from apptk.applications.text.wordpiece import sentence_ids


def read_labelled_texts(path: str) -> tuple[list[str], list[str]]:
    """`text<TAB>label` lines of a UTF-8 file → `(texts, labels)`; a `text<TAB>label` header
    line is skipped, a malformed line is an error that names it."""
    lines = read_text_file(path, what="Labelled file").splitlines()
    texts, labels = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or (number == 1 and line.strip().lower() == "text\tlabel"):
            continue
        columns = line.split("\t")
        if len(columns) != 2 or not columns[0].strip() or not columns[1].strip():
            raise DataError(f"{path}, line {number}: expected 'text<TAB>label', got {line[:60]!r}.")
        texts.append(columns[0].strip())
        labels.append(columns[1].strip())
    if not texts:
        raise DataError(f"{path} holds no labelled texts.")
    return texts, labels


def split_labelled(texts, labels, validation: str | None):
    """The training texts and validation texts: a separate file, or 10% by a stable hash."""
    if validation:
        return (texts, labels), read_labelled_texts(validation)
    train, held_out = ([], []), ([], [])
    for text, label in zip(texts, labels):
        side = train if stable_split(text) == "train" else held_out
        side[0].append(text)
        side[1].append(label)
    if not held_out[0]:
        raise DataError("Too few texts to hold out a validation set; pass --val FILE.")
    return train, held_out


def token_ids(tokenizer, texts: tf.Tensor, max_length: int) -> tf.Tensor:
    """`[START] word pieces [END]` ids `[batch, time]`, 0-padded: what the classifier reads."""
    return sentence_ids(tokenizer.tokenize(texts), max_length).to_tensor()


def labelled_dataset(texts, label_ids, tokenizer, config, shuffle: bool) -> tf.data.Dataset:
    """`(token ids, label id)` batches of `config.batch_size`."""
    dataset = tf.data.Dataset.from_tensor_slices((texts, label_ids))
    if shuffle:
        dataset = dataset.shuffle(len(texts), seed=config.seed, reshuffle_each_iteration=True)

    def tokenize(batch_texts, batch_labels):
        return token_ids(tokenizer, batch_texts, config.max_length), batch_labels

    return dataset.batch(config.batch_size).map(tokenize).prefetch(tf.data.AUTOTUNE)
