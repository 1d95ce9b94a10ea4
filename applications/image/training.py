"""Fitting an image classifier on a folder of labelled photos.

`--arch transfer` trains a new head on a frozen ImageNet backbone, then fine-tunes the
backbone's top layers at a low learning rate (the Keras transfer-learning recipe);
`--arch cnn` trains a small CNN from scratch. Both use the shared training machinery: the
head phase (or the CNN) writes its history, curves, logs and checkpoints in the model folder,
the fine-tuning phase in its `fine_tune/` sub-folder, and the better of the two is kept.
"""

import dataclasses
import math
import os

import keras

from apptk.applications.run import distribution
from apptk.applications.run import model_folder
from apptk.applications.run import training
from apptk.applications.errors import DataError, ModelFileError
from apptk.applications.models.image_backbones import BACKBONES, DEFAULT_BACKBONE, get_backbone
from apptk.applications.image.data import (
    ImageFolder,
    drop_unreadable,
    image_dataset,
    scan_image_folder,
    split_validation,
)
from apptk.applications.models.image_classifiers import (
    build_cnn_classifier,
    build_transfer_classifier,
    unfreeze_top_layers,
)

KIND = "image"
ARCHITECTURES = ("transfer", "cnn")
LABELS_FILE = "labels.txt"
FINE_TUNE_FOLDER = "fine_tune"
DEFAULT_IMAGE_SIZES = {"transfer": 224, "cnn": 160}


@dataclasses.dataclass
class ImageConfig:
    """Hyper-parameters of an image classifier; saved as `config.json` beside its weights."""

    kind: str = KIND
    arch: str = "transfer"
    backbone: str = DEFAULT_BACKBONE
    image_size: int = 224
    filters: tuple[int, ...] = (32, 64, 128, 256)
    use_batch_norm: bool = True
    dense_units: int = 128
    dropout: float = 0.3
    augment: bool = True
    batch_size: int = 32
    learning_rate: float = 1e-3
    epochs: int = 10
    patience: int = 3
    fine_tune_epochs: int = 10
    fine_tune_fraction: float = 0.3
    fine_tune_learning_rate: float = 1e-5
    validation_split: float = 0.2
    seed: int = 0


def build_image_classifier(
    config: ImageConfig, num_classes: int, imagenet_weights: bool = True
) -> tuple[keras.Model, keras.Model]:
    """The classifier of `config` and its explainer (see `image_models`)."""
    if config.arch == "cnn":
        return build_cnn_classifier(
            num_classes,
            config.image_size,
            filters=tuple(config.filters),
            use_batch_norm=config.use_batch_norm,
            dense_units=config.dense_units,
            dropout=config.dropout,
            augment=config.augment,
            seed=config.seed,
        )
    return build_transfer_classifier(
        get_backbone(config.backbone),
        num_classes,
        config.image_size,
        dropout=config.dropout,
        augment=config.augment,
        imagenet_weights=imagenet_weights,
        seed=config.seed,
    )


def compile_image_classifier(classifier: keras.Model, learning_rate: float) -> None:
    classifier.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )


def read_labels(folder: str) -> list[str]:
    path = os.path.join(folder, LABELS_FILE)
    try:
        with open(path, encoding="utf-8") as handle:
            return [line.rstrip("\n") for line in handle if line.strip()]
    except OSError as error:
        raise ModelFileError(f"Cannot read the class names in {path}: {error}.") from error


def _write_labels(folder: str, class_names: list[str]) -> None:
    path = os.path.join(folder, LABELS_FILE)
    if os.path.exists(path) and read_labels(folder) != class_names:
        raise DataError(
            f"{folder} was trained on other classes ({', '.join(read_labels(folder))}); "
            "pass --force to start over."
        )
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("".join(f"{name}\n" for name in class_names))


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


