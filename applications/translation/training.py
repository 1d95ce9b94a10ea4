"""Fitting the English→Spanish translator: vocabularies, model, training, saved folder."""

import dataclasses

import keras

from apptk.applications.run import distribution
from apptk.applications.run import model_folder
from apptk.applications.run import training
from apptk.applications.models.learning_rate import WarmupInverseSquareRoot
from apptk.applications.models.sequence_losses import MaskedSequenceLoss, masked_accuracy
from apptk.applications.text.tatoeba_pairs import load_pairs, split_pairs
from apptk.applications.models.transformer_translator import TransformerTranslator
from apptk.applications.translation.data import translation_dataset
from apptk.applications.text.wordpiece import (
    WordPieceTokenizer,
    learn_vocabulary,
    stored_or_learned,
    vocabulary_path,
)

KIND = "translation"


@dataclasses.dataclass
class TranslatorConfig:
    """Everything needed to rebuild a translator; saved as `config.json` beside its weights."""

    kind: str = KIND
    source_language: str = "en"
    target_language: str = "es"
    max_length: int = 48
    source_vocabulary_size: int = 6000
    target_vocabulary_size: int = 6000
    hidden_dim: int = 256
    num_heads: int = 4
    intermediate_dim: int = 1024
    num_encoder_layers: int = 2
    num_decoder_layers: int = 2
    dropout: float = 0.1
    label_smoothing: float = 0.1
    peak_learning_rate: float = 1e-3
    warmup_steps: int = 2000
    tokens_per_batch: int = 1024
    epochs: int = 30
    patience: int = 3
    max_pairs: int | None = None
    seed: int = 0


def build_model(config: TranslatorConfig, source_size: int, target_size: int):
    model = TransformerTranslator(
        source_vocabulary_size=source_size,
        target_vocabulary_size=target_size,
        max_length=config.max_length,
        hidden_dim=config.hidden_dim,
        num_heads=config.num_heads,
        intermediate_dim=config.intermediate_dim,
        num_encoder_layers=config.num_encoder_layers,
        num_decoder_layers=config.num_decoder_layers,
        dropout=config.dropout,
    )
    dummy = keras.ops.ones((1, 2), "int32")
    model({"source": dummy, "target": dummy})
    return model


def _vocabularies(folder: str, train_pairs, config: TranslatorConfig):
    """Learns the two vocabularies from the training split, or reuses them on resume."""
    source = stored_or_learned(
        vocabulary_path(folder, "source"),
        lambda: learn_vocabulary(
            [pair.english for pair in train_pairs], config.source_vocabulary_size, case_fold=True
        ),
    )
    target = stored_or_learned(
        vocabulary_path(folder, "target"),
        lambda: learn_vocabulary(
            [pair.spanish for pair in train_pairs], config.target_vocabulary_size, case_fold=False
        ),
    )
    return source, target


def fit_translator(
    out: str,
    data: str | None = None,
    config: TranslatorConfig | None = None,
    force: bool = False,
    resume: bool = False,
    strategy: str = "auto",
) -> dict:
    """Trains a translator on the pairs file and writes a model folder to `out`.

    Args:
        out: the model folder (config.json, vocabularies, weights, history, curves, logs).
        data: a pairs file (.txt or .zip); None downloads the public Tatoeba file.
        config: hyper-parameters; defaults to `TranslatorConfig()`.
        force: replace a finished model in `out`.
        resume: continue an interrupted or finished run in `out` from its last epoch.
        strategy: the `tf.distribute` strategy (see `apptk.applications.run.distribution`).

    Returns:
        A summary: epochs run, best validation loss, wall time in seconds, parameters.
    """
    chief_out = out
    distribute, out = distribution.start_training(strategy, out)
    config = config or TranslatorConfig()
    config = model_folder.config_for_run(out, config, KIND, resume)
    keras.utils.set_random_seed(config.seed)
    pairs = load_pairs(data)
    model_folder.prepare_output_folder(out, force=force, resume=resume)
    if config.max_pairs:
        pairs = pairs[: config.max_pairs]
    splits = split_pairs(pairs)
    source_vocabulary, target_vocabulary = _vocabularies(out, splits["train"], config)
    model_folder.write_config(config, out)
    source_tokenizer = WordPieceTokenizer(source_vocabulary, case_fold=True)
    target_tokenizer = WordPieceTokenizer(target_vocabulary, case_fold=False)

    def dataset(name, shuffle):
        return translation_dataset(
            splits[name],
            source_tokenizer,
            target_tokenizer,
            config.max_length,
            config.tokens_per_batch,
            shuffle=shuffle,
            seed=config.seed,
        )

    with distribute.scope():
        model = build_model(config, len(source_vocabulary), len(target_vocabulary))
        model.compile(
            optimizer=keras.optimizers.Adam(
                WarmupInverseSquareRoot(config.peak_learning_rate, config.warmup_steps),
                beta_2=0.98,
                epsilon=1e-9,
                clipnorm=1.0,
            ),
            loss=MaskedSequenceLoss(config.label_smoothing),
            metrics=[masked_accuracy],
        )
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
    return summary
