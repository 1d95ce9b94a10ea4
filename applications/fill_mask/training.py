"""Pre-training a BERT-style encoder by masked language modelling on any UTF-8 text file."""

import math

import keras

from apptk.applications.fill_mask.data import masked_dataset
from apptk.applications.fill_mask.spec import (
    VOCABULARY_FILE,
    FillMaskConfig,
    build_masked_language_model,
)
from apptk.applications.models.learning_rate import WarmupInverseSquareRoot
from apptk.applications.models.sequence_losses import MaskedSequenceLoss, masked_accuracy
from apptk.applications.run.training_run import TrainingRun
from apptk.applications.text.corpus import training_splits
from apptk.applications.text.wordpiece import (
    WordPieceTokenizer,
    learn_vocabulary,
    stored_or_learned,
)


def compile_masked_language_model(model, config: FillMaskConfig) -> None:
    model.compile(
        optimizer=keras.optimizers.AdamW(
            WarmupInverseSquareRoot(config.peak_learning_rate, config.warmup_steps),
            weight_decay=0.01,
            beta_2=0.98,
            clipnorm=1.0,
        ),
        loss=MaskedSequenceLoss(),
        metrics=[masked_accuracy],
    )


def fit_fill_mask(
    corpus: str,
    out: str,
    config: FillMaskConfig | None = None,
    *,
    force: bool = False,
    resume: bool = False,
    strategy="auto",
) -> dict:
    """Pre-trains a masked language model on the lines of `corpus`; writes the folder `out`.

    Lines are split 90/5/5 by a stable hash (the test lines are for `evaluate fill-mask`).
    Each epoch masks the training sentences afresh; the validation masks stay fixed.

    Args:
        corpus: a UTF-8 text file, one sentence per line.
        out: the model folder to write.
        config: hyper-parameters (default `FillMaskConfig()`).
        force, resume: start over / continue an interrupted run in `out`.
        strategy: a `tf.distribute` strategy or its name (see `run.distribution`).

    Returns:
        A summary: epochs, best validation loss, perplexity of the masked tokens, seconds,
        parameters.
    """
    run = TrainingRun(
        out, config or FillMaskConfig(), force=force, resume=resume, strategy=strategy
    )
    with run:
        config = run.config
        splits = training_splits(corpus)
        run.prepare_folder()
        run.record_data([(corpus, 1)])
        vocabulary = stored_or_learned(
            run.path(VOCABULARY_FILE),
            lambda: learn_vocabulary(splits["train"], config.vocabulary_size, case_fold=True),
        )
        tokenizer = WordPieceTokenizer(vocabulary, case_fold=True)
        run.write_config()

        def dataset(name, shuffle):
            return masked_dataset(
                splits[name],
                tokenizer,
                config.max_length,
                config.batch_size,
                config.mask_rate,
                shuffle=shuffle,
                seed=config.seed,
            )

        def compiled_model():
            model = build_masked_language_model(config, tokenizer.vocabulary_size)
            compile_masked_language_model(model, config)
            return model

        summary = run.fit(
            run.build(compiled_model),
            dataset("train", shuffle=True),
            dataset("validation", shuffle=False).cache(),
        )
        if summary["best_val_loss"] is not None:
            summary["best_val_perplexity"] = round(math.exp(summary["best_val_loss"]), 2)
        return summary
