"""The training machinery every pipeline shares: callbacks, resume, curves, atomic saving."""

import os
import time

import keras

from apptk.applications.run.atomic_files import (
    make_folder,
    save_figure_atomically,
    save_weights_atomically,
)
from apptk.applications.run.averaging import average_recent_weights, keep_initial_weights
from apptk.applications.run.checkpoints import (
    AtomicBackupAndRestore,
    BestWeightsCheckpoint,
    RecentWeights,
)
from apptk.applications.run.history import (
    HISTORY_FILE,
    HistoryFile,
    best_validation_loss,
    read_history,
)
from apptk.applications.run.model_folder import BEST_CHECKPOINT, INITIAL_WEIGHTS, WEIGHTS_FILE

CURVES_FILE = "training_curves.png"


def training_callbacks(
    folder: str,
    patience: int,
    backup: bool = True,
    writes_files: bool = True,
    average_last: int = 0,
) -> list[keras.callbacks.Callback]:
    """Checkpoint every epoch (resumed after an interrupt), early stopping, logs.

    `BackupAndRestore` keeps the latest epoch's full training state under `folder/backup` so
    an interrupted run restarted with the same command continues where it stopped; the best
    weights so far are kept in `folder/checkpoints/best.weights.h5`. Every file is written
    through a temporary name (`atomic_files`), so a failed write keeps the last good one.

    Args:
        folder: the model folder.
        patience: epochs without a better validation loss before stopping.
        backup: include `BackupAndRestore` (the multi-worker loop backs up by itself).
        writes_files: False on the workers of a cluster other than the chief, which keep
            only early stopping.
        average_last: keep the weights of this many last epochs in `folder/checkpoints`,
            to average them when training ends (0 or 1: none).
    """
    early_stopping = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=patience, restore_best_weights=True
    )
    if not writes_files:
        return [early_stopping]
    best = os.path.join(folder, BEST_CHECKPOINT)
    make_folder(os.path.dirname(best))
    # A resumed run must not let its first epoch overwrite a better earlier checkpoint.
    callbacks = [
        BestWeightsCheckpoint(best, initial_best=best_validation_loss(folder)),
        early_stopping,
        HistoryFile(os.path.join(folder, HISTORY_FILE)),
        keras.callbacks.TensorBoard(os.path.join(folder, "logs")),
    ]
    if average_last > 1:
        callbacks.append(RecentWeights(os.path.dirname(best), keep=average_last))
    if backup:
        backup_folder = os.path.join(folder, "backup")
        callbacks.insert(0, AtomicBackupAndRestore(backup_folder, delete_checkpoint=False))
    return callbacks


def fit_and_save(
    model: keras.Model,
    train,
    validation,
    folder: str,
    epochs: int,
    patience: int,
    strategy=None,
    chief_folder: str | None = None,
    average_last: int = 0,
    keep_initial: float = 0.0,
):
    """Trains with the shared callbacks, then keeps the best epoch as the model, or the
    average of the last `average_last` epochs when that has a lower validation loss, and
    mixes in `keep_initial` of the weights the run started from.

    Args:
        model: a compiled model, built under `strategy.scope()` when there is a strategy.
        train: the training dataset (global batches).
        validation: the validation dataset.
        folder: this process's model folder (a scratch folder on non-chief workers).
        epochs: most epochs.
        patience: early-stopping patience.
        strategy: the `tf.distribute` strategy; a multi-worker one trains with
            `fit_across_workers` (Keras' `fit` cannot run under it), others with `model.fit`.
        chief_folder: the chief's model folder, whose backup every worker resumes from
            (default: `folder`).
        average_last: average the weights of this many last epochs (`run/averaging.py`);
            0 or 1, or training across workers: no averaging.
        keep_initial: the share of the initial weights (`folder/checkpoints/initial.weights.h5`,
            written when fine-tuning started) in the kept model (`averaging.keep_initial_weights`);
            its validation loss is reported as `blended_val_loss`.

    Returns:
        A summary: epochs run by this call, the whole run's best validation loss, wall
        seconds, parameters. On the chief
        the model folder gets `model.weights.h5` (atomically) and `training_curves.png`.
    """
    from apptk.applications.run import distribution

    started = time.perf_counter()
    chief = distribution.is_chief(strategy)
    if strategy is not None and distribution.is_multi_worker(strategy):
        from apptk.applications.run.multi_worker_training import fit_across_workers

        callbacks = training_callbacks(folder, patience, backup=False, writes_files=chief)
        backup_folder = os.path.join(chief_folder or folder, "backup")
        history = fit_across_workers(
            model, train, validation, epochs, callbacks, strategy, backup_folder
        )
    else:
        history = model.fit(
            train,
            validation_data=validation,
            epochs=epochs,
            callbacks=training_callbacks(folder, patience, average_last=average_last),
            verbose=1,
        )
    seconds = time.perf_counter() - started
    best = os.path.join(folder, BEST_CHECKPOINT)
    validation_losses = history.history.get("val_loss", [])
    # The kept model may come from before a resume: its loss is the whole run's best.
    run_best = best_validation_loss(folder) if chief else None
    summary = {
        "epochs": len(validation_losses),
        "best_val_loss": min(validation_losses, default=None) if run_best is None else run_best,
        "seconds": seconds,
        "parameters": model.count_params(),
    }
    if chief and os.path.exists(best):
        model.load_weights(best)
    if chief and average_last > 1 and not distribution.is_multi_worker(strategy):
        summary.update(
            average_recent_weights(
                model, os.path.dirname(best), validation, summary["best_val_loss"]
            )
        )
    if chief and keep_initial > 0:
        single = not distribution.is_multi_worker(strategy)
        initial = os.path.join(folder, INITIAL_WEIGHTS)
        summary.update(
            keep_initial_weights(model, initial, keep_initial, validation if single else None)
        )
    if chief:
        save_weights_atomically(model, os.path.join(folder, WEIGHTS_FILE))
        plot_training_curves(folder)
    return summary


def plot_training_curves(folder: str) -> str:
    """Draws each metric's training and validation curve into `training_curves.png`."""
    from apptk.applications.run.plots import pyplot

    plt = pyplot()

    history = read_history(folder)
    metrics = [name for name in history if not name.startswith("val_") and name != "learning_rate"]
    figure, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.6), squeeze=False)
    for axis, name in zip(axes[0], metrics):
        epochs = range(1, len(history[name]) + 1)
        axis.plot(epochs, history[name], marker="o", label="train")
        if f"val_{name}" in history:
            axis.plot(epochs, history[f"val_{name}"], marker="o", label="validation")
        axis.set_xlabel("epoch")
        axis.set_title(name)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    return save_figure_atomically(figure, os.path.join(folder, CURVES_FILE), dpi=100)
