"""Options several commands share, declared once."""

import click


def model_option(help_text: str):
    return click.option("--model", "model_path", type=click.Path(), default=None, help=help_text)


def json_option(help_text: str = "Print JSON."):
    return click.option("--json", "as_json", is_flag=True, help=help_text)


def training_run_options(default_epochs: int):
    """`--out`, `--epochs`, `--resume` and `--force`, the options of every `fit` command."""

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


def strategy_option(command):
    """`--strategy`, how every `fit` command spreads training over devices and machines."""
    return click.option(
        "--strategy",
        default="auto",
        show_default=True,
        type=click.Choice(["auto", "one-device", "mirrored", "multi-worker"]),
        help="tf.distribute strategy: auto (mirrored over several GPUs, else one device), "
        "one-device, mirrored (this machine's GPUs), multi-worker (the cluster in TF_CONFIG).",
    )(command)
