"""`apptk fit ...`: train a pipeline's model on your data.

Each option sets one field of the pipeline's configuration; sizes that follow from others
(attention heads, feed-forward width, image size) are derived by the configuration itself.
"""

import click

from apptk.applications.arguments import AVERAGE_LAST, CONCATENATED_SHARE, KEEP_INITIAL, MAX_LENGTH
from apptk.applications.image.spec import ARCHITECTURES as IMAGE_ARCHITECTURES
from apptk.applications.models.image_backbones import BACKBONES, DEFAULT_BACKBONE
from apptk.applications.next_word.spec import ARCHITECTURES as NEXT_WORD_ARCHITECTURES
from apptk.cli.options import training_run_options
from apptk.cli.output import echo_metrics, warnings_as_lines


def _report(summary: dict, out: str) -> None:
    echo_metrics(summary)
    click.echo(f"Model written to {out}")


def _run_options(out, resume, force, strategy) -> dict:
    return {"out": out, "resume": resume, "force": force, "strategy": strategy}


@click.group()
def fit():
    """Train a model (progress bar, checkpoints, resume, TensorBoard logs, curves PNG)."""


def _given(name: str) -> bool:
    """Whether option `name` was given on the command line (not its default)."""
    source = click.get_current_context().get_parameter_source(name)
    return source is click.core.ParameterSource.COMMANDLINE


def _refuse_given_options(names: tuple[str, ...], reason: str) -> None:
    """A usage error when one of `names` was given on the command line: `reason` decides it."""
    for name in names:
        if _given(name):
            option = "--" + name.replace("_", "-")
            raise click.UsageError(f"{option} cannot be used with {reason}, which sets it.")


@fit.command("translate")
@training_run_options(default_epochs=30)
@click.option(
    "--data",
    multiple=True,
    help="Pairs file (English<TAB>Spanish, .txt or .zip); FILE:N repeats its training pairs "
    "N times; repeatable. Default: download Tatoeba.",
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
    help="WordPiece vocabulary size per language. With --init-from: learn new vocabularies "
    "of this size from --data, carrying the model's token embeddings over.",
)
@click.option(
    "--max-length",
    default=48,
    show_default=True,
    type=click.IntRange(*MAX_LENGTH),
    help="Longest sentence in word pieces the model learns; longer pairs are left out.",
)
@click.option(
    "--concatenated-share",
    default=0.0,
    show_default=True,
    type=click.FloatRange(*CONCATENATED_SHARE),
    help="Add this share of extra training pairs, each 2-4 consecutive sentence pairs joined, "
    "so long inputs are learned too (e.g. 0.3 with --max-length 96).",
)
@click.option(
    "--average-last",
    default=0,
    show_default=True,
    type=click.IntRange(*AVERAGE_LAST),
    help="Average the weights of the last N epochs at the end; kept if better on validation.",
)
@click.option(
    "--init-from",
    default=None,
    metavar="MODEL",
    help="Start from this translator's weights and vocabularies (a preset, fitted folder or "
    "export): fine-tuning. Its size replaces --hidden-dim and --layers, and its vocabularies "
    "are kept unless --vocabulary-size is given.",
)
@click.option(
    "--keep-initial",
    default=0.0,
    show_default=True,
    type=click.FloatRange(*KEEP_INITIAL),
    help="With --init-from: mix this share of the initial model's weights into the trained "
    "ones at the end (e.g. 0.5), so fine-tuning on narrow data keeps more of what it knew.",
)
@click.option(
    "--learning-rate",
    default=1e-3,
    show_default=True,
    type=click.FloatRange(0.0, 1.0, min_open=True),
    help="Peak learning rate, reached after the warm-up (lower it to fine-tune, e.g. 3e-4).",
)
def fit_translate(
    data,
    out,
    epochs,
    max_pairs,
    hidden_dim,
    layers,
    vocabulary_size,
    max_length,
    concatenated_share,
    average_last,
    init_from,
    keep_initial,
    learning_rate,
    resume,
    force,
    strategy,
):
    """Train an English→Spanish Transformer translator (or fine-tune one: --init-from)."""
    from apptk.applications.translation import TranslatorConfig, fit_translator

    if init_from:
        _refuse_given_options(("hidden_dim", "layers"), "--init-from")
    elif keep_initial:
        raise click.UsageError("--keep-initial mixes in the --init-from model; give --init-from.")

    config = TranslatorConfig(
        epochs=epochs,
        max_pairs=max_pairs,
        hidden_dim=hidden_dim,
        num_encoder_layers=layers,
        num_decoder_layers=layers,
        source_vocabulary_size=vocabulary_size,
        target_vocabulary_size=vocabulary_size,
        max_length=max_length,
        concatenated_share=concatenated_share,
        average_last=average_last,
        init_from=init_from,
        new_vocabularies=bool(init_from) and _given("vocabulary_size"),
        keep_initial=keep_initial,
        peak_learning_rate=learning_rate,
    )
    with warnings_as_lines():
        summary = fit_translator(
            list(data) or None, config=config, **_run_options(out, resume, force, strategy)
        )
    _report(summary, out)


