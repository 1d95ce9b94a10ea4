"""`apptk fit ...`: train a pipeline's model on your data."""

import click

from apptk.cli.output import echo_metrics


@click.group()
def fit():
    """Train a model (progress bar, checkpoints, resume, TensorBoard logs, curves PNG)."""


@fit.command("translate")
@click.option(
    "--data",
    type=click.Path(dir_okay=False),
    default=None,
    help="Pairs file (English<TAB>Spanish, .txt or .zip); default: download Tatoeba.",
)
@click.option(
    "--out", required=True, type=click.Path(file_okay=False), help="Model folder to write."
)
@click.option(
    "--epochs",
    default=30,
    show_default=True,
    type=click.IntRange(1),
    help="Most epochs (early stopping may end sooner).",
)
@click.option(
    "--max-pairs",
    type=click.IntRange(1),
    default=None,
    help="Use only the first N pairs (quick trials).",
)
@click.option(
    "--hidden-dim", default=256, show_default=True, type=click.IntRange(8), help="Model width."
)
@click.option(
    "--layers",
    default=2,
    show_default=True,
    type=click.IntRange(1),
    help="Encoder and decoder blocks each.",
)
@click.option(
    "--vocabulary-size",
    default=6000,
    show_default=True,
    type=click.IntRange(100),
    help="WordPiece vocabulary size per language.",
)
@click.option("--resume", is_flag=True, help="Continue an interrupted run in --out.")
@click.option("--force", is_flag=True, help="Overwrite a finished model in --out.")
def fit_translate(data, out, epochs, max_pairs, hidden_dim, layers, vocabulary_size, resume, force):
    """Train an English→Spanish Transformer translator."""
    from apptk.applications.translation_training import TranslatorConfig, fit_translator

    config = TranslatorConfig(
        epochs=epochs,
        max_pairs=max_pairs,
        hidden_dim=hidden_dim,
        intermediate_dim=4 * hidden_dim,
        num_heads=max(1, hidden_dim // 64),
        num_encoder_layers=layers,
        num_decoder_layers=layers,
        source_vocabulary_size=vocabulary_size,
        target_vocabulary_size=vocabulary_size,
    )
    summary = fit_translator(out, data=data, config=config, force=force, resume=resume)
    echo_metrics(summary)
    click.echo(f"Model written to {out}")
