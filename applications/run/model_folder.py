"""The files of a fitted model folder: config, weights, atomic writes and publishing.

Kept free of Keras imports so loading an exported model stays quick.
"""

import contextlib
import dataclasses
import json
import os
import shutil
import tempfile

from apptk.applications.errors import (
    DataError,
    ModelFileError,
    OutputExistsError,
    OutputWriteError,
    first_line,
)
from apptk.applications.run.atomic_files import FOLDER_MODE, make_folder, write_json_atomically

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
BEST_CHECKPOINT = os.path.join("checkpoints", "best.weights.h5")
# A fine-tuning run's starting weights, kept where it mixes them back in (`keep_initial`).
INITIAL_WEIGHTS = os.path.join("checkpoints", "initial.weights.h5")


def damaged_model_error(path: str, error: Exception) -> ModelFileError:
    """`error` from reading a model's files, said as one line: the model at `path` is damaged."""
    detail = first_line(error)
    if len(detail) > 160:
        detail = detail[:157] + "..."
    return ModelFileError(f"The model at {path} is damaged ({detail}); export or copy it again.")


def forced_run_folder(out: str) -> str:
    """Where a `--force` run trains until it replaces `out` (see `TrainingRun`)."""
    out = os.path.abspath(out)
    return os.path.join(os.path.dirname(out), f".{os.path.basename(out)}.forced")


def saved_run_values(out: str, forced: bool = False) -> dict:
    """The raw `config.json` of the run `--resume` would continue in `out` (with `forced`:
    the interrupted `--force` run), or {} when there is none."""
    path = os.path.join(forced_run_folder(out) if forced else out, CONFIG_FILE)
    try:
        with open(path, encoding="utf-8") as handle:
            values = json.load(handle)
    except (OSError, ValueError):
        return {}
    return values if isinstance(values, dict) else {}


def load_fitted_weights(model, folder: str):
    """`model` with a fitted folder's final weights (or its best checkpoint while training
    runs) loaded."""
    weights = os.path.join(folder, WEIGHTS_FILE)
    if not os.path.exists(weights):
        weights = os.path.join(folder, BEST_CHECKPOINT)
    try:
        model.load_weights(weights)
    except (OSError, ValueError, IndexError) as error:
        raise damaged_model_error(folder, error) from error
    return model


def check_export_destination(out: str, force: bool = False) -> str:
    """`out` as an absolute TF Serving version folder that may be written; checked before any
    work, so a wrong destination fails at once."""
    out = os.path.abspath(out)
    if not os.path.basename(out).isdigit():
        raise DataError(
            f"{out} does not end in a version number; TF Serving reads MODEL_NAME/VERSION, "
            "e.g. --out models/en_es/1."
        )
    if os.path.exists(out) and not force:
        raise OutputExistsError(f"{out} already exists; pass --force to replace it.")
    return out


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


@contextlib.contextmanager
def staging_folder_for(destination: str):
    """A fresh temporary folder beside `destination` (same file system, so rename is atomic).

    Leaving the block with an error removes the staging folder and the parent folders it
    had to create, so a failed write leaves nothing behind.
    """
    parent = os.path.dirname(os.path.abspath(destination))
    created = _missing_folders(parent)
    staging = None
    try:
        make_folder(parent)
        try:
            staging = tempfile.mkdtemp(prefix=".staging-", dir=parent)
        except OSError as error:
            raise OutputWriteError.from_os_error(error, destination) from error
        os.chmod(staging, FOLDER_MODE)  # mkdtemp makes 0700; exports are read by servers
        yield staging
    except BaseException:
        if staging is not None:
            remove_folder(staging)
        for folder in created:  # deepest first
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        raise


def _missing_folders(folder: str) -> list[str]:
    """`folder` and its ancestors that do not exist yet, deepest first."""
    missing = []
    while folder and not os.path.exists(folder):
        missing.append(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return missing


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
    """`config_class` from saved values, ignoring keys it does not know (newer runs); keys an
    older run's file lacks take the class's `LEGACY_DEFAULTS` (what those runs used), else
    today's defaults."""
    fields = {field.name for field in dataclasses.fields(config_class)}
    legacy = getattr(config_class, "LEGACY_DEFAULTS", {})
    values = {key: value for key, value in legacy.items() if key not in data}
    values.update({key: value for key, value in data.items() if key in fields})
    return config_class(**values)
