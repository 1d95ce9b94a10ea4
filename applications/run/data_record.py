"""What a run trained on, kept in its folder so that `--resume` can say when the data change.

`data.json` lists each training source as its file name, weight and size in bytes (a folder:
the bytes of the files under it). Names rather than paths, so a run resumed on another
machine with the same files at another place is not flagged.
"""

import json
import os
import warnings

from apptk.applications.run.atomic_files import write_json_atomically
from apptk.applications.run.disk_usage import folder_bytes

DATA_FILE = "data.json"


def _size(path: str) -> int | None:
    if os.path.isfile(path):
        return os.path.getsize(path)
    if os.path.isdir(path):
        return folder_bytes(path)
    return None


def describe_data(sources: list[tuple[str | None, int]]) -> list[dict]:
    """`[(path, weight)]` as `[{"file", "weight", "bytes"}]`; a None path is a download."""
    return [
        {
            "file": os.path.basename(os.path.normpath(path)) if path else "download",
            "weight": weight,
            "bytes": _size(path) if path else None,
        }
        for path, weight in sources
    ]


def _read(folder: str) -> list[dict] | None:
    try:
        with open(os.path.join(folder, DATA_FILE), encoding="utf-8") as file:
            return json.load(file)
    except (OSError, ValueError):
        return None


def _listed(description: list[dict]) -> str:
    return ", ".join(
        f"{item['file']}"
        + (f":{item['weight']}" if item["weight"] != 1 else "")
        + (f" ({item['bytes']:,} bytes)" if item["bytes"] is not None else "")
        for item in description
    )


def record_data(folder: str, sources: list[tuple[str | None, int]], resuming: bool) -> None:
    """Writes `data.json`; on resume first warns if the data differ from the recorded ones.

    A run from before this record existed has none, and is recorded from now on.
    """
    description = describe_data(sources)
    recorded = _read(folder) if resuming else None
    if recorded is not None and recorded != description:
        warnings.warn(
            f"--resume: the run in {folder} trained on {_listed(recorded)}; the remaining "
            f"epochs train on {_listed(description)}."
        )
    write_json_atomically(description, os.path.join(folder, DATA_FILE))