def _fine_tune(
    classifier, train, validation, out: str, config: ImageConfig, distribute, chief_out: str
) -> dict:
    """Fine-tunes the backbone's top layers; keeps the result only if validation loss improves."""
    head = _best_epoch(out)
    with distribute.scope():
        unfreeze_top_layers(classifier, config.fine_tune_fraction)
        compile_image_classifier(classifier, config.fine_tune_learning_rate)
    folder = os.path.join(out, FINE_TUNE_FOLDER)
    summary = training.fit_and_save(
        classifier,
        train,
        validation,
        folder,
        config.fine_tune_epochs,
        config.patience,
        distribute,
        os.path.join(chief_out, FINE_TUNE_FOLDER),
    )
    tuned = _best_epoch(folder)
    if tuned["val_loss"] is not None and (
        head["val_loss"] is None or tuned["val_loss"] < head["val_loss"]
    ):
        model_folder.save_weights_atomically(
            classifier, os.path.join(out, model_folder.WEIGHTS_FILE)
        )
    return summary


def fit_image(
    folder: str,
    out: str,
    config: ImageConfig | None = None,
    validation_folder: str | None = None,
    force: bool = False,
    resume: bool = False,
    strategy: str = "auto",
) -> dict:
    """Trains an image classifier on the labelled `folder` and writes the model folder `out`.

    Args:
        folder: one sub-folder of photos per class.
        out: the model folder to write.
        config: hyper-parameters (default `ImageConfig()`).
        validation_folder: held-out photos, same layout; default: a stable split of `folder`.
        force, resume: start over / continue an interrupted run in `out`.
        strategy: the `tf.distribute` strategy (see `apptk.applications.run.distribution`).

    Returns:
        A summary: classes, images, epochs, best validation loss and accuracy, seconds,
        parameters.
    """
    chief_out = out
    distribute, out = distribution.start_training(strategy, out)
    config = config or ImageConfig()
    config = model_folder.config_for_run(out, config, KIND, resume)
    _check(config)
    keras.utils.set_random_seed(config.seed)
    train, validation = _training_data(folder, validation_folder, config)
    head_finished = resume and os.path.exists(os.path.join(out, model_folder.WEIGHTS_FILE))
    model_folder.prepare_output_folder(out, force=force, resume=resume)
    _write_labels(out, train.class_names)
    model_folder.write_config(config, out)
    train_batches = image_dataset(
        train, config.image_size, config.batch_size, shuffle=True, seed=config.seed
    )
    validation_batches = image_dataset(
        validation, config.image_size, config.batch_size, shuffle=False
    )
    with distribute.scope():
        classifier, _ = build_image_classifier(config, len(train.class_names))
    summary = {
        "arch": config.arch,
        "classes": len(train.class_names),
        "train_images": len(train.paths),
        "validation_images": len(validation.paths),
        "epochs": 0,
        "seconds": 0.0,
    }
    if head_finished and config.arch == "transfer":
        model_folder.load_fitted_weights(classifier, out)
    else:
        with distribute.scope():
            compile_image_classifier(classifier, config.learning_rate)
        head = training.fit_and_save(
            classifier,
            train_batches,
            validation_batches,
            out,
            config.epochs,
            config.patience,
            distribute,
            chief_out,
        )
        summary.update(epochs=head["epochs"], seconds=head["seconds"])
    if config.arch == "transfer" and config.fine_tune_epochs > 0:
        tuned = _fine_tune(
            classifier, train_batches, validation_batches, out, config, distribute, chief_out
        )
        summary["fine_tune_epochs"] = tuned["epochs"]
        summary["seconds"] += tuned["seconds"]
    best = min(
        (_best_epoch(path) for path in (out, os.path.join(out, FINE_TUNE_FOLDER))),
        key=lambda epoch: math.inf if epoch["val_loss"] is None else epoch["val_loss"],
    )
    return summary | {
        "best_val_loss": best["val_loss"],
        "best_val_accuracy": best["val_accuracy"],
        "seconds": round(summary["seconds"], 1),
        "parameters": classifier.count_params(),
    }
