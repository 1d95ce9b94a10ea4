"""Tests for `apptk.layers.GRUCell`; the checks shared by all cells live in `recurrent_checks`."""

import keras
import numpy as np
import pytest
import recurrent_checks as checks
from layer_checks import check_config_round_trip

from apptk.layers import GRUCell

SEQUENCES = checks.random_sequences(batch=3, time=5, features=3)
DROPOUT = {"dropout": 0.3, "recurrent_dropout": 0.3}
RESET_AFTER = pytest.mark.parametrize("reset_after", [True, False])


@RESET_AFTER
@pytest.mark.parametrize(
    "extra_kwargs",
    [{}, {"activation": "relu", "recurrent_activation": "hard_sigmoid"}, {"use_bias": False}],
)
def test_matches_keras_gru(reset_after, extra_kwargs):
    init_kwargs = {"units": 4, "reset_after": reset_after, **extra_kwargs}
    checks.check_matches_keras(GRUCell, keras.layers.GRU, init_kwargs, SEQUENCES)


@RESET_AFTER
def test_matches_keras_gru_from_initial_state(reset_after):
    checks.check_matches_keras(
        GRUCell,
        keras.layers.GRU,
        {"units": 4, "reset_after": reset_after},
        SEQUENCES,
        initial_state=[np.full((3, 4), 0.5, "float32")],
    )


def test_input_dropout_matches_keras_gru():
    # With input dropout only, Keras' GRUCell also draws a single mask shared by all three gates.
    checks.check_matches_keras(
        GRUCell,
        keras.layers.GRU,
        {"units": 4, "dropout": 0.3, "seed": 7},
        SEQUENCES,
        training=True,
    )


@pytest.mark.parametrize("reset_after, bias_shape", [(True, (2, 12)), (False, (12,))])
def test_weight_shapes(reset_after, bias_shape):
    cell = GRUCell(4, reset_after=reset_after)
    cell.build((None, 3))
    assert tuple(cell.kernel.shape) == (3, 12)
    assert tuple(cell.recurrent_kernel.shape) == (4, 12)
    assert tuple(cell.bias.shape) == bias_shape


def test_initial_state_is_used_and_returned():
    checks.check_initial_state_is_used_and_returned(GRUCell, {"units": 4}, SEQUENCES)


@RESET_AFTER
def test_masked_steps_keep_state(reset_after):
    checks.check_masked_steps_keep_state(
        GRUCell, {"units": 4, "reset_after": reset_after}, SEQUENCES, lengths=[5, 3, 1]
    )


def test_dropout_only_in_training():
    checks.check_dropout_only_in_training(GRUCell, {"units": 4}, SEQUENCES, DROPOUT)


@RESET_AFTER
def test_dropout_masks_shared_across_steps(reset_after):
    checks.check_dropout_masks_shared_across_steps(
        GRUCell, {"units": 4, "reset_after": reset_after}, SEQUENCES, DROPOUT
    )


def test_trains_with_dropout():
    checks.check_trains_with_dropout(GRUCell, {"units": 4}, SEQUENCES, DROPOUT)


def test_rejects_invalid_arguments():
    with pytest.raises(ValueError, match="units"):
        GRUCell(-1)
    with pytest.raises(ValueError, match="dropout"):
        GRUCell(4, recurrent_dropout=-0.1)


def test_config_round_trip():
    check_config_round_trip(
        GRUCell,
        {
            "units": 4,
            "activation": "relu",
            "recurrent_activation": "hard_sigmoid",
            "use_bias": False,
            "reset_after": False,
            "dropout": 0.1,
            "recurrent_dropout": 0.2,
            "seed": 3,
            "recurrent_initializer": keras.initializers.Zeros(),
        },
    )


def test_saved_model_round_trip():
    checks.check_saved_model_round_trip(GRUCell, {"units": 4}, SEQUENCES)


def test_mixed_precision():
    checks.check_mixed_precision_run(GRUCell, {"units": 4}, SEQUENCES)


@RESET_AFTER
def test_gradients_reach_every_weight(reset_after):
    checks.check_gradients_reach_weights(
        GRUCell, {"units": 4, "reset_after": reset_after}, SEQUENCES
    )
