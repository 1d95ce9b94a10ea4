"""Loading a pipeline's model from what users name: a preset, a fitted folder or a SavedModel."""

import os
from collections.abc import Callable

from apptk.applications.run import model_folder
from apptk.applications.run.export import load_saved_model
from apptk.applications.run.presets import Preset, resolve_model


def load_module(
    model: str | None,
    kind: str,
    from_folder: Callable[[str], object],
    required_function: str,
    from_preset: Callable[[Preset], object] | None = None,
    from_export: Callable[[str], object] | None = None,
):
    """The pipeline's `tf.Module` for `model`.

    Args:
        model: None (the default preset), a preset name, a fitted model folder (it has a
            `config.json`) or an exported SavedModel folder.
        kind: the pipeline's kind; a folder or preset of another kind is an error.
        from_folder: rebuilds the module from a fitted folder.
        required_function: a function every SavedModel of this kind offers (checked).
        from_preset: builds the module of a preset that is not a shipped SavedModel.
        from_export: loads an exported SavedModel folder (default: `load_saved_model`, which
            checks it offers `required_function`).
    """

    def exported(path: str):
        if from_export is not None:
            return from_export(path)
        return load_saved_model(path, required_function, kind)

    target = resolve_model(model, kind)
    if isinstance(target, Preset):
        return exported(target.path) if target.path else from_preset(target)
    if os.path.exists(os.path.join(target, model_folder.CONFIG_FILE)):
        return from_folder(target)
    return exported(target)
