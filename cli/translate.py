"""`apptk translate`: English→Spanish translation from the command line."""

import sys

import click

from apptk.cli.fast_start import prediction_command
from apptk.cli.options import (
    NewFile,
    beam_option,
    json_option,
    load_translator,
    model_option,
    split_length_option,
)
from apptk.cli.output import echo_json, warnings_as_lines


def _read_stdin() -> list[str]:
    """The lines of standard input; a line that is not UTF-8 stops everything before work."""
    from apptk.applications.text.text_files import decode_utf8

    lines = decode_utf8(sys.stdin.buffer.read(), "standard input").splitlines()
    if not any(line.strip() for line in lines):
        raise click.UsageError("Standard input holds no text to translate.")
    return lines


def _translate_lines(translator, lines: list[str], beam: int, from_stdin: bool) -> list[dict]:
    """Translates the lines; blank stdin lines come back blank, keeping line numbers."""
    filled = [i for i, line in enumerate(lines) if line.strip() or not from_stdin]
    answers = [{"translation": "", "score": None} for _ in lines]
    with click.progressbar(
        length=len(filled), label="Translating", file=sys.stderr, hidden=len(filled) <= 64
    ) as bar:
        results = translator([lines[i] for i in filled], beam_size=beam, on_batch=bar.update)
    for index, result in zip(filled, results):
        answers[index] = result
    return answers


@click.command()
@click.argument("texts", nargs=-1)
@model_option("translation")
@beam_option
@split_length_option
@json_option("Print JSON objects with scores.")
@click.option(
    "--attention-plot",
    type=NewFile(),
    default=None,
    help="Draw the cross-attention map of the first text into this PNG.",
)
def translate(texts, model_path, beam, split_length, as_json, attention_plot):
    """Translate English TEXTS to Spanish (- reads one sentence per line from stdin)."""
    prediction_command()
    if not texts:
        raise click.UsageError("Give the text to translate, or - to read lines from stdin.")
    from_stdin = texts == ("-",)
    lines = _read_stdin() if from_stdin else list(texts)
    translator = load_translator(model_path, split_length)
    with warnings_as_lines():
        answers = _translate_lines(translator, lines, beam, from_stdin)
    if as_json:
        echo_json([{"text": line, **answer} for line, answer in zip(lines, answers)])
    else:
        for answer in answers:
            click.echo(answer["translation"])
    if attention_plot:  # after the answers, which a failed drawing must not cost
        from apptk.applications.run.plots import plot_attention_map

        first = next(i for i, line in enumerate(lines) if line.strip())  # stdin may start blank
        source_tokens, target_tokens, weights = translator.cross_attention(
            lines[first], answers[first]["translation"]
        )
        plot_attention_map(source_tokens, target_tokens, weights, attention_plot)
        click.echo(f"Attention map written to {attention_plot}", err=True)
