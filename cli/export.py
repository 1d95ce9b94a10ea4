"""`apptk export ...`: write TF Serving SavedModels."""

import click

from apptk.cli.translate import MODEL_HELP


@click.group()
def export():
    """Export a model as a SavedModel that TF Serving serves as is."""


@export.command("translate")
@click.option("--model", "model_path", type=click.Path(), default=None, help=MODEL_HELP)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False),
    help="Version folder to write, e.g. models/en_es/1.",
)
@click.option("--force", is_flag=True, help="Replace an existing export.")
def export_translate(model_path, out, force):
    """Export the translator: serving_default takes strings [batch], returns translations."""
    from apptk.applications.translation import Translator, export_translator

    path = export_translator(Translator.load(model_path), out, force=force)
    click.echo(f"SavedModel written to {path}")
