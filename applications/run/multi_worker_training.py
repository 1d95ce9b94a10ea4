"""Synchronous training across workers: Keras' own train/test steps run with `strategy.run`.

Keras 3.15's `model.fit` cannot run under `MultiWorkerMirroredStrategy` on TensorFlow 2.21:
before the first epoch it reduces a whole data batch across workers with
`strategy.reduce("MEAN", (x, y))`, and after each step it reduces the scalar logs with
`axis=0`; both raise "Attempt to convert a value (PerReplica ...) to a Tensor" / "Invalid
reduction dimension". This loop is TensorFlow's documented custom-training-loop route for
the strategy: the dataset is distributed with `experimental_distribute_dataset` (sharded per
worker, the global batch split across replicas), each step is the model's own
`train_step` / `test_step` under `strategy.run`, and logs are averaged over replicas. The
same Keras callbacks (progress bar, checkpoints, early stopping, CSV, TensorBoard) are called.

The backup (last finished epoch's weights) is written by the chief alone and read by every
worker at start, so a restarted cluster resumes after its last completed epoch.
"""

import json
import os

import keras
import tensorflow as tf

from apptk.applications.run import distribution
from apptk.applications.run.atomic_files import (
    make_folder,
    save_weights_atomically,
    write_json_atomically,
)

BACKUP_WEIGHTS = "latest.weights.h5"
BACKUP_STATE = "training_metadata.json"


def _build_training_state(model: keras.Model, dataset: tf.data.Dataset, strategy) -> None:
    """Creates the optimizer, loss and metric variables once, outside the replicated step."""
    x, y = next(iter(dataset))[:2]
    with strategy.scope():
        y_pred = model(x, training=False)
        model.compute_loss(x, y, y_pred)
        model.compute_metrics(x, y, y_pred, sample_weight=None)
        model.optimizer.build(model.trainable_variables)
    model.reset_metrics()


def _restore_backup(model: keras.Model, backup_folder: str) -> int:
    """Loads the last backed-up epoch's weights; returns the number of epochs it finished."""
    state_path = os.path.join(backup_folder, BACKUP_STATE)
    if not os.path.exists(state_path):
        return 0
    with open(state_path, encoding="utf-8") as handle:
        epoch = int(json.load(handle)["epoch"])
    model.load_weights(os.path.join(backup_folder, BACKUP_WEIGHTS))
    return epoch


def _save_backup(model: keras.Model, backup_folder: str, epochs_done: int) -> None:
    make_folder(backup_folder)
    save_weights_atomically(model, os.path.join(backup_folder, BACKUP_WEIGHTS))
    write_json_atomically({"epoch": epochs_done}, os.path.join(backup_folder, BACKUP_STATE))


def _as_floats(logs: dict) -> dict:
    return {name: float(value) for name, value in logs.items()}


def fit_across_workers(
    model: keras.Model,
    train: tf.data.Dataset,
    validation: tf.data.Dataset,
    epochs: int,
    callbacks: list,
    strategy: tf.distribute.Strategy,
    backup_folder: str,
) -> keras.callbacks.History:
    """Trains `model` (built and compiled under `strategy.scope()`) like `model.fit`.

    Args:
        model: the compiled model.
        train: the global-batch training dataset (every worker builds the same one).
        validation: the validation dataset.
        epochs: the epoch to stop at (counting epochs finished before a restart).
        callbacks: Keras callbacks; give file-writing ones to the chief only.
        strategy: a `MultiWorkerMirroredStrategy` (any strategy works).
        backup_folder: the chief's backup folder, which every worker reads at start.

    Returns:
        The `History` of the epochs run by this call.
    """
    chief = distribution.is_chief(strategy)
    _build_training_state(model, train, strategy)
    initial_epoch = _restore_backup(model, backup_folder)
    train_batches = strategy.experimental_distribute_dataset(train)
    validation_batches = strategy.experimental_distribute_dataset(validation)

    def replicated(step):
        @tf.function
        def run(batch):
            logs = strategy.run(step, args=(batch,))
            return {name: strategy.reduce("MEAN", value, axis=None) for name, value in logs.items()}

        return run

    train_step, test_step = replicated(model.train_step), replicated(model.test_step)
    steps = int(train.cardinality()) if train.cardinality() > 0 else None
    callback_list = keras.callbacks.CallbackList(
        callbacks,
        add_history=True,
        add_progbar=chief,
        model=model,
        epochs=epochs,
        steps=steps,
        verbose=1,
    )
    model.stop_training = False
    callback_list.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        callback_list.on_epoch_begin(epoch)
        logs = {}
        for step, batch in enumerate(train_batches):
            callback_list.on_train_batch_begin(step)
            logs = _as_floats(train_step(batch))
            callback_list.on_train_batch_end(step, logs)
        model.reset_metrics()
        validation_logs = {}
        for batch in validation_batches:
            validation_logs = _as_floats(test_step(batch))
        logs.update({f"val_{name}": value for name, value in validation_logs.items()})
        callback_list.on_epoch_end(epoch, logs)
        if chief:
            _save_backup(model, backup_folder, epoch + 1)
        if model.stop_training:
            break
    callback_list.on_train_end(logs)
    return model.history
