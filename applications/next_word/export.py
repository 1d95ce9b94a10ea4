"""Exporting a next-word model as a TF Serving SavedModel."""

from apptk.applications.next_word.predictor import NextWordPredictor
from apptk.applications.run.export import export_module


def export_next_word(predictor: NextWordPredictor, out: str, force: bool = False) -> str:
    """Writes a TF Serving SavedModel: `serving_default` maps texts to top-5 words and probabilities."""
    module = predictor.module
    return export_module(
        module,
        out,
        signatures={"serving_default": module.serve, "predict": module.predict},
        force=force,
    )
