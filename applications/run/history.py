"""`history.csv`: one row per finished epoch, rewritten whole (never half-written) each epoch."""

import csv
import io
import math
import os

import keras

from apptk.applications.run.atomic_files import write_text_atomically

HISTORY_FILE = "history.csv"


def _read_rows(path: str) -> dict[int, dict[str, str]]:
    """The rows of `path` by epoch; a resumed epoch's row replaces its first try."""
    if not os.path.exists(path):
        return {}
    with open(path, newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if (row.get("epoch") or "").isdigit()]
    return {int(row["epoch"]): row for row in rows}


def read_history(folder: str) -> dict[str, list[float]]:
    """Reads `history.csv` into columns, in epoch order."""
    by_epoch = _read_rows(os.path.join(folder, HISTORY_FILE))
    columns: dict[str, list[float]] = {}
    for epoch in sorted(by_epoch):
        for name, value in by_epoch[epoch].items():
            if name != "epoch" and value not in ("", None):
                columns.setdefault(name, []).append(float(value))
    return columns


def best_validation_loss(folder: str) -> float | None:
    """The lowest validation loss `folder`'s history records, None before the first epoch."""
    return min(read_history(folder).get("val_loss", []), default=None)


def epochs_done(folder: str) -> int:
    """How many epochs `folder`'s history records."""
    return len(_read_rows(os.path.join(folder, HISTORY_FILE)))


class HistoryFile(keras.callbacks.Callback):
    """Records each finished epoch's logs in `history.csv` (Keras' `CSVLogger`, made atomic).

    The whole file is rewritten through a temporary file, so a full disk or a crash leaves
    the previous epochs' file intact.

    Args:
        path: the CSV file; rows already there (an interrupted run) are kept.
    """

    def __init__(self, path: str):
        super().__init__()
        self.path = path

    def on_epoch_end(self, epoch, logs=None):
        rows = _read_rows(self.path)
        rows[epoch] = {"epoch": str(epoch)} | {
            name: _format(value) for name, value in (logs or {}).items()
        }
        columns = ["epoch"] + sorted({name for row in rows.values() for name in row} - {"epoch"})
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for index in sorted(rows):
            writer.writerow(rows[index])
        write_text_atomically(buffer.getvalue(), self.path)


def _format(value) -> str:
    number = float(value)
    return "" if math.isnan(number) else repr(number)
