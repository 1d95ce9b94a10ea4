"""`apptk next-word` and `apptk generate`: language-model predictions from the command line."""

import click

from apptk.applications.arguments import LENGTH, SAMPLING_TOP_K, SEED, TEMPERATURE, TOP_K, TOP_P
from apptk.cli.fast_start import prediction_command
from apptk.cli.options import json_option, model_option
from apptk.cli.output import echo_json


def _load(model_path, text):
    from apptk.applications.next_word import NextWordPredictor

    prediction_command()
    predictor = NextWordPredictor.load(model_path)
    if not predictor.has_known_words(text):
        click.echo(
            "Note: the text holds no words the model reads; predicting from scratch.", err=True
        )
    return predictor


@click.command("next-word")
@click.argument("text")
@model_option("next-word")
@click.option(
    "--top-k",
    default=5,
    show_default=True,
    type=click.IntRange(*TOP_K),
    help="How many words to list.",
)
@json_option("Print JSON.")
def next_word(text, model_path, top_k, as_json):
    """List the most likely next words after TEXT, with probabilities."""
    predictions = _load(model_path, text)([text], top_k=top_k)[0]
    if as_json:
        echo_json(predictions)
        return
    width = max(len(p["word"]) for p in predictions)
    for prediction in predictions:
        click.echo(f"{prediction['word']:<{width}}  {prediction['probability']:.4f}")


@click.command()
@click.argument("text")
@model_option("next-word")
@click.option(
    "--length",
    default=20,
    show_default=True,
    type=click.IntRange(*LENGTH),
    help="Words to generate.",
)
@click.option(
    "--temperature",
    default=1.0,
    show_default=True,
    type=click.FloatRange(*TEMPERATURE),
    help="Sampling temperature; 0 picks the likeliest word each step.",
)
@click.option(
    "--top-k",
    default=0,
    show_default=True,
    type=click.IntRange(*SAMPLING_TOP_K),
    help="Sample among the k likeliest words (0: no limit).",
)
@click.option(
    "--top-p",
    default=1.0,
    show_default=True,
    type=click.FloatRange(*TOP_P),
    help="Sample among the likeliest words whose probabilities sum to p.",
)
@click.option(
    "--seed", default=0, show_default=True, type=click.IntRange(*SEED), help="Random seed."
)
def generate(text, model_path, length, temperature, top_k, top_p, seed):
    """Continue TEXT by sampling words from the language model."""
    predictor = _load(model_path, text)
    click.echo(predictor.generate(text, length, temperature, top_k, top_p, seed))
