"""Tests for `apptk.layers.LSTMCell`; the checks shared by all cells live in `recurrent_checks`."""

import keras
import numpy as np
import pytest
import recurrent_checks as checks
from layer_checks import check_config_round_trip

from apptk.layers import LSTMCell

SEQUENCES = checks.random_sequences(batch=3, time=5, features=3)
DROPOUT = {"dropout": 0.3, "recurrent_dropout": 0.3}


@pytest.mark.parametrize(
    "init_kwargs",
    [
        {"units": 4},
        {"units": 4, "activation": "relu", "recurrent_activation": "hard_sigmoid"},
        {"units": 4, "use_bias": False},
    ],
)
def test_matches_keras_lstm(init_kwargs):
    checks.check_matches_keras(LSTMCell, keras.layers.LSTM, init_kwargs, SEQUENCES)


def test_matches_keras_lstm_from_initial_state():
    initial_state = [np.full((3, 4), 0.5, "float32"), np.full((3, 4), -0.5, "float32")]
    checks.check_matches_keras(
        LSTMCell, keras.layers.LSTM, {"units": 4}, SEQUENCES, initial_state=initial_state
    )


def test_input_dropout_matches_keras_lstm():
    # With input dropout only, Keras' LSTMCell also draws a single mask shared by all four gates.
    checks.check_matches_keras(
        LSTMCell,
        keras.layers.LSTM,
        {"units": 4, "dropout": 0.3, "seed": 7},
        SEQUENCES,
        training=True,
    )


def test_initial_state_is_used_and_returned():
    checks.check_initial_state_is_used_and_returned(LSTMCell, {"units": 4}, SEQUENCES)


def test_masked_steps_keep_state():
    checks.check_masked_steps_keep_state(LSTMCell, {"units": 4}, SEQUENCES, lengths=[5, 3, 1])


def test_dropout_only_in_training():
    checks.check_dropout_only_in_training(LSTMCell, {"units": 4}, SEQUENCES, DROPOUT)


def test_dropout_masks_shared_across_steps():
    checks.check_dropout_masks_shared_across_steps(LSTMCell, {"units": 4}, SEQUENCES, DROPOUT)


@pytest.mark.parametrize("unit_forget_bias", [True, False])
def test_forget_gate_bias_starts_at_one(unit_forget_bias):
    cell = LSTMCell(2, bias_initializer="zeros", unit_forget_bias=unit_forget_bias)
    cell.build((None, 3))
    forget = 1.0 if unit_forget_bias else 0.0
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(cell.bias), [0, 0, forget, forget, 0, 0, 0, 0]
    )


def test_trains_with_dropout():
    checks.check_trains_with_dropout(LSTMCell, {"units": 4}, SEQUENCES, DROPOUT)


def test_rejects_invalid_arguments():
    with pytest.raises(ValueError, match="units"):
        LSTMCell(0)
    with pytest.raises(ValueError, match="dropout"):
        LSTMCell(4, dropout=1.0)


def test_config_round_trip():
    check_config_round_trip(
        LSTMCell,
        {
            "units": 4,
            "activation": "relu",
            "recurrent_activation": "hard_sigmoid",
            "use_bias": False,
            "unit_forget_bias": False,
            "dropout": 0.1,
            "recurrent_dropout": 0.2,
            "seed": 3,
            "kernel_initializer": keras.initializers.Ones(),
        },
    )


def test_saved_model_round_trip():
    checks.check_saved_model_round_trip(LSTMCell, {"units": 4}, SEQUENCES)


def test_mixed_precision():
    checks.check_mixed_precision_run(LSTMCell, {"units": 4}, SEQUENCES)


def test_gradients_reach_every_weight():
    checks.check_gradients_reach_weights(LSTMCell, {"units": 4}, SEQUENCES)


def test_gradients_match_finite_differences():
    checks.check_gradients_match_finite_differences(LSTMCell, {"units": 2})