@fit.command("next-word")
@training_run_options(default_epochs=20)
@click.argument("corpus", type=click.Path(dir_okay=False))
@click.option(
    "--cell",
    default="lstm",
    show_default=True,
    type=click.Choice(NEXT_WORD_ARCHITECTURES),
    help="Model family.",
)
@click.option(
    "--units",
    default=256,
    show_default=True,
    type=click.IntRange(4),
    help="Recurrent units / Transformer width (and the embedding size).",
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
    strategy,
):
    """Train a next-word language model on CORPUS, any UTF-8 text file."""
    from apptk.applications.next_word import NextWordConfig, fit_next_word

    config = NextWordConfig(
        cell=cell,
        epochs=epochs,
        units=units,
        num_layers=layers,
        dropout=dropout,
        vocabulary_size=vocabulary_size,
        sequence_length=sequence_length,
    )
    with warnings_as_lines():
        summary = fit_next_word(corpus, config=config, **_run_options(out, resume, force, strategy))
    _report(summary, out)


@fit.command("fill-mask")
@training_run_options(default_epochs=40)
@click.argument("corpus", type=click.Path(dir_okay=False))
@click.option(
    "--hidden-dim", default=192, show_default=True, type=click.IntRange(8), help="Model width."
)
@click.option(
    "--layers", default=4, show_default=True, type=click.IntRange(1), help="Encoder blocks."
)
@click.option(
    "--vocabulary-size",
    default=6000,
    show_default=True,
    type=click.IntRange(100),
    help="WordPiece vocabulary size.",
)
@click.option(
    "--max-length",
    default=48,
    show_default=True,
    type=click.IntRange(8),
    help="Longest sentence in tokens (longer ones are cut).",
)
def fit_fill_mask(
    corpus, out, epochs, hidden_dim, layers, vocabulary_size, max_length, resume, force, strategy
):
    """Pre-train a BERT-style masked language model on CORPUS, a UTF-8 text file."""
    from apptk.applications.fill_mask import FillMaskConfig, fit_fill_mask

    config = FillMaskConfig(
        epochs=epochs,
        hidden_dim=hidden_dim,
        num_layers=layers,
        vocabulary_size=vocabulary_size,
        max_length=max_length,
    )
    with warnings_as_lines():
        summary = fit_fill_mask(corpus, config=config, **_run_options(out, resume, force, strategy))
    _report(summary, out)


@fit.command("text-classifier")
@training_run_options(default_epochs=10)
@click.argument("data", type=click.Path(dir_okay=False))
@click.option(
    "--encoder",
    type=click.Path(),
    default=None,
    help="Pre-trained fill-mask preset, folder or export to fine-tune (default: fill_mask).",
)
@click.option(
    "--from-scratch",
    is_flag=True,
    help="Random initial weights instead (same vocabulary and size), to compare.",
)
@click.option(
    "--val",
    "validation",
    type=click.Path(dir_okay=False),
    default=None,
    help="Labelled validation file (default: 10% of DATA held out by a stable hash).",
)
@click.option(
    "--learning-rate",
    type=click.FloatRange(0, min_open=True),
    default=None,
    help="Adam learning rate (default: 1e-4 fine-tuning, 5e-4 from scratch).",
)
def fit_text_classifier(
    data, out, epochs, encoder, from_scratch, validation, learning_rate, resume, force, strategy
):
    """Fine-tune the masked-LM encoder on DATA, lines of text<TAB>label."""
    from apptk.applications.text_classifier import TextClassifierConfig, fit_text_classifier

    config = TextClassifierConfig(epochs=epochs, learning_rate=learning_rate)
    with warnings_as_lines():
        summary = fit_text_classifier(
            data,
            config=config,
            encoder=encoder,
            from_scratch=from_scratch,
            validation=validation,
            **_run_options(out, resume, force, strategy),
        )
    _report(summary, out)


@fit.command("image")
@training_run_options(default_epochs=10)
@click.argument("folder", type=click.Path(file_okay=False))
@click.option(
    "--arch",
    default="transfer",
    show_default=True,
    type=click.Choice(IMAGE_ARCHITECTURES),
    help="transfer: ImageNet backbone, new head, then fine-tuning; cnn: a small CNN from "
    "scratch (give it more epochs).",
)
@click.option(
    "--val",
    "validation",
    type=click.Path(file_okay=False),
    default=None,
    help="Validation folder, same layout (default: hold out --validation-split of FOLDER).",
)
@click.option(
    "--validation-split",
    default=0.2,
    show_default=True,
    type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
    help="Share of each class held out (by a stable hash of file names) without --val.",
)
@click.option(
    "--backbone",
    default=DEFAULT_BACKBONE,
    show_default=True,
    type=click.Choice(list(BACKBONES)),
    help="ImageNet backbone of --arch transfer.",
)
@click.option(
    "--image-size",
    type=click.IntRange(32, 1024),
    default=None,
    help="Side of the square images the model sees (default: 224 transfer, 160 cnn).",
)
@click.option(
    "--fine-tune-epochs",
    default=10,
    show_default=True,
    type=click.IntRange(0),
    help="Epochs fine-tuning the backbone's top layers after the head (transfer; 0 skips).",
)
@click.option(
    "--batch-size", default=32, show_default=True, type=click.IntRange(1), help="Batch size."
)
def fit_image(
    folder,
    out,
    epochs,
    arch,
    validation,
    validation_split,
    backbone,
    image_size,
    fine_tune_epochs,
    batch_size,
    resume,
    force,
    strategy,
):
    """Train an image classifier on FOLDER, one sub-folder of photos per class."""
    from apptk.applications.image import ImageConfig, fit_image

    config = ImageConfig(
        arch=arch,
        backbone=backbone,
        image_size=image_size,
        epochs=epochs,
        fine_tune_epochs=fine_tune_epochs,
        batch_size=batch_size,
        validation_split=validation_split,
    )
    with warnings_as_lines():
        summary = fit_image(
            folder,
            config=config,
            validation_folder=validation,
            **_run_options(out, resume, force, strategy),
        )
    _report(summary, out)
