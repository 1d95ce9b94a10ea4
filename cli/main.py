"""The `apptk` command: a thin Click shell over the Python API."""

import os
import sys

import click

from apptk import __version__
from apptk.applications.errors import ApptkError, RunFinishedError, first_line
from apptk.cli.classify import classify
from apptk.cli.evaluate import evaluate
from apptk.cli.export import export
from apptk.cli.fast_start import exit_now_if_prediction, keep_pyplot_out_of_startup
from apptk.cli.fill_mask import classify_text, fill_mask
from apptk.cli.fit import fit
from apptk.cli.models import models
from apptk.cli.next_word import generate, next_word
from apptk.cli.quiet import silence_native_stderr, silence_tensorflow_logging
from apptk.cli.serve import serve
from apptk.cli.translate import translate


class OneLineUsageError(click.UsageError):
    """A usage error said in one line, with where to read more (Click prints three)."""

    def show(self, file=None) -> None:
        where = f" (see '{self.ctx.command_path} --help')" if self.ctx else ""
        click.echo(f"Error: {self.format_message()}{where}", err=True, file=file)


def one_line_usage_error(error: click.UsageError) -> OneLineUsageError:
    return OneLineUsageError(error.format_message(), error.ctx)


class ApptkGroup(click.Group):
    """Click group that turns every error into one line unless `--verbose`."""

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except OneLineUsageError:
            raise
        except click.UsageError as error:
            raise one_line_usage_error(error) from error

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except OneLineUsageError:
            raise
        except click.UsageError as error:
            raise one_line_usage_error(error) from error
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except RunFinishedError as finished:
            click.echo(str(finished), err=True)
            ctx.exit(0)
        except ApptkError as error:
            raise click.ClickException(str(error)) from error
        except BrokenPipeError:
            # The reader went away (`apptk ... | head`): nothing more to say, and no one to say it to.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(141)
        except OSError as error:
            if ctx.obj and ctx.obj.get("verbose"):
                raise
            where = f": {error.filename}" if error.filename else ""
            raise click.ClickException(f"{error.strerror or error}{where}") from error
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)
        except Exception as error:
            if ctx.obj and ctx.obj.get("verbose"):
                raise
            raise click.ClickException(
                f"{type(error).__name__}: {first_line(error)} (run with --verbose for details)"
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
    keep_pyplot_out_of_startup()
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
    serve,
):
    apptk.add_command(command)
