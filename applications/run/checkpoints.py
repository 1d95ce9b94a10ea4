"""Checkpoint callbacks whose files are never half-written (see `atomic_files`)."""

import json
import os
import re

import keras

from apptk.applications.run.atomic_files import (
    save_weights_atomically,
    weights_bytes,
    write_bytes_atomically,
)


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras' `BackupAndRestore`, writing the backup through temporary files.

    Both files of an epoch's backup (weights, then the epoch number) are prepared in memory
    and renamed into place, so a failed write leaves the previous epoch's backup usable.
    """

    def _save_model(self):
        weights = weights_bytes(self.model)
        metadata = json.dumps({"epoch": self._current_epoch, "batch": self._last_batch_seen})
        write_bytes_atomically(weights, self._weights_path)
        write_bytes_atomically(metadata.encode("utf-8"), self._training_metadata_path)


class BestWeightsCheckpoint(keras.callbacks.Callback):
    """Saves the weights whenever the monitored validation loss improves (atomically).

    Args:
        path: the `.weights.h5` file.
        monitor: the log to minimise.
        initial_best: the best value of earlier epochs (a resumed run), which a new epoch
            must beat before it replaces their checkpoint.
    """

    def __init__(self, path: str, monitor: str = "val_loss", initial_best: float | None = None):
        super().__init__()
        self.path = path
        self.monitor = monitor
        self.best = initial_best

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or (self.best is not None and float(value) >= self.best):
            return
        self.best = float(value)
        save_weights_atomically(self.model, self.path)


class RecentWeights(keras.callbacks.Callback):
    """Keeps the weights of the last `keep` epochs as `epoch_NNN.weights.h5` in `folder`, for
    averaging them once training ends (`averaging.average_recent_weights`).

    Args:
        folder: where the files go (the run's `checkpoints/`).
        keep: how many of the latest epochs to keep; older files are deleted.
    """

    def __init__(self, folder: str, keep: int):
        super().__init__()
        self.folder = folder
        self.keep = keep

    def on_epoch_end(self, epoch, logs=None):
        save_weights_atomically(self.model, epoch_weights_path(self.folder, epoch + 1))
        for old in recent_weight_files(self.folder)[: -self.keep]:
            os.remove(old)


def epoch_weights_path(folder: str, epoch: int) -> str:
    return os.path.join(folder, f"epoch_{epoch:03d}.weights.h5")


def recent_weight_files(folder: str) -> list[str]:
    """The kept epochs' weight files, oldest first."""
    if not os.path.isdir(folder):
        return []
    names = sorted(n for n in os.listdir(folder) if _EPOCH_FILE.fullmatch(n))
    return [os.path.join(folder, name) for name in names]


_EPOCH_FILE = re.compile(r"epoch_\d{3,}\.weights\.h5")
