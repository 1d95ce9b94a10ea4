"""Fitting an image classifier on a folder of labelled photos.

`--arch transfer` trains a new head on a frozen ImageNet backbone, then fine-tunes the
backbone's top layers at a low learning rate (the Keras transfer-learning recipe);
`--arch cnn` trains a small CNN from scratch. Both use the shared training machinery: the
head phase (or the CNN) writes its history, curves, logs and checkpoints in the model folder,
the fine-tuning phase in its `fine_tune/` sub-folder, and the better of the two is kept.
"""

import math
import os

import keras

from apptk.applications.errors import DataError
from apptk.applications.image.data import (
    ImageFolder,
    drop_unreadable,
    image_dataset,
    scan_image_folder,
    split_validation,
)
from apptk.applications.image.spec import (
    ARCHITECTURES,
    FINE_TUNE_FOLDER,
    LABELS_FILE,
    ImageConfig,
    build_image_classifier,
    read_labels,
)
from apptk.applications.models.image_backbones import BACKBONES
from apptk.applications.models.image_classifiers import unfreeze_top_layers
from apptk.applications.run import model_folder, training
from apptk.applications.run.atomic_files import save_weights_atomically, write_text_atomically
from apptk.applications.run.training_run import TrainingRun


def compile_image_classifier(
    classifier: keras.Model, optimizer: keras.optimizers.Optimizer
) -> None:
    classifier.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )


