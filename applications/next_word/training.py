"""Fitting a next-word language model on any UTF-8 text file (truncated BPTT windows)."""

import dataclasses
import os

import keras
import tensorflow as tf

from apptk.applications.run import distribution
from apptk.applications.run import model_folder
from apptk.applications.run import training
from apptk.applications.errors import DataError
from apptk.applications.models.recurrent_language_model import CELLS, RecurrentLanguageModel
from apptk.applications.models.sequence_losses import MaskedSequenceLoss
from apptk.applications.text.splits import stable_split
from apptk.applications.models.transformer_language_model import TransformerLanguageModel
from apptk.applications.text.word_vocabulary import WordTokenizer, learn_word_vocabulary
from apptk.applications.text.wordpiece import START_ID, stored_or_learned

KIND = "next-word"
ARCHITECTURES = (*CELLS, "transformer")
VOCABULARY_FILE = "vocabulary.txt"


@dataclasses.dataclass
class NextWordConfig:
    """Hyper-parameters of a next-word model; saved as `config.json` beside its weights."""

    kind: str = KIND
    cell: str = "lstm"
    vocabulary_size: int = 10_000
    min_count: int = 2
    embedding_dim: int = 256
    units: int = 256
    num_layers: int = 2
    num_heads: int = 4
    dropout: float = 0.3
    tie_weights: bool = True
    sequence_length: int = 35
    batch_size: int = 32
    learning_rate: float = 2e-3
    epochs: int = 20
    patience: int = 2
    seed: int = 0


def read_corpus(path: str) -> list[str]:
    """Non-empty lines of a UTF-8 text file."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = [line.strip() for line in handle]
    except FileNotFoundError as error:
        raise DataError(f"Corpus not found: {path}") from error
    except UnicodeDecodeError as error:
        raise DataError(f"{path} is not UTF-8 text ({error.reason}).") from error
    except OSError as error:
        raise DataError(f"Cannot read {path}: {error.strerror}.") from error
    lines = [line for line in lines if line]
    if not lines:
        raise DataError(f"{path} holds no text.")
    return lines


def split_corpus(lines: list[str]) -> dict[str, list[str]]:
    """Train/validation/test by a stable hash of each line: a line is held out wherever it is."""
    splits: dict[str, list[str]] = {"train": [], "validation": [], "test": []}
    for line in lines:
        splits[stable_split(line)].append(line)
    return splits


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


def build_language_model(config: NextWordConfig, vocabulary_size: int) -> keras.Model:
    if config.cell == "transformer":
        model = TransformerLanguageModel(
            vocabulary_size,
            max_length=config.sequence_length,
            hidden_dim=config.embedding_dim,
            num_heads=config.num_heads,
            intermediate_dim=4 * config.embedding_dim,
            num_layers=config.num_layers,
            dropout=config.dropout,
        )
    else:
        model = RecurrentLanguageModel(
            vocabulary_size,
            cell=config.cell,
            embedding_dim=config.embedding_dim,
            units=config.units,
            num_layers=config.num_layers,
            dropout=config.dropout,
            tie_weights=config.tie_weights,
        )
    model(keras.ops.ones((1, 2), "int32"))
    return model


def compile_language_model(model: keras.Model, config: NextWordConfig) -> None:
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate, clipnorm=1.0),
        loss=MaskedSequenceLoss(),
        metrics=[
            keras.metrics.SparseCategoricalAccuracy(name="top1"),
            keras.metrics.SparseTopKCategoricalAccuracy(k=5, name="top5"),
        ],
    )


def fit_next_word(
    corpus: str,
    out: str,
    config: NextWordConfig | None = None,
    force: bool = False,
    resume: bool = False,
    strategy: str = "auto",
) -> dict:
    """Trains a next-word model on `corpus` and writes the model folder `out`.

    `strategy` names the `tf.distribute` strategy (see `apptk.applications.run.distribution`).

    Returns:
        A summary: epochs, best validation loss and perplexity, seconds, parameters.
    """
    chief_out = out
    distribute, out = distribution.start_training(strategy, out)
    config = config or NextWordConfig()
    if config.cell not in ARCHITECTURES:
        raise DataError(f"--cell must be one of {', '.join(ARCHITECTURES)}.")
    config = model_folder.config_for_run(out, config, KIND, resume)
    keras.utils.set_random_seed(config.seed)
    splits = split_corpus(read_corpus(corpus))
    model_folder.prepare_output_folder(out, force=force, resume=resume)
    if not splits["train"] or not splits["validation"]:
        raise DataError(f"{corpus} is too small to hold out validation lines; add more text.")
    vocabulary = stored_or_learned(
        os.path.join(out, VOCABULARY_FILE),
        lambda: learn_word_vocabulary(splits["train"], config.vocabulary_size, config.min_count),
    )
    tokenizer = WordTokenizer(vocabulary)
    model_folder.write_config(config, out)

    def dataset(name, shuffle):
        stream = token_stream(splits[name], tokenizer)
        return window_dataset(
            stream, config.sequence_length, config.batch_size, shuffle, config.seed
        )

    with distribute.scope():
        model = build_language_model(config, tokenizer.vocabulary_size)
        compile_language_model(model, config)
    summary = training.fit_and_save(
        model,
        dataset("train", shuffle=True),
        dataset("validation", shuffle=False),
        out,
        config.epochs,
        config.patience,
        distribute,
        chief_out,
    )
    if summary["best_val_loss"] is not None:
        summary["best_val_perplexity"] = float(tf.exp(summary["best_val_loss"]))
    return summary
