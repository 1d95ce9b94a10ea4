"""Pre-training a BERT-style encoder by masked language modelling on any UTF-8 text file."""

import dataclasses
import math
import os

import keras

from apptk.applications.run import distribution
from apptk.applications.run import model_folder
from apptk.applications.run import training
from apptk.applications.errors import DataError
from apptk.applications.models.learning_rate import WarmupInverseSquareRoot
from apptk.applications.models.masked_language_model import MaskedLanguageModel
from apptk.applications.fill_mask.data import masked_dataset, max_predictions
from apptk.applications.next_word.training import read_corpus, split_corpus
from apptk.applications.models.sequence_losses import MaskedSequenceLoss, masked_accuracy
from apptk.applications.models.text_encoder import TextEncoder
from apptk.applications.text.wordpiece import (
    WordPieceTokenizer,
    learn_vocabulary,
    stored_or_learned,
)

KIND = "fill-mask"
VOCABULARY_FILE = "vocabulary.txt"


@dataclasses.dataclass
class FillMaskConfig:
    """Hyper-parameters of a masked language model; saved as `config.json` beside its weights."""

    kind: str = KIND
    vocabulary_size: int = 6000
    max_length: int = 48
    hidden_dim: int = 192
    num_heads: int = 3
    intermediate_dim: int = 768
    num_layers: int = 4
    dropout: float = 0.1
    mask_rate: float = 0.15
    batch_size: int = 64
    peak_learning_rate: float = 1e-3
    warmup_steps: int = 1000
    epochs: int = 40
    patience: int = 3
    seed: int = 0


def build_encoder(config: FillMaskConfig, vocabulary_size: int) -> TextEncoder:
    return TextEncoder(
        vocabulary_size,
        max_length=config.max_length,
        hidden_dim=config.hidden_dim,
        num_heads=config.num_heads,
        intermediate_dim=config.intermediate_dim,
        num_layers=config.num_layers,
        dropout=config.dropout,
        name="encoder",
    )


def build_masked_language_model(config: FillMaskConfig, vocabulary_size: int):
    model = MaskedLanguageModel(build_encoder(config, vocabulary_size))
    width = max_predictions(config.max_length, config.mask_rate)
    model(
        {
            "token_ids": keras.ops.ones((1, 4), "int32"),
            "mask_positions": keras.ops.zeros((1, width), "int32"),
        }
    )
    return model


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
    force: bool = False,
    resume: bool = False,
    strategy: str = "auto",
) -> dict:
    """Pre-trains a masked language model on the lines of `corpus`; writes the folder `out`.

    Lines are split 90/5/5 by a stable hash (the test lines are for `evaluate fill-mask`).
    Each epoch masks the training sentences afresh; the validation masks stay fixed.
    `strategy` names the `tf.distribute` strategy (see `apptk.applications.run.distribution`).

    Returns:
        A summary: epochs, best validation loss, perplexity of the masked tokens, seconds,
        parameters.
    """
    chief_out = out
    distribute, out = distribution.start_training(strategy, out)
    config = config or FillMaskConfig()
    config = model_folder.config_for_run(out, config, KIND, resume)
    keras.utils.set_random_seed(config.seed)
    splits = split_corpus(read_corpus(corpus))
    model_folder.prepare_output_folder(out, force=force, resume=resume)
    if not splits["train"] or not splits["validation"]:
        raise DataError(f"{corpus} is too small to hold out validation lines; add more text.")
    vocabulary = stored_or_learned(
        os.path.join(out, VOCABULARY_FILE),
        lambda: learn_vocabulary(splits["train"], config.vocabulary_size, case_fold=True),
    )
    tokenizer = WordPieceTokenizer(vocabulary, case_fold=True)
    model_folder.write_config(config, out)

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

    with distribute.scope():
        model = build_masked_language_model(config, tokenizer.vocabulary_size)
        compile_masked_language_model(model, config)
    summary = training.fit_and_save(
        model,
        dataset("train", shuffle=True),
        dataset("validation", shuffle=False).cache(),
        out,
        config.epochs,
        config.patience,
        distribute,
        chief_out,
    )
    if summary["best_val_loss"] is not None:
        summary["best_val_perplexity"] = round(math.exp(summary["best_val_loss"]), 2)
    return summary
