"""`apptk evaluate ...`: score a model on held-out data."""

import click

from apptk.cli.options import (
    NewFile,
    beam_option,
    json_option,
    load_translator,
    model_option,
    split_length_option,
)
from apptk.cli.output import echo_json, echo_metrics, echo_table, warnings_as_lines


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
@click.option(
    "--test",
    "test_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="A test file (English<TAB>Spanish lines), scored whole beside the test split; "
    "repeatable. E.g. TICO-19.",
)
@model_option("translation")
@beam_option
@split_length_option
@click.option(
    "--limit", type=click.IntRange(1), default=None, help="Score only the first N sentences."
)
@json_option("Print the metrics as JSON.")
def evaluate_translate(data, test_files, model_path, beam, split_length, limit, as_json):
    """BLEU and chrF (sacrebleu, all references, its default tokenisation) on the test split
    and on each --test file, sentences/s and the share of sentences too long for the model."""
    from apptk.applications.translation import evaluate_translator

    translator = load_translator(model_path, split_length)
    with warnings_as_lines():
        results = {"test split": evaluate_translator(translator, data, beam, limit)}
        for path in test_files:
            results[path] = evaluate_translator(
                translator, beam_size=beam, limit=limit, test_file=path
            )
    if as_json:
        echo_json(results if test_files else results["test split"])
    elif not test_files:
        echo_metrics(results["test split"])
    else:
        signatures = {row.pop("signature") for row in results.values()}
        echo_table(results)
        click.echo("sacrebleu: " + "; ".join(sorted(signatures)))


@evaluate.command("next-word")
@click.argument("file", type=click.Path(dir_okay=False))
@model_option("next-word")
@json_option("Print the metrics as JSON.")
def evaluate_next_word(file, model_path, as_json):
    """Perplexity and top-1/top-5 next-word accuracy on the lines of FILE."""
    from apptk.applications.next_word import NextWordPredictor, evaluate_next_word

    metrics = evaluate_next_word(NextWordPredictor.load(model_path), file)
    echo_json(metrics) if as_json else echo_metrics(metrics)


@evaluate.command("fill-mask")
@click.argument("file", type=click.Path(dir_okay=False))
@model_option("fill-mask")
@click.option("--limit", type=click.IntRange(1), default=None, help="Score only the first N lines.")
@json_option("Print the metrics as JSON.")
def evaluate_fill_mask(file, model_path, limit, as_json):
    """Masked-token accuracy and pseudo-perplexity on the lines of FILE."""
    from apptk.applications.fill_mask import FillMasker, evaluate_fill_mask

    metrics = evaluate_fill_mask(FillMasker.load(model_path), file, limit=limit)
    echo_json(metrics) if as_json else echo_metrics(metrics)


@evaluate.command("text-classifier")
@click.argument("file", type=click.Path(dir_okay=False))
@model_option("text-classifier", required=True)
@json_option("Print the metrics as JSON.")
def evaluate_text_classifier(file, model_path, as_json):
    """Accuracy and per-label precision/recall on FILE, lines of text<TAB>label."""
    from apptk.applications.text_classifier import TextClassifier, evaluate_text_classifier

    metrics = evaluate_text_classifier(TextClassifier.load(model_path), file)
    echo_json(metrics) if as_json else echo_metrics(metrics)


def _ratio_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


@evaluate.command("image")
@click.argument("folder", type=click.Path(file_okay=False))
@model_option("image")
@click.option(
    "--confusion-matrix",
    "plot_path",
    type=NewFile(),
    default="confusion_matrix.png",
    show_default=True,
    help="Where to draw the confusion matrix.",
)
@json_option("Print the metrics, per-class scores and confusion matrix as JSON.")
def evaluate_image(folder, model_path, plot_path, as_json):
    """Accuracy, per-class precision/recall and a confusion-matrix PNG on FOLDER, one
    sub-folder of photos per class."""
    from apptk.applications.image import ImageClassifier, evaluate_image_classifier

    with warnings_as_lines():
        classifier = ImageClassifier.load(model_path)
        metrics = evaluate_image_classifier(classifier, folder, plot_path=plot_path)
    if as_json:
        echo_json(metrics)
        return
    echo_metrics(
        {name: metrics[name] for name in ("images", "accuracy", "images_per_second")}
        | {"confusion_matrix": metrics["confusion_matrix_png"]}
    )
    width = max(len("class"), *(len(label) for label in metrics["per_class"]))
    click.echo(f"\n{'class':<{width}}  precision  recall  support")
    for label, scores in metrics["per_class"].items():
        click.echo(
            f"{label:<{width}}  {_ratio_text(scores['precision']):>9}  "
            f"{_ratio_text(scores['recall']):>6}  {scores['support']:>7}"
        )
