"""Exporting an image classifier as a TF Serving SavedModel."""

from apptk.applications.image.classifier import ImageClassifier
from apptk.applications.run.export import export_module


def export_image(classifier: ImageClassifier, out: str, force: bool = False) -> str:
    """Writes a TF Serving SavedModel: `serving_default` maps `image_bytes` (encoded JPEG, PNG,
    GIF or BMP files) to the top-5 `labels` and `probabilities`."""
    module = classifier.module
    return export_module(
        module,
        out,
        signatures={
            "serving_default": module.serve,
            "predict": module.predict,
            "predict_pixels": module.predict_pixels,
            "explain": module.explain,
        },
        force=force,
    )
