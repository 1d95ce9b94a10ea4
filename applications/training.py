"""The training machinery every pipeline shares: callbacks, resume, curves, atomic saving."""

import csv
import dataclasses
import json
import os
import shutil
import tempfile

import keras

from apptk.applications.errors import ModelFileError, OutputExistsError

HISTORY_FILE = "history.csv"
CURVES_FILE = "training_curves.png"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"


def prepare_output_folder(folder: str, force: bool, resume: bool) -> None:
    """Creates `folder`; refuses to touch a finished model there unless `force` or `resume`."""
    finished = os.path.exists(os.path.join(folder, WEIGHTS_FILE))
    if finished and not (force or resume):
        raise OutputExistsError(
            f"{folder} already holds a trained model; pass --force to overwrite it "
            "or --resume to continue its training."
        )
    os.makedirs(folder, exist_ok=True)


def training_callbacks(folder: str, patience: int) -> list[keras.callbacks.Callback]:
    """Checkpoint every epoch (resumed after an interrupt), early stopping, logs.

    `BackupAndRestore` keeps the latest epoch's full training state under `folder/backup` so
    an interrupted run restarted with the same command continues where it stopped; the best
    weights so far are kept in `folder/checkpoints/best.weights.h5`.
    """
    checkpoints = os.path.join(folder, "checkpoints")
    os.makedirs(checkpoints, exist_ok=True)
    return [
        keras.callbacks.BackupAndRestore(os.path.join(folder, "backup"), delete_checkpoint=False),
        keras.callbacks.ModelCheckpoint(
            os.path.join(checkpoints, "best.weights.h5"),
            monitor="val_loss",
            save_best_only=True,
            save_weights_only=True,
        ),
        keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=patience, restore_best_weights=True
        ),
        keras.callbacks.CSVLogger(os.path.join(folder, HISTORY_FILE), append=True),
        keras.callbacks.TensorBoard(os.path.join(folder, "logs")),
    ]


def read_history(folder: str) -> dict[str, list[float]]:
    """Reads `history.csv` (one row per epoch, resumed runs appended) into columns."""
    path = os.path.join(folder, HISTORY_FILE)
    with open(path, newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row.get("epoch", "").isdigit()]
    by_epoch = {int(row["epoch"]): row for row in rows}  # a resumed epoch replaces its first try
    columns: dict[str, list[float]] = {}
    for epoch in sorted(by_epoch):
        for name, value in by_epoch[epoch].items():
            if name != "epoch" and value not in ("", None):
                columns.setdefault(name, []).append(float(value))
    return columns


def plot_training_curves(folder: str) -> str:
    """Draws each metric's training and validation curve into `training_curves.png`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    history = read_history(folder)
    metrics = [name for name in history if not name.startswith("val_") and name != "learning_rate"]
    figure, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.6), squeeze=False)
    for axis, name in zip(axes[0], metrics):
        epochs = range(1, len(history[name]) + 1)
        axis.plot(epochs, history[name], marker="o", label="train")
        if f"val_{name}" in history:
            axis.plot(epochs, history[f"val_{name}"], marker="o", label="validation")
        axis.set_xlabel("epoch")
        axis.set_title(name)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    path = os.path.join(folder, CURVES_FILE)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def write_json_atomically(data: dict, path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, suffix=".tmp") as handle:
        json.dump(data, handle, indent=2, ensure_ascii=False)
    os.replace(handle.name, path)


def save_weights_atomically(model: keras.Model, path: str) -> None:
    """Writes weights to a temporary file first, so a crash never leaves half a file."""
    temporary = path + ".tmp.weights.h5"
    model.save_weights(temporary)
    os.replace(temporary, path)


def publish_folder(staging: str, destination: str, force: bool) -> None:
    """Moves a finished `staging` folder to `destination`, replacing it only with `force`."""
    if os.path.exists(destination):
        if not force:
            remove_folder(staging)
            raise OutputExistsError(f"{destination} already exists; pass --force to replace it.")
        backup = destination.rstrip("/") + ".old"
        remove_folder(backup)
        os.replace(destination, backup)
        os.replace(staging, destination)
        remove_folder(backup)
    else:
        os.makedirs(os.path.dirname(os.path.abspath(destination)), exist_ok=True)
        os.replace(staging, destination)


def remove_folder(folder: str) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def staging_folder_for(destination: str) -> str:
    """A fresh temporary folder beside `destination` (same file system, so rename is atomic)."""
    parent = os.path.dirname(os.path.abspath(destination))
    os.makedirs(parent, exist_ok=True)
    return tempfile.mkdtemp(prefix=".staging-", dir=parent)


def read_config(folder: str, config_class, kind: str):
    """Reads `config.json` of a fitted model into `config_class`, checking its kind."""
    path = os.path.join(folder, CONFIG_FILE)
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError as error:
        raise ModelFileError(
            f"{folder} is not an apptk model folder (no {CONFIG_FILE})."
        ) from error
    except (OSError, json.JSONDecodeError) as error:
        raise ModelFileError(f"Cannot read {path}: {error}.") from error
    if data.get("kind") != kind:
        raise ModelFileError(
            f"{folder} holds a {data.get('kind', 'unknown')!r} model, not a {kind!r} model."
        )
    fields = {field.name for field in dataclasses.fields(config_class)}
    return config_class(**{key: value for key, value in data.items() if key in fields})
