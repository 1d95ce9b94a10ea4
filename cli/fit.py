"""`apptk fit ...`: train a pipeline's model on your data."""

import click

from apptk.cli.options import training_run_options
from apptk.cli.output import echo_metrics


@click.group()
def fit():
    """Train a model (progress bar, checkpoints, resume, TensorBoard logs, curves PNG)."""


@fit.command("translate")
@training_run_options(default_epochs=30)
@click.option(
    "--data",
    type=click.Path(dir_okay=False),
    default=None,
    help="Pairs file (English<TAB>Spanish, .txt or .zip); default: download Tatoeba.",
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


@fit.command("next-word")
@training_run_options(default_epochs=20)
@click.argument("corpus", type=click.Path(dir_okay=False))
@click.option(
    "--cell",
    default="lstm",
    show_default=True,
    type=click.Choice(["rnn", "lstm", "gru", "transformer"]),
    help="Model family.",
)
@click.option(
    "--units",
    default=256,
    show_default=True,
    type=click.IntRange(4),
    help="Recurrent units / Transformer width.",
)
@click.option(
    "--layers", default=2, show_default=True, type=click.IntRange(1), help="Stacked layers."
)
@click.option(
    "--dropout",
    default=0.3,
    show_default=True,
    type=click.FloatRange(0.0, 0.9),
    help="Dropout between layers.",
)
@click.option(
    "--vocabulary-size",
    default=10_000,
    show_default=True,
    type=click.IntRange(10),
    help="Most words kept (the rest become [UNK]).",
)
@click.option(
    "--sequence-length",
    default=35,
    show_default=True,
    type=click.IntRange(2),
    help="Truncated-BPTT window (Transformer context).",
)
def fit_next_word(
    corpus,
    out,
    cell,
    epochs,
    units,
    layers,
    dropout,
    vocabulary_size,
    sequence_length,
    resume,
    force,
):
    """Train a next-word language model on CORPUS, any UTF-8 text file."""
    from apptk.applications.next_word_training import NextWordConfig, fit_next_word

    config = NextWordConfig(
        cell=cell,
        epochs=epochs,
        embedding_dim=units,
        units=units,
        num_layers=layers,
        num_heads=max(1, units // 64),
        dropout=dropout,
        vocabulary_size=vocabulary_size,
        sequence_length=sequence_length,
    )
    summary = fit_next_word(corpus, out, config, force=force, resume=resume)
    echo_metrics(summary)
    click.echo(f"Model written to {out}")
