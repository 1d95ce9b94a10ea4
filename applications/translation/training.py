"""Fitting the English→Spanish translator: vocabularies, model, training, saved folder."""

import os

import keras

from apptk.applications.models.learning_rate import WarmupInverseSquareRoot
from apptk.applications.models.sequence_losses import MaskedSequenceLoss, masked_accuracy
from apptk.applications.run.atomic_files import save_weights_atomically
from apptk.applications.run.loading import load_module
from apptk.applications.run.model_folder import INITIAL_WEIGHTS
from apptk.applications.run.training_run import TrainingRun
from apptk.applications.text.wordpiece import (
    WordPieceTokenizer,
    learn_vocabulary,
    stored_or_learned,
    write_vocabulary,
)
from apptk.applications.translation.data import translation_dataset
from apptk.applications.translation.spec import (
    KIND,
    TranslatorConfig,
    build_model,
    vocabulary_paths,
    with_sizes_of,
)
from apptk.applications.translation.training_pairs import (
    mixed_training_pairs,
    training_pair_splits,
    training_sources,
)
from apptk.applications.translation.vocabulary_transfer import transferred_rows


def _vocabularies(folder: str, train_pairs, config: TranslatorConfig):
    """Learns the two vocabularies from the training split, or reuses them on resume."""
    source_path, target_path = vocabulary_paths(folder)
    source = stored_or_learned(
        source_path,
        lambda: learn_vocabulary(
            [pair.english for pair in train_pairs], config.source_vocabulary_size, case_fold=True
        ),
    )
    target = stored_or_learned(
        target_path,
        lambda: learn_vocabulary(
            [pair.spanish for pair in train_pairs], config.target_vocabulary_size, case_fold=False
        ),
    )
    return source, target


def _initial_module(model: str):
    """The translator a run starts from (a preset, fitted folder or export), as Keras layers."""
    from apptk.applications.translation.translator import module_from_export, module_from_folder

    return load_module(
        model,
        KIND,
        module_from_folder,
        required_function="beam_search",
        from_export=module_from_export,
    )


def _tokens_of(tokenizer) -> list[str]:
    return [token.decode("utf-8") for token in tokenizer.tokens.numpy()]


def _start_from(initial, folder: str) -> None:
    """Puts the initial model's vocabularies in `folder`, where `_vocabularies` finds them."""
    for tokenizer, path in zip(
        (initial.source_tokenizer, initial.target_tokenizer), vocabulary_paths(folder)
    ):
        write_vocabulary(_tokens_of(tokenizer), path)


def _copy_initial_weights(initial, model, source_vocabulary, target_vocabulary) -> dict:
    """Sets `model`'s weights to the initial model's, its token tables carried over to the
    run's vocabularies where they differ from the initial model's.

    Returns:
        `{table name: {"copied": n, "composed": n, "fresh": n}}` for each carried-over table.
    """
    weights = initial.model.get_weights()
    sides = (
        (model.source_embedding, initial.source_tokenizer, source_vocabulary),
        (model.target_embedding, initial.target_tokenizer, target_vocabulary),
    )
    positions = {id(weight): index for index, weight in enumerate(model.weights)}
    carried = {}
    for embedding, old_tokenizer, vocabulary in sides:
        old_vocabulary = _tokens_of(old_tokenizer)
        if old_vocabulary == vocabulary:
            continue
        table = embedding.token_embedding.embeddings
        index = positions[id(table)]
        weights[index], carried[embedding.name] = transferred_rows(
            weights[index], old_vocabulary, vocabulary, table.numpy()
        )
    model.set_weights(weights)
    return carried


def compiled_translator(config: TranslatorConfig, source_size: int, target_size: int):
    """A new translator of `config`, compiled for training (warm-up, label smoothing)."""
    model = build_model(config, source_size, target_size)
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
    return model


def fit_translator(
    data: str | list[str] | None,
    out: str,
    config: TranslatorConfig | None = None,
    *,
    force: bool = False,
    resume: bool = False,
    strategy="auto",
) -> dict:
    """Trains a translator on a pairs file and writes a model folder to `out`.

    Args:
        data: a pairs file (.txt or .zip), `FILE:WEIGHT` (its training pairs repeated WEIGHT
            times), or a list of them; None downloads the public Tatoeba file.
        out: the model folder (config.json, vocabularies, weights, history, curves, logs).
        config: hyper-parameters; defaults to `TranslatorConfig()`.
        force: replace a finished model in `out`.
        resume: continue an interrupted or finished run in `out` from its last epoch.
            `config.init_from` names a translator to start from (fine-tuning): its
            vocabularies, size and weights are used; on resume the run's own are. With
            `config.keep_initial` those starting weights are kept in the run's checkpoints
            and mixed into the trained ones at the end.
        strategy: a `tf.distribute` strategy or its name (see `run.distribution`).

    Returns:
        A summary: epochs run, best validation loss, wall time in seconds, parameters, and
        with `config.new_vocabularies` how each token table's rows were carried over.
    """
    run = TrainingRun(
        out, config or TranslatorConfig(), force=force, resume=resume, strategy=strategy
    )
    with run:
        config = run.config
        initial = None
        if config.init_from and not run.resuming:
            initial = _initial_module(config.init_from)
            config = with_sizes_of(config, initial.config)
        splits = training_pair_splits(data, config.max_pairs)
        run.prepare_folder()
        run.record_data(training_sources(data))
        if initial is not None and not config.new_vocabularies:
            _start_from(initial, run.folder)
        source_vocabulary, target_vocabulary = _vocabularies(run.folder, splits["train"], config)
        splits["train"] = mixed_training_pairs(
            splits["train"], config.concatenated_share, config.seed
        )
        run.write_config(config)
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

        model = run.build(
            lambda: compiled_translator(config, len(source_vocabulary), len(target_vocabulary))
        )
        carried = {}
        if initial is not None:
            carried = _copy_initial_weights(initial, model, source_vocabulary, target_vocabulary)
            if config.keep_initial:
                save_weights_atomically(model, os.path.join(run.folder, INITIAL_WEIGHTS))
        summary = run.fit(
            model, dataset("train", shuffle=True), dataset("validation", shuffle=False)
        )
        return {**summary, **({"embedding_rows": carried} if carried else {})}
