"""English→Spanish translation: `Translator` (raw strings in, translations out), its training,
evaluation and TF Serving export.

Example:

>>> from apptk.applications.translation import Translator
>>> Translator.load()(["Hello, how are you?"])  # the shipped `en_es` preset
[{'translation': 'Hola, ¿cómo estás?', 'score': -0.12}]
"""

from apptk.applications.lazy_exports import lazy_exports

__all__ = [
    "KIND",
    "Translator",
    "TranslatorConfig",
    "evaluate_translator",
    "export_translator",
    "fit_translator",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "KIND": "spec",
        "TranslatorConfig": "spec",
        "Translator": "translator",
        "fit_translator": "training",
        "evaluate_translator": "evaluation",
        "export_translator": "export",
    },
)
