import keras
import numpy as np
import pytest
from keras import ops
from layer_checks import run_layer_checks

from apptk.layers import FeedForward

INPUTS = np.random.default_rng(0).standard_normal((2, 3, 4)).astype("float32")


@pytest.mark.parametrize("dropout", [0.0, 0.2])
def test_common_checks(dropout):
    run_layer_checks(
        FeedForward,
        {"intermediate_dim": 8, "activation": "gelu", "dropout": dropout},
        INPUTS,
        (2, 3, 4),
    )


@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_values_match_numpy(activation):
    layer = FeedForward(8, activation=activation, name="ffn")
    outputs = ops.convert_to_numpy(layer(INPUTS))
    assert sorted(weight.path for weight in layer.weights) == [
        "ffn/inner_dense/bias",
        "ffn/inner_dense/kernel",
        "ffn/output_dense/bias",
        "ffn/output_dense/kernel",
    ]
    inner_kernel, inner_bias, output_kernel, output_bias = layer.get_weights()
    assert inner_kernel.shape == (4, 8) and output_kernel.shape == (8, 4)
    activation_fn = keras.activations.get(activation)
    hidden = ops.convert_to_numpy(activation_fn(INPUTS @ inner_kernel + inner_bias))
    np.testing.assert_allclose(outputs, hidden @ output_kernel + output_bias, atol=1e-5)


def test_dropout_only_in_training():
    layer = FeedForward(64, dropout=0.5)
    inference = ops.convert_to_numpy(layer(INPUTS, training=False))
    np.testing.assert_array_equal(inference, ops.convert_to_numpy(layer(INPUTS)))
    without_dropout = FeedForward(64)
    without_dropout(INPUTS)
    without_dropout.set_weights(layer.get_weights())
    np.testing.assert_allclose(inference, ops.convert_to_numpy(without_dropout(INPUTS)), atol=1e-6)
    training = ops.convert_to_numpy(layer(INPUTS, training=True))
    assert np.max(np.abs(training - inference)) > 1e-3


def test_keeps_the_padding_mask():
    embedded = keras.layers.Embedding(10, 4, mask_zero=True)(np.array([[3, 5, 0]]))
    outputs = FeedForward(8)(embedded)
    np.testing.assert_array_equal(ops.convert_to_numpy(outputs._keras_mask), [[True, True, False]])
