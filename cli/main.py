"""The `apptk` command: a thin Click shell over the Python API."""

import click

from apptk import __version__
from apptk.applications.errors import ApptkError
from apptk.cli.classify import classify
from apptk.cli.evaluate import evaluate
from apptk.cli.export import export
from apptk.cli.fast_start import exit_now_if_prediction
from apptk.cli.fill_mask import classify_text, fill_mask
from apptk.cli.fit import fit
from apptk.cli.models import models
from apptk.cli.next_word import generate, next_word
from apptk.cli.quiet import silence_native_stderr, silence_tensorflow_logging
from apptk.cli.translate import translate


class ApptkGroup(click.Group):
    """Click group that turns unexpected errors into one line unless `--verbose`."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except ApptkError as error:
            raise click.ClickException(str(error)) from error
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)
        except Exception as error:
            if ctx.obj and ctx.obj.get("verbose"):
                raise
            message = str(error).strip().splitlines()
            detail = message[0] if message else type(error).__name__
            raise click.ClickException(
                f"{type(error).__name__}: {detail} (run with --verbose for details)"
            ) from error


@click.group(cls=ApptkGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="apptk")
@click.option(
    "--verbose",
    is_flag=True,
    default=False,
    help="Show TensorFlow's logs and full tracebacks.",
)
@click.pass_context
def apptk(ctx: click.Context, verbose: bool) -> None:
    """apptk: Keras pipelines for translation, next-word prediction, fill-mask and images."""
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
    if not verbose:
        silence_tensorflow_logging()
        if ctx.obj.get("console"):
            silence_native_stderr()


def main() -> None:
    """Console-script entry point."""
    try:
        # `console`: this process owns the terminal, so its stderr descriptor may be redirected.
        apptk(prog_name="apptk", obj={"console": True})
    except SystemExit as done:
        exit_now_if_prediction(done.code)
        raise


for command in (
    translate,
    next_word,
    generate,
    fill_mask,
    classify_text,
    classify,
    fit,
    evaluate,
    export,
    models,
):
    apptk.add_command(command)
