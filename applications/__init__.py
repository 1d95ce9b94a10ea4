"""apptk's ready pipelines: raw input in, answers out, preprocessing inside the model.

One package per pipeline, each with the same files: `spec` (kind, configuration, Keras model),
`data`, the Python API, `training`, `evaluation` and `export`. They build on three shared
packages: `models` (the Keras models), `text` (tokenizers, vocabularies, corpora, checks) and
`run` (model folders, the training run, distribution, export, presets, plots, metrics).
See ARCHITECTURE.md.

Example:

>>> from apptk.applications import Translator, NextWordPredictor, FillMasker, ImageClassifier
>>> Translator.load()(["Hello, how are you?"])[0]["translation"]
'Hola, ¿cómo estás?'
>>> Translator.load("en_es")  # a preset by name (`apptk models`), a fitted folder or export
"""

from apptk.applications.lazy_exports import lazy_exports

_EXPORTS = {
    # translation
    "Translator": "translation",
    "TranslatorConfig": "translation",
    "fit_translator": "translation",
    "evaluate_translator": "translation",
    "export_translator": "translation",
    # next word
    "NextWordPredictor": "next_word",
    "NextWordConfig": "next_word",
    "fit_next_word": "next_word",
    "evaluate_next_word": "next_word",
    "export_next_word": "next_word",
    # fill-mask
    "FillMasker": "fill_mask",
    "FillMaskConfig": "fill_mask",
    "fit_fill_mask": "fill_mask",
    "evaluate_fill_mask": "fill_mask",
    "export_fill_mask": "fill_mask",
    # text classifier
    "TextClassifier": "text_classifier",
    "TextClassifierConfig": "text_classifier",
    "fit_text_classifier": "text_classifier",
    "evaluate_text_classifier": "text_classifier",
    # images
    "ImageClassifier": "image",
    "ImageConfig": "image",
    "fit_image": "image",
    "evaluate_image_classifier": "image",
    "export_image": "image",
    # shared
    "PRESETS": "run.presets",
    "ApptkError": "errors",
    "DataError": "errors",
    "ModelFileError": "errors",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
