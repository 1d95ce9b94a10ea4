"""Printing results: aligned text for people, JSON for programs."""

import contextlib
import json
import warnings

import click


def echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def echo_metrics(metrics: dict) -> None:
    """Prints `name  value` lines aligned on the longest name."""
    width = max(len(name) for name in metrics)
    for name, value in metrics.items():
        click.echo(f"{name:<{width}}  {value}")


@contextlib.contextmanager
def warnings_as_lines():
    """Shows the warnings raised inside (skipped files, ...) as one `Warning: ...` line each."""
    with warnings.catch_warnings():
        warnings.showwarning = lambda message, *_: click.echo(f"Warning: {message}", err=True)
        yield
