"""Mixing a fine-tuned model with the one it started from (`keep_initial`): the formula, what a
translator run keeps, and the errors for a share that could not mean anything."""

import h5py
import numpy as np
import pytest
from cli_checks import invoke
from conftest import TINY_TRANSLATOR
from test_weight_averaging import tiny_regression

from apptk.applications.errors import DataError
from apptk.applications.run.averaging import blended_weights, keep_initial_weights
from apptk.applications.run.model_folder import BEST_CHECKPOINT, INITIAL_WEIGHTS, WEIGHTS_FILE
from apptk.applications.translation import TranslatorConfig, fit_translator


def test_the_blend_is_the_weighted_mean_of_the_two_points(tmp_path):
    model, x, y = tiny_regression()
    start = [w.numpy() for w in model.weights]
    path = str(tmp_path / "start.weights.h5")
    model.save_weights(path)
    model.fit(x, y, epochs=3, verbose=0)
    trained = [w.numpy() for w in model.weights]
    assert not np.allclose(trained[0], start[0])
    blended = blended_weights(model, path, 0.3)
    for got, a, b in zip(blended, trained, start):
        np.testing.assert_allclose(got, 0.7 * a + 0.3 * b, rtol=1e-6)
    for weight, value in zip(model.weights, trained):  # the model itself is unchanged
        np.testing.assert_array_equal(weight.numpy(), value)


def test_keeping_initial_weights_that_are_missing_is_a_clear_error(tmp_path):
    model, _, _ = tiny_regression()
    with pytest.raises(DataError, match="initial weights.*missing"):
        keep_initial_weights(model, str(tmp_path / "none.weights.h5"), 0.5)


def h5_arrays(path) -> list[np.ndarray]:
    """The model's arrays in a weights file, the optimizer's left out."""
    arrays = []

    def collect(name, item):
        if isinstance(item, h5py.Dataset) and not name.startswith("optimizer"):
            arrays.append(item[()])

    with h5py.File(path, "r") as handle:
        handle.visititems(collect)
    return arrays


def test_a_fine_tuned_translator_keeps_the_asked_share_of_its_start(
    tiny_translator_folder, synthetic_pairs_file, tmp_path
):
    config = TranslatorConfig(
        **{**TINY_TRANSLATOR, "epochs": 1, "peak_learning_rate": 1e-2},
        init_from=tiny_translator_folder,
        keep_initial=0.25,
    )
    folder = tmp_path / "tuned"
    summary = fit_translator(synthetic_pairs_file, str(folder), config)
    assert summary["kept_initial"] == 0.25 and np.isfinite(summary["blended_val_loss"])
    for start, saved in zip(
        h5_arrays(f"{tiny_translator_folder}/{WEIGHTS_FILE}"), h5_arrays(folder / INITIAL_WEIGHTS)
    ):
        np.testing.assert_array_equal(saved, start)
    trained = h5_arrays(folder / BEST_CHECKPOINT)
    kept = h5_arrays(folder / WEIGHTS_FILE)
    start = h5_arrays(folder / INITIAL_WEIGHTS)
    assert any(not np.allclose(a, b) for a, b in zip(trained, start))  # training moved it
    for got, a, b in zip(kept, trained, start):
        if np.issubdtype(got.dtype, np.floating):
            np.testing.assert_allclose(got, 0.75 * a + 0.25 * b, rtol=1e-5, atol=1e-7)


def test_keep_initial_without_an_initial_model_is_refused(tmp_path, synthetic_pairs_file):
    with pytest.raises(DataError, match="give init_from"):
        TranslatorConfig(keep_initial=0.5)
    with pytest.raises(DataError, match="keep_initial must be between"):
        TranslatorConfig(init_from="en_es", keep_initial=1.0)
    out = tmp_path / "tuned"
    result = invoke(
        "fit",
        "translate",
        "--keep-initial",
        "0.5",
        "--data",
        synthetic_pairs_file,
        "--out",
        str(out),
    )
    assert result.exit_code == 2 and "give --init-from" in result.output
    assert not out.exists()