def cnn_learning_rate(
    config: ImageConfig, steps_per_epoch: int
) -> keras.optimizers.schedules.LearningRateSchedule:
    """A linear warm-up to `config.learning_rate`, then a cosine down to 0 at the last epoch.

    At a constant rate a CNN learning from a few thousand photos swings from epoch to epoch;
    the decay lets it settle (Loshchilov and Hutter, SGDR, 2017).
    """
    total_steps = max(1, config.epochs * steps_per_epoch)
    warmup_steps = min(config.warmup_epochs * steps_per_epoch, total_steps // 2)
    return keras.optimizers.schedules.CosineDecay(
        0.0,
        total_steps - warmup_steps,
        warmup_target=config.learning_rate,
        warmup_steps=warmup_steps,
    )


def cnn_optimizer(config: ImageConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """AdamW (decoupled weight decay, Loshchilov and Hutter, 2019) on `cnn_learning_rate`."""
    return keras.optimizers.AdamW(
        cnn_learning_rate(config, steps_per_epoch), weight_decay=config.weight_decay
    )


def _first_phase_optimizer(config: ImageConfig, train_images: int) -> keras.optimizers.Optimizer:
    """The CNN's schedule, or the transfer head's constant rate."""
    if config.arch == "cnn":
        return cnn_optimizer(config, math.ceil(train_images / config.batch_size))
    return keras.optimizers.Adam(config.learning_rate)


def _write_labels(folder: str, class_names: list[str]) -> None:
    path = os.path.join(folder, LABELS_FILE)
    if os.path.exists(path) and read_labels(folder) != class_names:
        raise DataError(
            f"{folder} was trained on other classes ({', '.join(read_labels(folder))}); "
            "pass --force to start over."
        )
    write_text_atomically("".join(f"{name}\n" for name in class_names), path)


def _check(config: ImageConfig) -> None:
    if config.arch not in ARCHITECTURES:
        raise DataError(f"--arch must be one of {', '.join(ARCHITECTURES)}.")
    if config.arch == "transfer" and config.backbone not in BACKBONES:
        raise DataError(f"--backbone must be one of {', '.join(BACKBONES)}.")
    if not 0 < config.validation_split < 1:
        raise DataError("The validation split must be between 0 and 1.")


def _training_data(
    folder: str, validation_folder: str | None, config: ImageConfig
) -> tuple[ImageFolder, ImageFolder]:
    train = scan_image_folder(folder)
    if validation_folder:
        validation = scan_image_folder(validation_folder, class_names=train.class_names)
    else:
        train, validation = split_validation(train, config.validation_split)
    return drop_unreadable(train), drop_unreadable(validation)


def _best_epoch(folder: str) -> dict:
    """Validation loss and accuracy of the best epoch in `folder`'s history."""
    history = training.read_history(folder)
    losses = history.get("val_loss", [])
    if not losses:
        return {"val_loss": None, "val_accuracy": None}
    best = losses.index(min(losses))
    return {"val_loss": losses[best], "val_accuracy": history["val_accuracy"][best]}


def _fine_tune(run: TrainingRun, classifier, train, validation) -> dict:
    """Fine-tunes the backbone's top layers; keeps the result only if validation loss improves."""
    config = run.config
    head = _best_epoch(run.folder)

    def unfrozen():
        unfreeze_top_layers(classifier, config.fine_tune_fraction)
        compile_image_classifier(classifier, keras.optimizers.Adam(config.fine_tune_learning_rate))
        return classifier

    run.build(unfrozen)
    summary = run.fit(
        classifier, train, validation, config.fine_tune_epochs, sub_folder=FINE_TUNE_FOLDER
    )
    tuned = _best_epoch(os.path.join(run.folder, FINE_TUNE_FOLDER))
    if tuned["val_loss"] is not None and (
        head["val_loss"] is None or tuned["val_loss"] < head["val_loss"]
    ):
        save_weights_atomically(classifier, run.path(model_folder.WEIGHTS_FILE))
    return summary


def fit_image(
    folder: str,
    out: str,
    config: ImageConfig | None = None,
    *,
    validation_folder: str | None = None,
    force: bool = False,
    resume: bool = False,
    strategy="auto",
) -> dict:
    """Trains an image classifier on the labelled `folder` and writes the model folder `out`.

    Args:
        folder: one sub-folder of photos per class.
        out: the model folder to write.
        config: hyper-parameters (default `ImageConfig()`).
        validation_folder: held-out photos, same layout; default: a stable split of `folder`.
        force, resume: start over / continue an interrupted run in `out`.
        strategy: a `tf.distribute` strategy or its name (see `run.distribution`).

    Returns:
        A summary: classes, images, epochs, best validation loss and accuracy, seconds,
        parameters.
    """
    config = config or ImageConfig()
    _check(config)
    run = TrainingRun(out, config, force=force, resume=resume, strategy=strategy)
    with run:
        config = run.config
        train, validation = _training_data(folder, validation_folder, config)
        head_finished = run.phase_done()
        run.prepare_folder()
        run.record_data([(folder, 1)] + ([(validation_folder, 1)] if validation_folder else []))
        _write_labels(run.folder, train.class_names)
        run.write_config()
        train_batches = image_dataset(
            train, config.image_size, config.batch_size, shuffle=True, seed=config.seed
        )
        validation_batches = image_dataset(
            validation, config.image_size, config.batch_size, shuffle=False
        )
        classifier = run.build(lambda: build_image_classifier(config, len(train.class_names))[0])
        summary = {
            "arch": config.arch,
            "classes": len(train.class_names),
            "train_images": len(train.paths),
            "validation_images": len(validation.paths),
            "epochs": 0,
            "seconds": 0.0,
        }
        if head_finished and config.arch == "transfer":
            model_folder.load_fitted_weights(classifier, run.folder)
        else:
            run.build(
                lambda: compile_image_classifier(
                    classifier, _first_phase_optimizer(config, len(train.paths))
                )
            )
            head = run.fit(classifier, train_batches, validation_batches)
            summary.update(epochs=head["epochs"], seconds=head["seconds"])
        if config.arch == "transfer" and config.fine_tune_epochs > 0:
            tuned = _fine_tune(run, classifier, train_batches, validation_batches)
            summary["fine_tune_epochs"] = tuned["epochs"]
            summary["seconds"] += tuned["seconds"]
        best = min(
            (_best_epoch(path) for path in (run.folder, run.path(FINE_TUNE_FOLDER))),
            key=lambda epoch: math.inf if epoch["val_loss"] is None else epoch["val_loss"],
        )
        return summary | {
            "best_val_loss": best["val_loss"],
            "best_val_accuracy": best["val_accuracy"],
            "seconds": round(summary["seconds"], 1),
            "parameters": classifier.count_params(),
        }
