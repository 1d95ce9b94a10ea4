"""`apptk models`: the presets, the models known by name."""

import click

from apptk.applications.run.presets import DEFAULT_PRESETS, PRESETS
from apptk.cli.options import json_option
from apptk.cli.output import echo_json


def _size(preset) -> str:
    size = preset.size_bytes()
    return "download" if size is None else f"{size / 1e6:.1f} MB"


@click.command()
@json_option("Print the presets as JSON.")
def models(as_json):
    """List the models known by name: the shipped ones and the downloadable ImageNet ones.

    Pass a name as --model (apptk translate --model en_es ...) or to load() in Python.
    """
    defaults = set(DEFAULT_PRESETS.values())
    rows = [
        {
            "name": preset.name,
            "kind": preset.kind,
            "default": preset.name in defaults,
            "size": _size(preset),
            "description": preset.description,
            "licence": preset.licence,
        }
        for preset in PRESETS.values()
    ]
    if as_json:
        echo_json(rows)
        return
    name_width = max(len(row["name"]) for row in rows)
    kind_width = max(len(row["kind"]) for row in rows)
    for row in rows:
        marker = "*" if row["default"] else " "
        click.echo(
            f"{marker} {row['name']:<{name_width}}  {row['kind']:<{kind_width}}  "
            f"{row['size']:>8}  {row['description']}"
        )
    click.echo("\n* the default of its pipeline. Licences: apptk models --json.")
