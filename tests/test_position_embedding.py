import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops
from layer_checks import run_layer_checks

from apptk.layers import PositionEmbedding


def test_common_checks():
    run_layer_checks(
        PositionEmbedding,
        {"max_length": 8, "initializer": keras.initializers.RandomNormal(seed=3)},
        np.random.rand(2, 5, 4).astype("float32"),
        (2, 5, 4),
    )


def test_weight_shape_and_values_equal_weight_rows():
    layer = PositionEmbedding(max_length=8, name="positions")
    inputs = np.random.rand(3, 5, 4).astype("float32")
    outputs = ops.convert_to_numpy(layer(inputs))
    assert [weight.path for weight in layer.weights] == ["positions/embeddings"]
    rows = ops.convert_to_numpy(layer.embeddings)
    assert rows.shape == (8, 4)
    np.testing.assert_array_equal(outputs, np.broadcast_to(rows[:5], (3, 5, 4)))
    # The values of the inputs are ignored.
    np.testing.assert_array_equal(ops.convert_to_numpy(layer(inputs * 0 + 7)), outputs)


def test_start_index_slices():
    layer = PositionEmbedding(max_length=8)
    inputs = np.zeros((2, 3, 4), "float32")
    rows = ops.convert_to_numpy(layer(np.zeros((2, 8, 4), "float32")))[0]
    shifted = layer(inputs, start_index=4)
    np.testing.assert_array_equal(ops.convert_to_numpy(shifted)[1], rows[4:7])

    @tf.function
    def decode_step(index):
        return layer(inputs[:, :1], start_index=index)

    for step in range(8):
        np.testing.assert_array_equal(
            ops.convert_to_numpy(decode_step(tf.constant(step)))[0], rows[step : step + 1]
        )


def test_too_long_input_raises():
    layer = PositionEmbedding(max_length=4)
    with pytest.raises(ValueError, match="max_length=4"):
        layer(np.zeros((1, 5, 2), "float32"))
    with pytest.raises(ValueError, match="max_length=4"):
        layer(np.zeros((1, 2, 2), "float32"), start_index=3)


def test_mask_passes_through():
    layer = PositionEmbedding(max_length=4)
    assert layer.supports_masking
    mask = np.array([[True, False]])
    np.testing.assert_array_equal(
        ops.convert_to_numpy(layer.compute_mask(np.zeros((1, 2, 3)), mask)), mask
    )


def test_mixed_precision():
    keras.config.set_dtype_policy("mixed_float16")
    layer = PositionEmbedding(max_length=4)
    outputs = layer(np.zeros((1, 3, 2), "float32"))
    assert layer.embeddings.dtype == "float32"
    assert outputs.dtype == "float16"
    np.testing.assert_allclose(
        ops.convert_to_numpy(outputs)[0].astype("float32"),
        ops.convert_to_numpy(layer.embeddings)[:3],
        atol=1e-3,
    )
