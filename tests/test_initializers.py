"""`clone_initializer`, and the layers that hand each weight its own clone of an initializer.

A Keras 3 initializer object returns the same values at every call, so a layer that gave one
initializer to several same-shaped weights started them equal (the Q/K/V kernels of attention).
"""

import itertools

import keras
import numpy as np
import pytest
from keras import ops

from apptk.layers import (
    FeedForward,
    GRUCell,
    LSTMCell,
    MultiHeadAttention,
    SimpleRNNCell,
    TokenAndPositionEmbedding,
    TransformerDecoderBlock,
    TransformerEncoderBlock,
    clone_initializer,
)

SEQUENCE = np.random.default_rng(0).standard_normal((2, 5, 8)).astype("float32")
TOKEN_IDS = np.array([[3, 1, 4, 1, 5], [9, 2, 6, 0, 0]], dtype="int32")


def seeded():
    return keras.initializers.RandomNormal(seed=7)


def unseeded():
    return keras.initializers.RandomNormal()


def same_draw(first, second) -> bool:
    """Whether two weights hold one draw of random numbers, up to shape and scale."""
    first, second = np.ravel(first), np.ravel(second)
    size = min(first.size, second.size)
    return abs(np.corrcoef(first[:size], second[:size])[0, 1]) > 0.999


def weights_of(layer) -> dict:
    """Initial values by weight path within the layer (so equal for two layers of one kind)."""
    return {
        weight.path.split(f"{layer.name}/", 1)[1]: ops.convert_to_numpy(weight)
        for weight in layer.weights
    }


# name: (layer class, its other arguments, its initializer arguments, a call that builds it). Every
# initializer argument gets the one initializer object under test.
LAYERS = {
    "MultiHeadAttention": (
        MultiHeadAttention,
        {"num_heads": 2, "key_dim": 4},
        ("kernel_initializer", "bias_initializer"),
        lambda layer: layer(SEQUENCE, SEQUENCE),
    ),
    "FeedForward": (
        FeedForward,
        {"intermediate_dim": 8},
        ("kernel_initializer",),
        lambda layer: layer(SEQUENCE),
    ),
    "TransformerEncoderBlock": (
        TransformerEncoderBlock,
        {"num_heads": 2, "intermediate_dim": 8},
        ("kernel_initializer",),
        lambda layer: layer(SEQUENCE),
    ),
    "TransformerDecoderBlock": (
        TransformerDecoderBlock,
        {"num_heads": 2, "intermediate_dim": 8},
        ("kernel_initializer",),
        lambda layer: layer(SEQUENCE, SEQUENCE),
    ),
    "TokenAndPositionEmbedding": (
        TokenAndPositionEmbedding,
        {"vocabulary_size": 10, "max_length": 5, "embedding_dim": 8},
        ("embeddings_initializer",),
        lambda layer: layer(TOKEN_IDS),
    ),
}
# units == input_dim, so a cell's kernel and recurrent kernel have one shape.
LAYERS.update(
    {
        cell_class.__name__: (
            cell_class,
            {"units": 8},
            ("kernel_initializer", "recurrent_initializer", "bias_initializer"),
            lambda cell: keras.layers.RNN(cell)(SEQUENCE),
        )
        for cell_class in (SimpleRNNCell, LSTMCell, GRUCell)
    }
)


def built(name, initializer=None):
    """The layer `name` built with `initializer` for all its initializer arguments (None: the
    layer's defaults)."""
    layer_class, arguments, initializer_arguments, build = LAYERS[name]
    if initializer is not None:
        arguments = {**arguments, **dict.fromkeys(initializer_arguments, initializer)}
    layer = layer_class(**arguments)
    build(layer)
    return layer


def test_seeded_clones_differ_by_name_and_repeat_by_name():
    initializer = seeded()
    query = ops.convert_to_numpy(clone_initializer(initializer, "query_kernel")((16, 16)))
    key = ops.convert_to_numpy(clone_initializer(initializer, "key_kernel")((16, 16)))
    again = ops.convert_to_numpy(clone_initializer(initializer, "query_kernel")((16, 16)))
    assert not same_draw(query, key)
    np.testing.assert_array_equal(query, again)
    # The original keeps its seed; clones of clones get seeds of their own.
    assert initializer.get_config()["seed"] == 7
    seeds = {
        clone_initializer(initializer, "self_attention").get_config()["seed"],
        clone_initializer(clone_initializer(initializer, "a"), "b").get_config()["seed"],
        clone_initializer(clone_initializer(initializer, "b"), "a").get_config()["seed"],
        7,
    }
    assert len(seeds) == 4


