"""`apptk evaluate ...`: score a model on held-out data."""

import click

from apptk.cli.next_word import MODEL_HELP as NEXT_WORD_MODEL_HELP
from apptk.cli.options import json_option, model_option
from apptk.cli.output import echo_json, echo_metrics
from apptk.cli.translate import MODEL_HELP


@click.group()
def evaluate():
    """Score a model on held-out data."""


@evaluate.command("translate")
@click.option(
    "--data",
    type=click.Path(dir_okay=False),
    default=None,
    help="Pairs file; its test split is scored (default: download Tatoeba).",
)
@model_option(MODEL_HELP)
@click.option(
    "--beam",
    default=4,
    show_default=True,
    type=click.IntRange(1, 16),
    help="Beam width; 1 decodes greedily.",
)
@click.option(
    "--limit", type=click.IntRange(1), default=None, help="Score only the first N test sentences."
)
@json_option("Print the metrics as JSON.")
def evaluate_translate(data, model_path, beam, limit, as_json):
    """BLEU and chrF (sacrebleu, all references) on the test split, and sentences/s."""
    from apptk.applications.translation import Translator
    from apptk.applications.translation_evaluation import evaluate_translator

    metrics = evaluate_translator(Translator.load(model_path), data, beam_size=beam, limit=limit)
    echo_json(metrics) if as_json else echo_metrics(metrics)


@evaluate.command("next-word")
@click.argument("file", type=click.Path(dir_okay=False))
@model_option(NEXT_WORD_MODEL_HELP)
@json_option("Print the metrics as JSON.")
def evaluate_next_word(file, model_path, as_json):
    """Perplexity and top-1/top-5 next-word accuracy on the lines of FILE."""
    from apptk.applications.next_word import NextWordPredictor
    from apptk.applications.next_word_evaluation import evaluate_next_word

    metrics = evaluate_next_word(NextWordPredictor.load(model_path), file)
    echo_json(metrics) if as_json else echo_metrics(metrics)
