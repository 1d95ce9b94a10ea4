"""`apptk export ...`: write TF Serving SavedModels."""

import click

from apptk.cli.options import export_options, model_option


@click.group()
def export():
    """Export a model as a SavedModel that TF Serving serves as is."""


@export.command("translate")
@model_option("translation")
@export_options("models/en_es/1")
def export_translate(model_path, out, force):
    """Export the translator: serving_default takes strings [batch], returns translations."""
    from apptk.applications.translation import Translator, export_translator

    path = export_translator(Translator.load(model_path), out, force=force)
    click.echo(f"SavedModel written to {path}")


@export.command("next-word")
@model_option("next-word")
@export_options("models/next_word/1")
def export_next_word(model_path, out, force):
    """Export a next-word model: serving_default takes texts [batch], returns top-5 words."""
    from apptk.applications.next_word import NextWordPredictor, export_next_word

    path = export_next_word(NextWordPredictor.load(model_path), out, force=force)
    click.echo(f"SavedModel written to {path}")


@export.command("fill-mask")
@model_option("fill-mask")
@export_options("models/fill_mask/1")
def export_fill_mask(model_path, out, force):
    """Export a masked LM: serving_default takes texts with [MASK], returns top-5 fillers."""
    from apptk.applications.fill_mask import FillMasker, export_fill_mask

    path = export_fill_mask(FillMasker.load(model_path), out, force=force)
    click.echo(f"SavedModel written to {path}")


@export.command("image")
@model_option("image")
@export_options("models/image/1")
def export_image(model_path, out, force):
    """Export an image classifier: serving_default takes image_bytes [batch] (encoded JPEG,
    PNG, GIF or BMP), returns the top-5 labels and probabilities."""
    from apptk.applications.image import ImageClassifier, export_image

    path = export_image(ImageClassifier.load(model_path), out, force=force)
    click.echo(f"SavedModel written to {path}")
