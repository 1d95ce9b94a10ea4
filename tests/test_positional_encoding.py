import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops
from layer_checks import run_layer_checks

from apptk.layers import PositionalEncoding


def reference_encoding(positions, depth, base=10000.0):
    """The closed form of Vaswani et al. (2017), computed in float64 numpy."""
    encoding = np.zeros((len(positions), depth))
    for row, position in enumerate(positions):
        for channel in range(depth):
            i = channel // 2
            angle = position / base ** (2 * i / depth)
            encoding[row, channel] = np.sin(angle) if channel % 2 == 0 else np.cos(angle)
    return encoding


@pytest.mark.parametrize("add_to_inputs", [True, False])
def test_common_checks(add_to_inputs):
    run_layer_checks(
        PositionalEncoding,
        {"max_length": 16, "add_to_inputs": add_to_inputs, "base": 100.0},
        np.random.rand(2, 5, 6).astype("float32"),
        (2, 5, 6),
        expect_trainable_weights=False,
    )


def test_has_no_weights():
    layer = PositionalEncoding(max_length=8)
    layer(np.zeros((1, 4, 6), "float32"))
    assert layer.weights == []


@pytest.mark.parametrize("depth", [6, 5])
def test_values_match_closed_form(depth):
    inputs = np.random.rand(2, 7, depth).astype("float32")
    want = reference_encoding(range(7), depth)
    encoding = PositionalEncoding(max_length=32, add_to_inputs=False)(inputs)
    np.testing.assert_allclose(
        ops.convert_to_numpy(encoding), np.broadcast_to(want, inputs.shape), atol=1e-5
    )
    added = PositionalEncoding(max_length=32)(inputs)
    np.testing.assert_allclose(ops.convert_to_numpy(added), inputs + want, atol=1e-5)


def test_base_and_start_index_offset():
    inputs = np.zeros((1, 4, 8), "float32")
    encoding = PositionalEncoding(max_length=64, base=50.0)(inputs, start_index=10)
    np.testing.assert_allclose(
        ops.convert_to_numpy(encoding)[0],
        reference_encoding(range(10, 14), 8, base=50.0),
        atol=1e-5,
    )


def test_step_by_step_decoding_equals_full_sequence():
    inputs = np.random.rand(2, 6, 4).astype("float32")
    layer = PositionalEncoding(max_length=8)
    full = ops.convert_to_numpy(layer(inputs))

    @tf.function
    def decode_step(step_inputs, index):
        return layer(step_inputs, start_index=index)

    for step in range(6):
        step_inputs = inputs[:, step : step + 1]
        eager = layer(step_inputs, start_index=step)
        traced = decode_step(step_inputs, tf.constant(step))
        np.testing.assert_allclose(ops.convert_to_numpy(eager), full[:, step : step + 1], rtol=1e-6)
        np.testing.assert_allclose(
            ops.convert_to_numpy(traced), full[:, step : step + 1], rtol=1e-6
        )


def test_too_long_input_raises():
    layer = PositionalEncoding(max_length=4)
    with pytest.raises(ValueError, match="max_length=4"):
        layer(np.zeros((1, 5, 2), "float32"))
    with pytest.raises(ValueError, match="max_length=4"):
        layer(np.zeros((1, 2, 2), "float32"), start_index=3)
    with pytest.raises(ValueError, match="max_length=4"):
        PositionalEncoding(max_length=4)(keras.Input((5, 2)))
    layer(np.zeros((1, 4, 2), "float32"))


def test_mask_passes_through():
    inputs = keras.Input((None, 3))
    masked = keras.layers.Masking(mask_value=0.0)(inputs)
    encoded = PositionalEncoding(max_length=8)(masked)
    assert encoded._keras_mask is not None
    data = np.ones((1, 4, 3), "float32")
    data[0, 2:] = 0.0
    mask = keras.layers.Masking(mask_value=0.0).compute_mask(data)
    layer = PositionalEncoding(max_length=8)
    np.testing.assert_array_equal(
        ops.convert_to_numpy(layer.compute_mask(data, mask)), [[True, True, False, False]]
    )


def test_mixed_precision():
    keras.config.set_dtype_policy("mixed_float16")
    encoding = PositionalEncoding(max_length=16, add_to_inputs=False)(
        np.zeros((1, 5, 4), "float32")
    )
    assert encoding.dtype == "float16"
    np.testing.assert_allclose(
        ops.convert_to_numpy(encoding)[0].astype("float64"),
        reference_encoding(range(5), 4),
        atol=1e-3,
    )
