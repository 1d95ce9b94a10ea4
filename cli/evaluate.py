"""`apptk evaluate ...`: score a model on held-out data."""

import click

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
@click.option("--model", "model_path", type=click.Path(), default=None, help=MODEL_HELP)
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
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
def evaluate_translate(data, model_path, beam, limit, as_json):
    """BLEU and chrF (sacrebleu, all references) on the test split, and sentences/s."""
    from apptk.applications.translation import Translator
    from apptk.applications.translation_evaluation import evaluate_translator

    metrics = evaluate_translator(Translator.load(model_path), data, beam_size=beam, limit=limit)
    echo_json(metrics) if as_json else echo_metrics(metrics)
