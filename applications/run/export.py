"""Export plumbing every pipeline shares: TF Serving layout, atomic writes, safe loading."""

import errno
import os

import tensorflow as tf

from apptk.applications.errors import ModelFileError, OutputWriteError
from apptk.applications.run import model_folder


def export_module(module: tf.Module, out: str, signatures: dict, force: bool = False) -> str:
    """Saves `module` as a SavedModel in the TF Serving folder `MODEL_NAME/VERSION`.

    The folder is written beside `out` first and renamed into place, so a crash never leaves
    half an export, and an existing export is replaced only with `force`. A failed export
    (a full disk, a read-only place) leaves nothing behind, not even the folders it made.
    """
    out = model_folder.check_export_destination(out, force)
    with model_folder.staging_folder_for(out) as staging:
        try:
            tf.saved_model.save(module, staging, signatures=signatures)
        except tf.errors.OpError as error:
            raise _export_write_error(error, out) from error
        model_folder.publish_folder(staging, out, force=force)
    return out


def _export_write_error(error: tf.errors.OpError, out: str) -> Exception:
    """TensorFlow's file errors said in one plain line; other errors unchanged."""
    message = error.message or ""
    for code, text in ((errno.ENOSPC, "No space left"), (errno.EROFS, "Read-only file system")):
        if text.lower() in message.lower():
            return OutputWriteError.from_os_error(OSError(code, text), out)
    if isinstance(error, tf.errors.PermissionDeniedError):
        return OutputWriteError.from_os_error(OSError(errno.EACCES, "permission denied"), out)
    return error


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
    except (OSError, ValueError, IndexError, tf.errors.OpError) as error:
        raise model_folder.damaged_model_error(path, error) from error
    if not hasattr(module, required_function):
        raise ModelFileError(f"{path} is a SavedModel, but not an apptk {kind} model.")
    return module
