import keras
import numpy as np
import pytest
from keras import ops
from layer_checks import check_gradients_reach_weights, run_layer_checks

from apptk.layers import TokenAndPositionEmbedding, TransformerEncoderBlock

INPUTS = np.random.default_rng(0).standard_normal((2, 4, 8)).astype("float32")
TOKEN_IDS = np.array([[4, 2, 7, 0, 0], [5, 1, 3, 9, 6], [8, 0, 0, 0, 0]], dtype="int32")
LENGTHS = (TOKEN_IDS != 0).sum(axis=1)


def numpy(tensor):
    return ops.convert_to_numpy(tensor)


def make_block(**kwargs):
    config = {"num_heads": 2, "intermediate_dim": 16}
    config.update(kwargs)
    return TransformerEncoderBlock(**config)


def test_arguments_are_keyword_only():
    # keras-hub's TransformerEncoder takes (intermediate_dim, num_heads): no positional call.
    with pytest.raises(TypeError):
        TransformerEncoderBlock(16, 2)
    block = make_block()
    assert (block.num_heads, block.intermediate_dim) == (2, 16)


@pytest.mark.parametrize(
    "init_kwargs, call_kwargs, expected_shape",
    [
        ({"normalize_first": False}, None, (2, 4, 8)),
        ({"normalize_first": True, "dropout": 0.1, "activation": "gelu"}, None, (2, 4, 8)),
        ({"normalize_first": True}, {"return_attention_scores": True}, [(2, 4, 8), (2, 2, 4, 4)]),
    ],
)
def test_common_checks(init_kwargs, call_kwargs, expected_shape):
    init_kwargs = {"num_heads": 2, "intermediate_dim": 16, **init_kwargs}
    run_layer_checks(
        TransformerEncoderBlock,
        init_kwargs,
        INPUTS,
        expected_shape,
        call_kwargs=call_kwargs,
        expect_trainable_weights=False,
    )
    # The key bias's gradient is zero in exact arithmetic: see check_gradients_reach_weights.
    check_gradients_reach_weights(
        TransformerEncoderBlock,
        init_kwargs,
        INPUTS,
        call_kwargs,
        zero_gradient_suffixes=("self_attention/key_bias",),
    )


@pytest.mark.parametrize("normalize_first", [False, True])
def test_values_match_composed_sub_layers(normalize_first):
    block = make_block(normalize_first=normalize_first)
    outputs = numpy(block(INPUTS))

    def attend(x):
        return block.self_attention(x, x)

    if normalize_first:
        hidden = INPUTS + attend(block.attention_norm(INPUTS))
        want = hidden + block.feed_forward(block.feed_forward_norm(hidden))
    else:
        hidden = block.attention_norm(INPUTS + attend(INPUTS))
        want = block.feed_forward_norm(hidden + block.feed_forward(hidden))
    np.testing.assert_allclose(outputs, numpy(want), atol=1e-5)


def test_pre_norm_and_post_norm_differ():
    post_norm = make_block(normalize_first=False)
    pre_norm = make_block(normalize_first=True)
    post_outputs = numpy(post_norm(INPUTS))
    pre_norm(INPUTS)
    pre_norm.set_weights(post_norm.get_weights())
    pre_outputs = numpy(pre_norm(INPUTS))
    assert np.max(np.abs(pre_outputs - post_outputs)) > 1e-2
    # Post-norm ends with a layer normalization (gamma=1, beta=0 at initialization).
    np.testing.assert_allclose(post_outputs.mean(-1), 0.0, atol=1e-5)
    assert np.max(np.abs(pre_outputs.mean(-1))) > 1e-2


def each_sequence_alone(embedding, block):
    return [
        numpy(block(embedding(ids[None, :length])))[0] for ids, length in zip(TOKEN_IDS, LENGTHS)
    ]


def assert_real_positions_match(padded, alone):
    for sequence, want, length in zip(padded, alone, LENGTHS):
        np.testing.assert_allclose(sequence[:length], want, atol=1e-5)


