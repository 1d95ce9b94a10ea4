import keras
import numpy as np
import pytest
from keras import ops
from layer_checks import run_layer_checks

from apptk.layers import ResidualSeparableBlock

IMAGES = np.random.default_rng(0).normal(size=(2, 6, 6, 3)).astype("float32")


@pytest.mark.parametrize(
    "init_kwargs, expected_shape",
    [
        ({"filters": 4}, (2, 3, 3, 4)),
        ({"filters": 4, "strides": 1, "batch_norm_momentum": 0.9}, (2, 6, 6, 4)),
        ({"filters": 5, "kernel_size": (5, 5), "strides": 3, "activation": "gelu"}, (2, 2, 2, 5)),
    ],
)
def test_common_checks(init_kwargs, expected_shape):
    run_layer_checks(ResidualSeparableBlock, init_kwargs, IMAGES, expected_shape)


@pytest.mark.parametrize("size, strides, expected", [(6, 2, 3), (7, 2, 4), (7, 1, 7), (9, 3, 3)])
def test_shortcut_and_pooling_agree_on_the_output_size(size, strides, expected):
    block = ResidualSeparableBlock(4, strides=strides)
    images = np.zeros((1, size, size, 3), "float32")
    assert tuple(block(images).shape) == (1, expected, expected, 4)
    assert tuple(block.compute_output_shape(images.shape)) == (1, expected, expected, 4)
    assert (block.pooling is None) == (block.shortcut_pooling is None) == (strides == 1)


def test_trains_on_a_last_batch_smaller_than_the_others():
    # A strided 1x1 convolution's training step crashed TensorFlow 2.21's oneDNN kernels on
    # such a batch (heap corruption); the shortcut pools instead.
    inputs = keras.Input((16, 16, 8))
    features = ResidualSeparableBlock(16)(inputs)
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(features))
    model.compile("adam", "mse")
    images = np.random.default_rng(0).normal(size=(13, 16, 16, 8)).astype("float32")
    history = model.fit(images, np.zeros((13, 16)), batch_size=8, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


def test_convolutions_have_no_bias():
    block = ResidualSeparableBlock(4, name="block")
    block(IMAGES)
    assert [weight.path for weight in block.trainable_weights] == [
        "block/batch_norm_1/gamma",
        "block/batch_norm_1/beta",
        "block/conv_1/depthwise_kernel",
        "block/conv_1/pointwise_kernel",
        "block/batch_norm_2/gamma",
        "block/batch_norm_2/beta",
        "block/conv_2/depthwise_kernel",
        "block/conv_2/pointwise_kernel",
        "block/shortcut/kernel",
    ]
    assert block.batch_norm_1.momentum == block.batch_norm_2.momentum == 0.99
    assert ResidualSeparableBlock(4, batch_norm_momentum=0.9).batch_norm_2.momentum == 0.9
    # Batch norms: 4 weights a channel (3, then 4 channels); separable: depthwise 3 x 3 per
    # input channel and pointwise; shortcut: 3 x 4.
    assert block.count_params() == 4 * 3 + 4 * 4 + (9 * 3 + 3 * 4) + (9 * 4 + 4 * 4) + 3 * 4


def test_equals_hand_built_functional_model():
    keras.utils.set_random_seed(1)
    block = ResidualSeparableBlock(4)
    block(IMAGES)
    rng = np.random.default_rng(2)
    for batch_norm in (block.batch_norm_1, block.batch_norm_2):
        channels = batch_norm.gamma.shape[0]
        batch_norm.set_weights(
            [
                rng.uniform(0.5, 2, channels),
                rng.normal(size=channels),
                rng.normal(size=channels),
                rng.uniform(0.5, 2, channels),
            ]
        )
    inputs = keras.Input(IMAGES.shape[1:])
    norm_1, norm_2 = keras.layers.BatchNormalization(), keras.layers.BatchNormalization()
    conv_1 = keras.layers.SeparableConv2D(4, 3, padding="same", use_bias=False)
    conv_2 = keras.layers.SeparableConv2D(4, 3, padding="same", use_bias=False)
    shortcut = keras.layers.Conv2D(4, 1, use_bias=False)
    features = conv_1(keras.layers.ReLU()(norm_1(inputs)))
    features = conv_2(keras.layers.ReLU()(norm_2(features)))
    features = keras.layers.MaxPooling2D(3, strides=2, padding="same")(features)
    shortcut_features = shortcut(keras.layers.AveragePooling2D(2, padding="same")(inputs))
    reference = keras.Model(inputs, keras.layers.Add()([features, shortcut_features]))
    for mine, theirs in [
        (block.batch_norm_1, norm_1),
        (block.batch_norm_2, norm_2),
        (block.conv_1, conv_1),
        (block.conv_2, conv_2),
        (block.shortcut, shortcut),
    ]:
        theirs.set_weights(mine.get_weights())
    np.testing.assert_allclose(
        ops.convert_to_numpy(block(IMAGES, training=False)),
        ops.convert_to_numpy(reference(IMAGES, training=False)),
        rtol=1e-5,
        atol=1e-5,
    )
    assert not np.allclose(
        ops.convert_to_numpy(block(IMAGES, training=True)),
        ops.convert_to_numpy(block(IMAGES, training=False)),
    )
