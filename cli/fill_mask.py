"""`apptk fill-mask` and `apptk classify-text`: masked-LM and text-classifier predictions."""

import click

from apptk.applications.arguments import TOP_K
from apptk.cli.fast_start import prediction_command
from apptk.cli.options import json_option, model_option
from apptk.cli.output import echo_json


@click.command("fill-mask")
@click.argument("text")
@model_option("fill-mask")
@click.option(
    "--top-k",
    default=5,
    show_default=True,
    type=click.IntRange(*TOP_K),
    help="How many fillers to list for each [MASK].",
)
@json_option("Print JSON: for each [MASK], a list of {token, probability}.")
def fill_mask(text, model_path, top_k, as_json):
    """List the likeliest words for each [MASK] in TEXT, with probabilities."""
    from apptk.applications.fill_mask import FillMasker

    prediction_command()
    masker = FillMasker.load(model_path)
    masks = masker([text], top_k=top_k)[0]
    if as_json:
        echo_json(masks)
        return
    for number, fillers in enumerate(masks, start=1):
        if len(masks) > 1:
            click.echo(f"[MASK] {number}:")
        width = max(len(filler["token"]) for filler in fillers)
        for filler in fillers:
            click.echo(f"  {filler['token']:<{width}}  {filler['probability']:.4f}")
    click.echo(masker.fill(text, masks))


@click.command("classify-text")
@click.argument("texts", nargs=-1, required=True)
@model_option("text-classifier", required=True)
@json_option("Print JSON: for each text, every label with its probability.")
def classify_text(texts, model_path, as_json):
    """Label each of TEXTS with a fitted text classifier."""
    from apptk.applications.text_classifier import TextClassifier

    prediction_command()
    results = TextClassifier.load(model_path)(list(texts))
    if as_json:
        echo_json(results)
        return
    for text, labels in zip(texts, results):
        best = labels[0]
        click.echo(f"{best['label']}  {best['probability']:.4f}  {text}")
