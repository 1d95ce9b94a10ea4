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


def echo_table(rows: dict[str, dict]) -> None:
    """One aligned row per named result, one column per metric of the first (None: `-`)."""
    columns = list(next(iter(rows.values())))
    table = [["set", *columns]] + [
        [name, *("-" if value is None else str(value) for value in row.values())]
        for name, row in rows.items()
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for line in table:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())


@contextlib.contextmanager
def warnings_as_lines():
    """Shows the warnings raised inside (skipped files, ...) as one `Warning: ...` line each."""
    with warnings.catch_warnings():
        warnings.showwarning = lambda message, *_: click.echo(f"Warning: {message}", err=True)
        yield
