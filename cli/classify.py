"""`apptk classify`: name what is in photos, with probabilities."""

import sys

import click

from apptk.applications.arguments import BATCH_SIZE, TOP_K
from apptk.cli.fast_start import prediction_command
from apptk.cli.options import NewFile, json_option, model_option
from apptk.cli.output import echo_json


def _echo_predictions(predictions: list[dict], indent: str = "") -> None:
    width = max(len(prediction["label"]) for prediction in predictions)
    for prediction in predictions:
        click.echo(f"{indent}{prediction['label']:<{width}}  {prediction['probability']:.4f}")


@click.command()
@click.argument("images", nargs=-1, required=True)
@model_option("image")
@click.option(
    "--top-k",
    default=5,
    show_default=True,
    type=click.IntRange(*TOP_K),
    help="How many labels to list per image.",
)
@click.option(
    "--batch-size",
    default=32,
    show_default=True,
    type=click.IntRange(*BATCH_SIZE),
    help="Images per model call.",
)
@json_option("Print JSON: each file with its labels and probabilities, or its error.")
@click.option(
    "--explain",
    type=NewFile(),
    default=None,
    help="Draw a Grad-CAM heat map of the first image's top class into this PNG.",
)
@click.pass_context
def classify(ctx, images, model_path, top_k, batch_size, as_json, explain):
    """Name what is in IMAGES: files, folders or glob patterns (JPEG, PNG, GIF, BMP).

    A file that cannot be read gets a one-line error and the others are still answered;
    the exit status is then 1.
    """
    from apptk.applications.image import ImageClassifier
    from apptk.applications.image.data import expand_image_paths

    prediction_command()
    paths, results = expand_image_paths(list(images))
    if paths:
        classifier = ImageClassifier.load(model_path)
        with click.progressbar(
            length=len(paths), label="Classifying", file=sys.stderr, hidden=len(paths) <= 32
        ) as bar:
            results += classifier.classify_files(
                paths, top_k=top_k, batch_size=batch_size, on_batch=bar.update
            )
        answered = [result["file"] for result in results if "predictions" in result]
        if explain and answered:
            explanation = classifier.explain(answered[0], plot_path=explain)
            click.echo(
                f"Grad-CAM heat map of {explanation['label']!r} for {answered[0]} written to "
                f"{explain}",
                err=True,
            )
    if as_json:
        echo_json(results)
    elif len(results) == 1 and "predictions" in results[0]:
        _echo_predictions(results[0]["predictions"])
    else:
        for result in results:
            if "predictions" in result:
                click.echo(result["file"])
                _echo_predictions(result["predictions"], indent="  ")
    errors = [result["error"] for result in results if "error" in result]
    for error in errors:
        click.echo(f"Error: {error}", err=True)
    if errors:
        ctx.exit(1)
