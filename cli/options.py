"""Options several commands share, declared once, with choices taken from the Python API."""

import click

from apptk.applications.run.distribution import STRATEGIES

MODEL_HELP = {
    "translation": "A preset name (apptk models), a fitted model folder or an exported "
    "SavedModel (default: the shipped en_es).",
    "next-word": "A preset name (apptk models), a fitted next-word folder or an exported "
    "SavedModel (default: the shipped next_word).",
    "fill-mask": "A preset name (apptk models), a fitted fill-mask folder or an exported "
    "SavedModel (default: the shipped fill_mask).",
    "image": "A preset name (apptk models: the ImageNet backbones), a fitted image folder or "
    "an exported SavedModel (default: the shipped ImageNet mobilenet_v2).",
    "text-classifier": "A fitted text-classifier folder (apptk fit text-classifier).",
}


def model_option(kind: str, required: bool = False):
    """`--model` of a pipeline `kind`: what it accepts, said the same way everywhere."""
    return click.option(
        "--model",
        "model_path",
        type=click.Path(),
        required=required,
        help=MODEL_HELP[kind],
    )


def beam_option(command):
    """`--beam`, the beam width of translation."""
    return click.option(
        "--beam",
        default=4,
        show_default=True,
        type=click.IntRange(1, 16),
        help="Beam width; 1 decodes greedily.",
    )(command)


def json_option(help_text: str = "Print JSON."):
    return click.option("--json", "as_json", is_flag=True, help=help_text)


def training_run_options(default_epochs: int):
    """`--out`, `--epochs`, `--resume`, `--force` and `--strategy`: every `fit` command's."""

    def decorate(command):
        for option in reversed(
            [
                click.option(
                    "--out",
                    required=True,
                    type=click.Path(file_okay=False),
                    help="Model folder to write.",
                ),
                click.option(
                    "--epochs",
                    default=default_epochs,
                    show_default=True,
                    type=click.IntRange(1),
                    help="Most epochs (early stopping may end sooner).",
                ),
                click.option(
                    "--resume", is_flag=True, help="Continue an interrupted run in --out."
                ),
                click.option(
                    "--force", is_flag=True, help="Start over, replacing a model in --out."
                ),
                click.option(
                    "--strategy",
                    default="auto",
                    show_default=True,
                    type=click.Choice(STRATEGIES),
                    help="tf.distribute strategy: auto (mirrored over several GPUs, else one "
                    "device), one-device, mirrored (this machine's GPUs), multi-worker (the "
                    "cluster in TF_CONFIG).",
                ),
            ]
        ):
            command = option(command)
        return command

    return decorate


def export_options(example: str):
    """`--out` (a TF Serving version folder) and `--force`, the options of every export."""

    def decorate(command):
        command = click.option("--force", is_flag=True, help="Replace an existing export.")(command)
        return click.option(
            "--out",
            required=True,
            type=click.Path(file_okay=False),
            help=f"Version folder to write, e.g. {example}.",
        )(command)

    return decorate
