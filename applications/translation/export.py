"""Exporting a translator as a TF Serving SavedModel."""

from apptk.applications.run.export import export_module
from apptk.applications.translation.translator import Translator, TranslatorModule


def export_translator(translator: Translator, out: str, force: bool = False) -> str:
    """Writes a TF Serving SavedModel (`serving_default`: strings in, translations out).

    A fitted model is exported with its token tables stored in float16, which keeps the
    shipped model small; the tables are read back as float32, and translations stay the same.
    """
    module = translator.module
    if isinstance(module, TranslatorModule):
        module = TranslatorModule(
            module.model.with_half_precision_embeddings(),
            module.source_tokenizer,
            module.target_tokenizer,
            module.max_length,
            module.config,
            module.beam_size,
        )
    signatures = {
        "serving_default": module.serve,
        "greedy": module.greedy,
        "beam_search": module.beam_search,
    }
    return export_module(module, out, signatures, force=force)
