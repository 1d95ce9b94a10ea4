import keras
import numpy as np
import pytest
from keras import ops
from layer_checks import run_layer_checks

from apptk.layers import ConvBlock

IMAGES = np.random.default_rng(0).normal(size=(2, 6, 6, 3)).astype("float32")


@pytest.mark.parametrize(
    "init_kwargs, expected_shape",
    [
        ({"filters": 4}, (2, 3, 3, 4)),
        ({"filters": 4, "use_batch_norm": True, "dropout": 0.25}, (2, 3, 3, 4)),
        ({"filters": 4, "use_batch_norm": True, "batch_norm_momentum": 0.9}, (2, 3, 3, 4)),
        (
            {
                "filters": 4,
                "kernel_size": (3, 3),
                "pool_size": None,
                "padding": "valid",
                "activation": "gelu",
            },
            (2, 4, 4, 4),
        ),
    ],
)
def test_common_checks(init_kwargs, expected_shape):
    run_layer_checks(
        ConvBlock,
        init_kwargs,
        IMAGES,
        expected_shape,
    )


@pytest.mark.parametrize(
    "init_kwargs, expected_shape",
    [
        ({"pool_size": 2}, (2, 3, 3, 5)),
        ({"pool_size": 3}, (2, 2, 2, 5)),
        ({"pool_size": None}, (2, 6, 6, 5)),
        ({"pool_size": 0}, (2, 6, 6, 5)),
        ({"pool_size": 2, "use_batch_norm": True}, (2, 3, 3, 5)),
        ({"pool_size": 0, "use_batch_norm": True, "padding": "valid"}, (2, 4, 4, 5)),
        ({"kernel_size": 1, "padding": "valid"}, (2, 3, 3, 5)),
    ],
)
def test_output_shape(init_kwargs, expected_shape):
    layer = ConvBlock(5, **init_kwargs)
    assert tuple(layer(IMAGES).shape) == expected_shape
    assert tuple(layer.compute_output_shape(IMAGES.shape)) == expected_shape
    assert (layer.pooling is None) == (not init_kwargs.get("pool_size", 2))


def test_batch_norm_replaces_conv_bias():
    plain, normalized = ConvBlock(4), ConvBlock(4, use_batch_norm=True, name="block")
    plain(IMAGES)
    normalized(IMAGES)
    assert plain.conv.use_bias and plain.batch_norm is None
    assert not normalized.conv.use_bias and normalized.batch_norm.momentum == 0.99
    assert ConvBlock(4, use_batch_norm=True, batch_norm_momentum=0.9).batch_norm.momentum == 0.9
    assert [weight.path for weight in normalized.trainable_weights] == [
        "block/conv/kernel",
        "block/batch_norm/gamma",
        "block/batch_norm/beta",
    ]


def test_equals_hand_built_sequential():
    block = ConvBlock(4)
    outputs = block(IMAGES)
    reference = keras.Sequential(
        [
            keras.Input(IMAGES.shape[1:]),
            keras.layers.Conv2D(4, 3, padding="same"),
            keras.layers.ReLU(),
            keras.layers.MaxPooling2D(2),
        ]
    )
    reference.layers[0].set_weights(block.conv.get_weights())
    np.testing.assert_allclose(
        ops.convert_to_numpy(outputs), ops.convert_to_numpy(reference(IMAGES)), rtol=1e-6
    )


def test_batch_norm_variant_equals_hand_built_sequential():
    block = ConvBlock(4, use_batch_norm=True, dropout=0.5)
    block(IMAGES)
    rng = np.random.default_rng(1)
    gamma, beta = rng.uniform(0.5, 2, 4), rng.normal(size=4)
    mean, variance = rng.normal(size=4), rng.uniform(0.5, 2, 4)
    block.batch_norm.set_weights([gamma, beta, mean, variance])
    reference = keras.Sequential(
        [
            keras.Input(IMAGES.shape[1:]),
            keras.layers.Conv2D(4, 3, padding="same", use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.MaxPooling2D(2),
        ]
    )
    reference.layers[0].set_weights(block.conv.get_weights())
    reference.layers[1].set_weights(block.batch_norm.get_weights())
    np.testing.assert_allclose(
        ops.convert_to_numpy(block(IMAGES, training=False)),
        ops.convert_to_numpy(reference(IMAGES, training=False)),
        rtol=1e-5,
        atol=1e-6,
    )
    trained = ops.convert_to_numpy(block(IMAGES, training=True))
    assert np.mean(trained == 0) > np.mean(ops.convert_to_numpy(block(IMAGES)) == 0)


def test_mixed_precision():
    block = ConvBlock(4, use_batch_norm=True, dropout=0.25)
    block(IMAGES)
    keras.config.set_dtype_policy("mixed_float16")
    mixed = ConvBlock(4, use_batch_norm=True, dropout=0.25)
    outputs = mixed(IMAGES)
    assert keras.backend.standardize_dtype(outputs.dtype) == "float16"
    assert all(weight.dtype == "float32" for weight in mixed.weights)
    mixed.set_weights(block.get_weights())
    np.testing.assert_allclose(
        ops.convert_to_numpy(mixed(IMAGES)).astype("float32"),
        ops.convert_to_numpy(block(IMAGES)),
        atol=1e-2,
    )