def test_unseeded_clones_stay_unseeded_and_differ():
    initializer = unseeded()
    first = clone_initializer(initializer, "kernel")
    second = clone_initializer(initializer, "kernel")
    assert first is not initializer
    assert first.get_config()["seed"] is None
    assert not same_draw(
        ops.convert_to_numpy(first((16, 16))), ops.convert_to_numpy(second((16, 16)))
    )


def test_what_is_not_cloned_or_needs_no_seed():
    generated = keras.initializers.RandomNormal(seed=keras.random.SeedGenerator(3))
    assert clone_initializer(generated, "kernel") is generated

    def ones(shape, dtype=None):
        return ops.ones(shape, dtype=dtype)

    assert clone_initializer(ones, "kernel") is ones
    zeros = keras.initializers.Zeros()
    assert isinstance(clone_initializer(zeros, "bias"), keras.initializers.Zeros)
    assert clone_initializer(zeros, "bias") is not zeros
    from_name = clone_initializer("glorot_uniform", "kernel")
    assert isinstance(from_name, keras.initializers.GlorotUniform)


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize(
    "make_initializer", [seeded, unseeded, lambda: None], ids=["seeded", "unseeded", "default"]
)
def test_no_two_weights_start_equal(name, make_initializer):
    layer = built(name, make_initializer())
    weights = {path: value for path, value in weights_of(layer).items() if np.ptp(value) > 0}
    assert len(weights) >= 2
    for (first, a), (second, b) in itertools.combinations(weights.items(), 2):
        assert not same_draw(a, b), f"{first} and {second} start with the same values"


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_seeded_layer_is_reproducible_and_its_config_keeps_the_initializer(name):
    layer = built(name, seeded())
    expected = weights_of(layer)
    for path, value in weights_of(built(name, seeded())).items():
        np.testing.assert_array_equal(value, expected[path], err_msg=path)

    config = layer.get_config()
    for argument in LAYERS[name][2]:
        assert config[argument] == keras.initializers.serialize(seeded()), argument
    rebuilt = type(layer).from_config(config)
    LAYERS[name][3](rebuilt)
    assert rebuilt.get_config() == config
    for path, value in weights_of(rebuilt).items():
        np.testing.assert_array_equal(value, expected[path], err_msg=path)


def test_attention_query_key_and_value_kernels_differ():
    attention = MultiHeadAttention(num_heads=2, key_dim=4, kernel_initializer=seeded())
    attention(SEQUENCE, SEQUENCE)
    kernels = [
        ops.convert_to_numpy(kernel)
        for kernel in (attention.query_kernel, attention.key_kernel, attention.value_kernel)
    ]
    for first, second in itertools.combinations(kernels, 2):
        assert not same_draw(first, second)
    assert attention.get_config()["kernel_initializer"]["config"]["seed"] == 7


def test_lstm_forget_bias_does_not_repeat_the_input_gate_bias():
    cell = LSTMCell(4, bias_initializer=seeded(), unit_forget_bias=True)
    keras.layers.RNN(cell)(SEQUENCE)
    b_i, b_f, b_c, _ = np.split(ops.convert_to_numpy(cell.bias), 4)
    np.testing.assert_array_equal(b_f, np.ones(4))
    assert not same_draw(b_i, b_c)


def test_unseeded_layers_are_reproducible_under_set_random_seed():
    keras.utils.set_random_seed(5)
    block = built("TransformerDecoderBlock", unseeded())
    keras.utils.set_random_seed(5)
    twin = weights_of(built("TransformerDecoderBlock", unseeded()))
    for path, value in weights_of(block).items():
        np.testing.assert_array_equal(value, twin[path], err_msg=path)
    assert block.get_config()["kernel_initializer"]["config"]["seed"] is None
