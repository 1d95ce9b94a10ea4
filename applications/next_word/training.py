"""Fitting a next-word language model on any UTF-8 text file (truncated BPTT windows)."""

import keras
import tensorflow as tf

from apptk.applications.errors import DataError
from apptk.applications.models.sequence_losses import MaskedSequenceLoss
from apptk.applications.next_word.data import token_stream, window_dataset
from apptk.applications.next_word.spec import (
    ARCHITECTURES,
    VOCABULARY_FILE,
    NextWordConfig,
    build_language_model,
)
from apptk.applications.run.training_run import TrainingRun
from apptk.applications.text.corpus import training_splits
from apptk.applications.text.word_vocabulary import WordTokenizer, learn_word_vocabulary
from apptk.applications.text.wordpiece import stored_or_learned


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
    *,
    force: bool = False,
    resume: bool = False,
    strategy="auto",
) -> dict:
    """Trains a next-word model on `corpus` and writes the model folder `out`.

    Args:
        corpus: a UTF-8 text file, one sentence or paragraph per line.
        out: the model folder to write.
        config: hyper-parameters (default `NextWordConfig()`).
        force, resume: start over / continue an interrupted run in `out`.
        strategy: a `tf.distribute` strategy or its name (see `run.distribution`).

    Returns:
        A summary: epochs, best validation loss and perplexity, seconds, parameters.
    """
    config = config or NextWordConfig()
    if config.cell not in ARCHITECTURES:
        raise DataError(f"--cell must be one of {', '.join(ARCHITECTURES)}.")
    run = TrainingRun(out, config, force=force, resume=resume, strategy=strategy)
    with run:
        config = run.config
        splits = training_splits(corpus)
        run.prepare_folder()
        run.record_data([(corpus, 1)])
        vocabulary = stored_or_learned(
            run.path(VOCABULARY_FILE),
            lambda: learn_word_vocabulary(
                splits["train"], config.vocabulary_size, config.min_count
            ),
        )
        tokenizer = WordTokenizer(vocabulary)
        run.write_config()

        def dataset(name, shuffle):
            stream = token_stream(splits[name], tokenizer)
            return window_dataset(
                stream, config.sequence_length, config.batch_size, shuffle, config.seed
            )

        def compiled_model():
            model = build_language_model(config, tokenizer.vocabulary_size)
            compile_language_model(model, config)
            return model

        summary = run.fit(
            run.build(compiled_model), dataset("train", shuffle=True), dataset("validation", False)
        )
        if summary["best_val_loss"] is not None:
            summary["best_val_perplexity"] = float(tf.exp(summary["best_val_loss"]))
        return summary
