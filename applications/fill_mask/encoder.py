"""The pre-trained encoder of a masked language model, for fine-tuning (text classifier)."""

from apptk.applications.fill_mask.masker import module_from_export, module_from_folder
from apptk.applications.fill_mask.spec import KIND
from apptk.applications.run.loading import load_module


def load_pretrained_encoder(model: str | None = None):
    """`(encoder, vocabulary)` of a masked LM, as trainable Keras layers.

    Args:
        model: None (the shipped `fill_mask` preset), a preset name, a fitted fill-mask folder
            or an exported fill-mask SavedModel (rebuilt from its variables).
    """
    module = load_module(
        model, KIND, module_from_folder, required_function="fill", from_export=module_from_export
    )
    vocabulary = [token.decode("utf-8") for token in module.vocabulary.numpy()]
    return module.model.encoder, vocabulary
