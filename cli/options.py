"""Options several commands share, declared once, with choices taken from the Python API."""

import functools
import os

import click
from click.core import ParameterSource

from apptk.applications.arguments import BEAM_SIZE
from apptk.applications.run.cluster_connection import DEFAULT_TIMEOUT_SECONDS
from apptk.applications.run.distribution import STRATEGIES
from apptk.applications.run.model_folder import check_export_destination, saved_run_values

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


class NewFile(click.Path):
    """A file the command will write: its folder must exist and be writable, checked before
    any work so a typo never costs a computed answer."""

    def __init__(self):
        super().__init__(dir_okay=False)

    def convert(self, value, param, ctx):
        path = super().convert(value, param, ctx)
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            self.fail(f"the folder {folder} does not exist.", param, ctx)
        if not os.access(folder, os.W_OK):
            self.fail(f"the folder {folder} cannot be written.", param, ctx)
        return path


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
        type=click.IntRange(*BEAM_SIZE),
        help="Beam width; 1 decodes greedily.",
    )(command)


def split_length_option(command):
    """`--split-length`, how long a sentence may be before translation goes clause by clause."""
    return click.option(
        "--split-length",
        default=None,
        type=click.IntRange(1),
        help="Translate sentences longer than this many word pieces clause by clause "
        "(default: 32, or the model's maximum if shorter; at most that maximum).",
    )(command)


def load_translator(model_path: str | None, split_length: int | None):
    """The translator of `--model` splitting at `--split-length`; a length over the model's
    maximum is that option's usage error."""
    from apptk.applications.translation import Translator

    translator = Translator.load(model_path)
    if split_length is None:
        return translator
    if split_length > translator.max_length:
        raise click.BadParameter(
            f"at most the model's maximum length, {translator.max_length}; got {split_length}.",
            param_hint="'--split-length'",
        )
    return Translator(translator.module, split_length)


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
                    help="Most epochs (early stopping may end sooner); with --resume the "
                    "new total, by default the saved run's.",
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
                click.option(
                    "--cluster-timeout",
                    type=click.FloatRange(min=1),
                    default=None,
                    help="With --strategy multi-worker: seconds to wait for every worker of "
                    f"TF_CONFIG to connect  [default: {DEFAULT_TIMEOUT_SECONDS:.0f}]",
                ),
            ]
        ):
            command = option(command)
        return command

    return lambda command: decorate(_prepared_run(command))


RESUMED_LENGTHS = ("epochs", "fine_tune_epochs")


def _prepared_run(fit_command):
    """What every `fit` settles before the pipeline runs: on `--resume`, a training length
    left at its default is the saved run's (a given one is the new total, even if it equals
    the default); `--cluster-timeout` only with multi-worker; and the cluster joined first
    (a multi-worker strategy must exist before any other TensorFlow work)."""

    @functools.wraps(fit_command)
    def prepared(*args, strategy, cluster_timeout, **kwargs):
        if kwargs["resume"]:
            saved = saved_run_values(kwargs["out"], forced=kwargs["force"])
            context = click.get_current_context()
            for name in RESUMED_LENGTHS:
                source = context.get_parameter_source(name)
                if name in kwargs and name in saved and source is ParameterSource.DEFAULT:
                    kwargs[name] = saved[name]
        if cluster_timeout is not None and strategy != "multi-worker":
            raise click.UsageError("--cluster-timeout applies only to --strategy multi-worker.")
        if strategy == "multi-worker":
            from apptk.applications.run.distribution import strategy_for

            strategy = strategy_for(strategy, cluster_timeout or DEFAULT_TIMEOUT_SECONDS)
        return fit_command(*args, strategy=strategy, **kwargs)

    return prepared


def export_options(example: str):
    """`--out` (a TF Serving version folder) and `--force`, the options of every export.

    The destination is checked before the command loads its model, so a wrong `--out` fails
    at once instead of after the export has been built.
    """

    def decorate(command):
        run_export = command

        @functools.wraps(run_export)
        def checked_first(*args, out, force, **kwargs):
            check_export_destination(out, force)
            return run_export(*args, out=out, force=force, **kwargs)

        command = click.option("--force", is_flag=True, help="Replace an existing export.")(
            checked_first
        )
        return click.option(
            "--out",
            required=True,
            type=click.Path(file_okay=False),
            help=f"Version folder to write, e.g. {example}.",
        )(command)

    return decorate
