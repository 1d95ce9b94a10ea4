"""Tests for `apptk.layers.SimpleRNNCell`; the checks shared by all cells live in `recurrent_checks`."""

import keras
import numpy as np
import pytest
import recurrent_checks as checks
from keras import ops
from layer_checks import check_config_round_trip

from apptk.layers import SimpleRNNCell

SEQUENCES = checks.random_sequences(batch=3, time=5, features=3)
DROPOUT = {"dropout": 0.3, "recurrent_dropout": 0.3}


@pytest.mark.parametrize(
    "init_kwargs",
    [{"units": 4}, {"units": 4, "activation": "relu"}, {"units": 4, "use_bias": False}],
)
def test_matches_keras_simple_rnn(init_kwargs):
    checks.check_matches_keras(SimpleRNNCell, keras.layers.SimpleRNN, init_kwargs, SEQUENCES)


def test_matches_keras_simple_rnn_from_initial_state():
    checks.check_matches_keras(
        SimpleRNNCell,
        keras.layers.SimpleRNN,
        {"units": 4},
        SEQUENCES,
        initial_state=[np.full((3, 4), 0.5, "float32")],
    )


def test_dropout_matches_keras_simple_rnn():
    # Keras' SimpleRNNCell draws one input mask and one state mask per sequence, as this cell does.
    checks.check_matches_keras(
        SimpleRNNCell,
        keras.layers.SimpleRNN,
        {"units": 4, **DROPOUT, "seed": 7},
        SEQUENCES,
        training=True,
    )


def test_initial_state_is_used_and_returned():
    checks.check_initial_state_is_used_and_returned(SimpleRNNCell, {"units": 4}, SEQUENCES)


def test_masked_steps_keep_state():
    checks.check_masked_steps_keep_state(SimpleRNNCell, {"units": 4}, SEQUENCES, lengths=[5, 3, 1])


def test_dropout_only_in_training():
    checks.check_dropout_only_in_training(SimpleRNNCell, {"units": 4}, SEQUENCES, DROPOUT)


def test_dropout_masks_shared_across_steps():
    checks.check_dropout_masks_shared_across_steps(SimpleRNNCell, {"units": 4}, SEQUENCES, DROPOUT)


def test_state_dropout_mask_visible_and_constant_over_time():
    # With h_t = h_{t-1} * mask (identity recurrence, no input, linear), units dropped at the first
    # step stay zero and kept units double (1 / (1 - 0.5)) at every step.
    cell = SimpleRNNCell(
        6,
        activation=None,
        use_bias=False,
        kernel_initializer="zeros",
        recurrent_initializer="identity",
        recurrent_dropout=0.5,
        seed=11,
    )
    rnn = keras.layers.RNN(cell, return_sequences=True)
    steps = 4
    outputs = ops.convert_to_numpy(
        rnn(
            np.zeros((8, steps, 2), "float32"),
            initial_state=[np.ones((8, 6), "float32")],
            training=True,
        )
    )
    kept = outputs[:, 0] != 0
    assert 0 < kept.mean() < 1
    for t in range(steps):
        np.testing.assert_allclose(outputs[:, t], np.where(kept, 2.0 ** (t + 1), 0.0))


def test_trains_with_dropout():
    checks.check_trains_with_dropout(SimpleRNNCell, {"units": 4}, SEQUENCES, DROPOUT)


def test_rejects_invalid_arguments():
    with pytest.raises(ValueError, match="units"):
        SimpleRNNCell(0)
    with pytest.raises(ValueError, match="dropout"):
        SimpleRNNCell(4, dropout=1.5)


def test_config_round_trip():
    check_config_round_trip(
        SimpleRNNCell,
        {
            "units": 4,
            "activation": "relu",
            "use_bias": False,
            "dropout": 0.1,
            "recurrent_dropout": 0.2,
            "seed": 3,
            "bias_initializer": keras.initializers.Constant(0.5),
        },
    )


def test_saved_model_round_trip():
    checks.check_saved_model_round_trip(SimpleRNNCell, {"units": 4}, SEQUENCES)


def test_mixed_precision():
    checks.check_mixed_precision_run(SimpleRNNCell, {"units": 4}, SEQUENCES)


def test_gradients_reach_every_weight():
    checks.check_gradients_reach_weights(SimpleRNNCell, {"units": 4}, SEQUENCES)
