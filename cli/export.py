"""`apptk export ...`: write TF Serving SavedModels."""

import click

from apptk.cli.next_word import MODEL_HELP as NEXT_WORD_MODEL_HELP
from apptk.cli.options import export_options, model_option
from apptk.cli.translate import MODEL_HELP


@click.group()
def export():
    """Export a model as a SavedModel that TF Serving serves as is."""


@export.command("translate")
@model_option(MODEL_HELP)
@export_options("models/en_es/1")
def export_translate(model_path, out, force):
    """Export the translator: serving_default takes strings [batch], returns translations."""
    from apptk.applications.translation import Translator, export_translator

    path = export_translator(Translator.load(model_path), out, force=force)
    click.echo(f"SavedModel written to {path}")


@export.command("next-word")
@model_option(NEXT_WORD_MODEL_HELP)
@export_options("models/next_word/1")
def export_next_word(model_path, out, force):
    """Export a next-word model: serving_default takes texts [batch], returns top-5 words."""
    from apptk.applications.next_word import NextWordPredictor, export_next_word

    path = export_next_word(NextWordPredictor.load(model_path), out, force=force)
    click.echo(f"SavedModel written to {path}")
