"""Averaging the last epochs' weights: the files kept, the mean, and what a run keeps."""

import os

import h5py
import keras
import numpy as np
import tensorflow as tf
from conftest import TINY_TRANSLATOR

from apptk.applications.run.averaging import average_recent_weights, averaged_weights
from apptk.applications.run.checkpoints import RecentWeights, recent_weight_files
from apptk.applications.translation import TranslatorConfig, fit_translator


def tiny_regression(seed: int = 0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    inputs = np.random.default_rng(seed).normal(size=(64, 3)).astype("float32")
    return model, inputs, inputs.sum(axis=1, keepdims=True)


def test_only_the_last_epochs_are_kept(tmp_path):
    model, x, y = tiny_regression()
    model.fit(x, y, epochs=5, verbose=0, callbacks=[RecentWeights(str(tmp_path), keep=3)])
    assert [os.path.basename(p) for p in recent_weight_files(str(tmp_path))] == [
        "epoch_003.weights.h5",
        "epoch_004.weights.h5",
        "epoch_005.weights.h5",
    ]


def test_the_average_is_the_mean_of_every_variable_over_the_files(tmp_path):
    model, x, y = tiny_regression()
    model.fit(x, y, epochs=3, verbose=0, callbacks=[RecentWeights(str(tmp_path), keep=3)])
    paths = recent_weight_files(str(tmp_path))
    per_file = []
    for path in paths:
        model.load_weights(path)
        per_file.append([w.numpy() for w in model.weights])
    expected = [np.mean([values[i] for values in per_file], axis=0) for i in range(4)]
    assert not np.allclose(per_file[0][0], per_file[2][0])  # the epochs differ
    for got, want in zip(averaged_weights(model, paths), expected):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_the_average_is_kept_only_when_its_validation_loss_is_lower(tmp_path):
    model, x, y = tiny_regression()
    model.fit(x, y, epochs=3, verbose=0, callbacks=[RecentWeights(str(tmp_path), keep=3)])
    current = [w.numpy() for w in model.weights]
    validation = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    refused = average_recent_weights(model, str(tmp_path), validation, best_loss=0.0)
    assert refused["kept"] == "best" and refused["averaged_epochs"] == 3
    for weight, value in zip(model.weights, current):
        np.testing.assert_array_equal(weight.numpy(), value)
    expected = averaged_weights(model, recent_weight_files(str(tmp_path)))
    taken = average_recent_weights(model, str(tmp_path), validation, best_loss=1e9)
    assert taken["kept"] == "average"
    assert taken["averaged_val_loss"] == refused["averaged_val_loss"]
    for weight, value in zip(model.weights, expected):
        np.testing.assert_allclose(weight.numpy(), value, rtol=1e-6)
    assert average_recent_weights(model, str(tmp_path / "none"), validation, 1.0) == {}


def h5_values(path: str) -> list[np.ndarray]:
    values = []
    with h5py.File(path, "r") as handle:
        handle.visititems(
            lambda name, item: values.append(item[()]) if isinstance(item, h5py.Dataset) else None
        )
    return values


def test_a_translator_run_keeps_the_average_or_its_best_epoch(tmp_path, synthetic_pairs_file):
    config = TranslatorConfig(**{**TINY_TRANSLATOR, "epochs": 4, "average_last": 3})
    folder = tmp_path / "averaged"
    summary = fit_translator(synthetic_pairs_file, str(folder), config)
    assert summary["averaged_epochs"] == 3
    checkpoints = folder / "checkpoints"
    assert len(recent_weight_files(str(checkpoints))) == 3
    kept = h5_values(str(folder / "model.weights.h5"))
    best = h5_values(str(checkpoints / "best.weights.h5"))
    same_as_best = all(np.array_equal(a, b) for a, b in zip(kept, best))
    assert same_as_best == (summary["kept"] == "best")
