"""The pre-trained encoder of a masked language model, for fine-tuning (text classifier)."""

import os

from apptk.applications.fill_mask.masker import module_from_export, module_from_folder
from apptk.applications.fill_mask.spec import KIND
from apptk.applications.run import model_folder
from apptk.applications.run.presets import Preset, resolve_model


def load_pretrained_encoder(model: str | None = None):
    """`(encoder, vocabulary)` of a masked LM, as trainable Keras layers.

    Args:
        model: None (the shipped `fill_mask` preset), a preset name, a fitted fill-mask folder
            or an exported fill-mask SavedModel (rebuilt from its variables).
    """
    target = resolve_model(model, KIND)
    path = target.path if isinstance(target, Preset) else target
    if os.path.exists(os.path.join(path, model_folder.CONFIG_FILE)):
        module = module_from_folder(path)
    else:
        module = module_from_export(path)
    vocabulary = [token.decode("utf-8") for token in module.vocabulary.numpy()]
    return module.model.encoder, vocabulary
