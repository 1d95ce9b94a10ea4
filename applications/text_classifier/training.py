"""Fine-tuning a pre-trained masked-LM encoder (or one from scratch) on labelled texts."""

import dataclasses

import keras

from apptk.applications.errors import DataError
from apptk.applications.fill_mask import load_pretrained_encoder
from apptk.applications.run.training_run import TrainingRun
from apptk.applications.text.wordpiece import WordPieceTokenizer, write_vocabulary
from apptk.applications.text_classifier.data import (
    labelled_dataset,
    read_labelled_texts,
    split_labelled,
)
from apptk.applications.text_classifier.spec import (
    VOCABULARY_FILE,
    TextClassifierConfig,
    build_classifier,
)


def _checked_classes(data: str, train_labels, validation_labels) -> list[str]:
    classes = sorted(set(train_labels))
    if len(classes) < 2:
        raise DataError(f"{data} has a single label ({classes[0]!r}); a classifier needs two.")
    unknown = sorted(set(validation_labels) - set(classes))
    if unknown:
        raise DataError(f"Validation labels never seen in training: {', '.join(unknown[:5])}.")
    return classes


def _compiled_classifier(config, vocabulary_size: int, pretrained_encoder):
    model = build_classifier(config, vocabulary_size)
    if pretrained_encoder is not None:
        model.encoder.set_weights(pretrained_encoder.get_weights())
    model.compile(
        optimizer=keras.optimizers.AdamW(config.resolved_learning_rate(), weight_decay=0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def fit_text_classifier(
    data: str,
    out: str,
    config: TextClassifierConfig | None = None,
    *,
    encoder: str | None = None,
    from_scratch: bool = False,
    validation: str | None = None,
    force: bool = False,
    resume: bool = False,
    strategy="auto",
) -> dict:
    """Fine-tunes a pre-trained encoder (or trains one from scratch) on a `text<TAB>label` file.

    Args:
        data: the labelled training file.
        out: the model folder to write.
        config: hyper-parameters (default `TextClassifierConfig()`).
        encoder: a fill-mask preset, folder or export whose encoder is fine-tuned (None: the
            shipped `fill_mask` preset).
        from_scratch: start from random weights instead (same vocabulary and size as
            `encoder`, so a comparison isolates what pre-training brings).
        validation: a labelled validation file (default: 10% of `data` by a stable hash).
        force, resume: start over / continue an interrupted run in `out`.
        strategy: a `tf.distribute` strategy or its name (see `run.distribution`).
    """
    run = TrainingRun(
        out, config or TextClassifierConfig(), force=force, resume=resume, strategy=strategy
    )
    with run:
        texts, labels = read_labelled_texts(data)
        (train_texts, train_labels), (val_texts, val_labels) = split_labelled(
            texts, labels, validation
        )
        classes = _checked_classes(data, train_labels, val_labels)
        run.prepare_folder()
        run.record_data([(data, 1), (validation, 1)] if validation else [(data, 1)])
        # From scratch keeps the encoder's vocabulary and size, so only pre-training differs.
        pretrained_encoder, vocabulary = load_pretrained_encoder(encoder)
        config = dataclasses.replace(run.config, labels=classes, pretrained=not from_scratch)
        config = config.with_encoder_sizes(pretrained_encoder)
        write_vocabulary(vocabulary, run.path(VOCABULARY_FILE))
        run.write_config(config)
        tokenizer = WordPieceTokenizer(vocabulary, case_fold=True)
        index = {label: number for number, label in enumerate(classes)}
        model = run.build(
            lambda: _compiled_classifier(
                config, len(vocabulary), None if from_scratch else pretrained_encoder
            )
        )
        summary = run.fit(
            model,
            labelled_dataset(
                train_texts, [index[x] for x in train_labels], tokenizer, config, True
            ),
            labelled_dataset(val_texts, [index[x] for x in val_labels], tokenizer, config, False),
        )
        return summary | {"train_texts": len(train_texts), "validation_texts": len(val_texts)}
