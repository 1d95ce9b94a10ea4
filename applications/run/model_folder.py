"""The files of a fitted model folder: config, weights, atomic writes and publishing.

Kept free of Keras imports so loading an exported model stays quick.
"""

import dataclasses
import json
import os
import shutil
import tempfile

from apptk.applications.errors import ModelFileError, OutputExistsError

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
BEST_CHECKPOINT = os.path.join("checkpoints", "best.weights.h5")


def prepare_output_folder(folder: str, force: bool, resume: bool) -> None:
    """Creates `folder` for a training run.

    A finished model there is kept unless `resume` (continue it) or `force` (start over:
    the old model, checkpoints and logs are removed).
    """
    finished = os.path.exists(os.path.join(folder, WEIGHTS_FILE))
    if finished and not (force or resume):
        raise OutputExistsError(
            f"{folder} already holds a trained model; pass --force to overwrite it "
            "or --resume to continue its training."
        )
    if force and not resume and os.path.exists(os.path.join(folder, CONFIG_FILE)):
        remove_folder(folder)
    os.makedirs(folder, exist_ok=True)


def load_fitted_weights(model, folder: str):
    """`model` with a fitted folder's final weights (or its best checkpoint while training
    runs) loaded."""
    weights = os.path.join(folder, WEIGHTS_FILE)
    if not os.path.exists(weights):
        weights = os.path.join(folder, BEST_CHECKPOINT)
    try:
        model.load_weights(weights)
    except (OSError, ValueError) as error:
        raise ModelFileError(f"Cannot load weights from {weights}: {error}") from error
    return model


def write_json_atomically(data: dict, path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, suffix=".tmp") as handle:
        json.dump(data, handle, indent=2, ensure_ascii=False)
    os.replace(handle.name, path)


def save_weights_atomically(model, path: str) -> None:
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


def write_config(config, folder: str) -> None:
    """Saves a pipeline's configuration dataclass as the folder's `config.json`."""
    write_json_atomically(dataclasses.asdict(config), os.path.join(folder, CONFIG_FILE))


def kind_of(config_class) -> str:
    """The pipeline kind a configuration dataclass stands for (its `kind` field's default)."""
    return config_class.__dataclass_fields__["kind"].default


def read_config(folder: str, config_class):
    """Reads `config.json` of a fitted model into `config_class`, checking its kind."""
    kind = kind_of(config_class)
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
    if not isinstance(data, dict):
        raise ModelFileError(f"{path} is not an apptk model configuration.")
    if data.get("kind") != kind:
        raise ModelFileError(
            f"{folder} holds a {data.get('kind', 'unknown')!r} model, not a {kind!r} model."
        )
    return config_from_dict(config_class, data)


def config_from_dict(config_class, data: dict):
    """`config_class` from saved values, ignoring keys it does not know (older or newer runs)."""
    fields = {field.name for field in dataclasses.fields(config_class)}
    return config_class(**{key: value for key, value in data.items() if key in fields})
