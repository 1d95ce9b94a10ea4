"""Checkpoint callbacks whose files are never half-written (see `atomic_files`)."""

import json

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
