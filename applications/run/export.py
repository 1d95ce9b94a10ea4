"""Export plumbing every pipeline shares: TF Serving layout, atomic writes, safe loading."""

import os

import tensorflow as tf

from apptk.applications.errors import DataError, ModelFileError, OutputExistsError
from apptk.applications.run import model_folder


def export_module(module: tf.Module, out: str, signatures: dict, force: bool = False) -> str:
    """Saves `module` as a SavedModel in the TF Serving folder `MODEL_NAME/VERSION`.

    The folder is written beside `out` first and renamed into place, so a crash never leaves
    half an export, and an existing export is replaced only with `force`.
    """
    out = os.path.abspath(out)
    if not os.path.basename(out).isdigit():
        raise DataError(
            f"{out} does not end in a version number; TF Serving reads MODEL_NAME/VERSION, "
            "e.g. --out models/en_es/1."
        )
    if os.path.exists(out) and not force:
        raise OutputExistsError(f"{out} already exists; pass --force to replace it.")
    staging = model_folder.staging_folder_for(out)
    try:
        tf.saved_model.save(module, staging, signatures=signatures)
    except BaseException:
        model_folder.remove_folder(staging)
        raise
    model_folder.publish_folder(staging, out, force=force)
    return out


def assign_exported_weights(model, values, source: str) -> None:
    """Gives a freshly built Keras `model` the weights an export returned in `model.weights`
    order (its `model_weights` function), checking that they fit."""
    if len(values) != len(model.weights):
        raise ModelFileError(f"{source} does not fit the model it should rebuild; export it again.")
    for weight, value in zip(model.weights, values):
        weight.assign(value)


def load_saved_model(path: str, required_function: str, kind: str):
    """Loads an apptk SavedModel, checking it offers `required_function`."""
    import tensorflow_text  # noqa: F401 - registers the tokenizer ops the graphs use

    if not os.path.exists(path):
        raise ModelFileError(f"Model not found: {path}")
    if not os.path.exists(os.path.join(path, "saved_model.pb")):
        raise ModelFileError(f"{path} is neither a fitted {kind} folder nor a {kind} SavedModel.")
    try:
        module = tf.saved_model.load(path)
    except (OSError, ValueError, tf.errors.OpError) as error:
        raise ModelFileError(f"Cannot load the SavedModel in {path}: {error}") from error
    if not hasattr(module, required_function):
        raise ModelFileError(f"{path} is a SavedModel, but not an apptk {kind} model.")
    return module