@pytest.mark.parametrize("normalize_first", [False, True])
def test_padding_via_keras_mask_propagation(normalize_first):
    embedding = TokenAndPositionEmbedding(10, 8, 8, mask_zero=True)
    block = make_block(normalize_first=normalize_first)
    padded_eager = block(embedding(TOKEN_IDS))
    np.testing.assert_array_equal(numpy(padded_eager._keras_mask), TOKEN_IDS != 0)
    token_ids = keras.Input((None,), dtype="int32")
    model = keras.Model(token_ids, block(embedding(token_ids)))
    alone = each_sequence_alone(embedding, block)
    assert_real_positions_match(numpy(padded_eager), alone)
    assert_real_positions_match(numpy(model(TOKEN_IDS)), alone)
    assert_real_positions_match(numpy(model.predict(TOKEN_IDS, verbose=0)), alone)
    unmasked = numpy(block(numpy(embedding(TOKEN_IDS))))
    assert np.max(np.abs(unmasked[0, :3] - alone[0])) > 1e-3, "padding should matter unmasked"


def test_padding_via_explicit_padding_mask():
    embedding = TokenAndPositionEmbedding(10, 8, 8, mask_zero=True)
    block = make_block()
    embedded = numpy(embedding(TOKEN_IDS))  # a plain array: no Keras mask
    padded = numpy(block(embedded, padding_mask=TOKEN_IDS != 0))
    assert_real_positions_match(padded, each_sequence_alone(embedding, block))


def test_fully_masked_sequence_gives_zero_weights():
    block = make_block()
    padding_mask = np.array([[True, True, False, False], [False, False, False, False]])
    outputs, weights = block(INPUTS, padding_mask=padding_mask, return_attention_scores=True)
    outputs, weights = numpy(outputs), numpy(weights)
    assert np.all(np.isfinite(outputs))
    np.testing.assert_array_equal(weights[1], 0.0)
    np.testing.assert_array_equal(weights[0, :, :, 2:], 0.0)
    np.testing.assert_allclose(weights[0, :, :2].sum(-1), 1.0, atol=1e-6)


def test_attention_mask():
    block = make_block()
    attention_mask = np.tril(np.ones((4, 4), bool))[None].repeat(2, axis=0)
    outputs, weights = block(INPUTS, attention_mask=attention_mask, return_attention_scores=True)
    np.testing.assert_array_equal(numpy(weights)[:, :, ~attention_mask[0]], 0.0)
    changed = INPUTS.copy()
    changed[:, 3] += 1.0
    np.testing.assert_allclose(
        numpy(block(changed, attention_mask=attention_mask))[:, :3],
        numpy(outputs)[:, :3],
        atol=1e-6,
    )


def test_dropout_only_in_training():
    block = make_block(dropout=0.3)
    inference = numpy(block(INPUTS, training=False))
    np.testing.assert_array_equal(inference, numpy(block(INPUTS)))
    without_dropout = make_block()
    without_dropout(INPUTS)
    without_dropout.set_weights(block.get_weights())
    np.testing.assert_allclose(inference, numpy(without_dropout(INPUTS)), atol=1e-6)
    assert np.max(np.abs(numpy(block(INPUTS, training=True)) - inference)) > 1e-3


def test_num_heads_must_divide_hidden_size():
    with pytest.raises(ValueError, match="num_heads=3 must divide the hidden size 8"):
        make_block(num_heads=3)(INPUTS)


def test_functional_model_returns_attention_scores():
    inputs = keras.Input((4, 8))
    block = make_block()
    outputs, weights = block(inputs, return_attention_scores=True)
    assert tuple(weights.shape) == (None, 2, 4, 4)
    model = keras.Model(inputs, [outputs, weights])
    for got, want in zip(model(INPUTS), block(INPUTS, return_attention_scores=True)):
        np.testing.assert_allclose(numpy(got), numpy(want), atol=1e-6)
