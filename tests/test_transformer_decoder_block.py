import os
import tempfile

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops
from layer_checks import check_gradients_reach_weights, run_layer_checks

from apptk.layers import TokenAndPositionEmbedding, TransformerDecoderBlock, TransformerEncoderBlock

RNG = np.random.default_rng(0)
DECODER_INPUTS = RNG.standard_normal((2, 4, 8)).astype("float32")
ENCODER_INPUTS = RNG.standard_normal((2, 5, 6)).astype("float32")
ENCODER_MASK = np.array([[True, True, True, False, False], [True] * 5])
TARGET_IDS = np.array([[4, 2, 7, 0], [5, 1, 3, 9], [8, 0, 0, 0]], dtype="int32")
SOURCE_IDS = np.array([[3, 8, 0, 0, 0], [6, 2, 9, 4, 1], [7, 5, 2, 0, 0]], dtype="int32")


def numpy(tensor):
    return ops.convert_to_numpy(tensor)


def make_block(**kwargs):
    config = {"num_heads": 2, "intermediate_dim": 16}
    config.update(kwargs)
    return TransformerDecoderBlock(**config)


def test_arguments_are_keyword_only():
    # keras-hub's TransformerDecoder takes (intermediate_dim, num_heads): no positional call.
    with pytest.raises(TypeError):
        TransformerDecoderBlock(16, 2)
    block = make_block()
    assert (block.num_heads, block.intermediate_dim) == (2, 16)


WITH_ENCODER = {"decoder_sequence": DECODER_INPUTS, "encoder_sequence": ENCODER_INPUTS}


@pytest.mark.parametrize(
    "init_kwargs, input_data, call_kwargs, expected_shape",
    [
        ({}, DECODER_INPUTS, None, (2, 4, 8)),
        ({"normalize_first": True}, DECODER_INPUTS, None, (2, 4, 8)),
        ({}, WITH_ENCODER, None, (2, 4, 8)),
        ({"normalize_first": True, "dropout": 0.1}, WITH_ENCODER, None, (2, 4, 8)),
        ({}, WITH_ENCODER, {"return_attention_scores": True}, [(2, 4, 8), (2, 2, 4, 5)]),
    ],
)
def test_common_checks(init_kwargs, input_data, call_kwargs, expected_shape):
    init_kwargs = {"num_heads": 2, "intermediate_dim": 16, **init_kwargs}
    run_layer_checks(
        TransformerDecoderBlock,
        init_kwargs,
        input_data,
        expected_shape,
        call_kwargs=call_kwargs,
        expect_trainable_weights=False,
    )
    # Gradients reach the cross-attention weights too; the key biases' gradients are zero in
    # exact arithmetic: see check_gradients_reach_weights.
    check_gradients_reach_weights(
        TransformerDecoderBlock,
        init_kwargs,
        input_data,
        call_kwargs,
        zero_gradient_suffixes=("key_bias",),
    )


def test_sub_layers_with_and_without_encoder():
    decoder_only = make_block(name="decoder")
    decoder_only(DECODER_INPUTS)
    assert decoder_only.cross_attention is None
    assert not any("cross_attention" in weight.path for weight in decoder_only.weights)
    with_encoder = make_block(name="decoder")
    with_encoder(DECODER_INPUTS, ENCODER_INPUTS)
    cross_paths = [w.path for w in with_encoder.trainable_weights if "cross_attention" in w.path]
    assert "decoder/cross_attention/key_kernel" in cross_paths
    assert "decoder/cross_attention_norm/gamma" in cross_paths
    assert tuple(with_encoder.cross_attention.key_kernel.shape) == (6, 2, 4)
    assert len(with_encoder.weights) == len(decoder_only.weights) + len(cross_paths)


@pytest.mark.parametrize("normalize_first", [False, True])
def test_values_match_composed_sub_layers(normalize_first):
    block = make_block(normalize_first=normalize_first)
    outputs = numpy(block(DECODER_INPUTS, ENCODER_INPUTS))

    def sublayers(x):
        yield lambda y: block.self_attention(y, y, use_causal_mask=True), block.self_attention_norm
        yield lambda y: block.cross_attention(y, ENCODER_INPUTS), block.cross_attention_norm
        yield block.feed_forward, block.feed_forward_norm

    hidden = DECODER_INPUTS
    for sublayer, norm in sublayers(hidden):
        if normalize_first:
            hidden = hidden + sublayer(norm(hidden))
        else:
            hidden = norm(hidden + sublayer(hidden))
    np.testing.assert_allclose(outputs, numpy(hidden), atol=1e-5)


@pytest.mark.parametrize("encoder_inputs", [None, ENCODER_INPUTS])
def test_pre_norm_and_post_norm_differ(encoder_inputs):
    post_norm = make_block(normalize_first=False)
    pre_norm = make_block(normalize_first=True)
    post_outputs = numpy(post_norm(DECODER_INPUTS, encoder_inputs))
    pre_norm(DECODER_INPUTS, encoder_inputs)
    pre_norm.set_weights(post_norm.get_weights())
    pre_outputs = numpy(pre_norm(DECODER_INPUTS, encoder_inputs))
    assert np.max(np.abs(pre_outputs - post_outputs)) > 1e-2


@pytest.mark.parametrize("encoder_inputs", [None, ENCODER_INPUTS])
def test_causal_self_attention_ignores_later_positions(encoder_inputs):
    rng = np.random.default_rng(1)
    block = make_block()
    inputs = rng.standard_normal((2, 6, 8)).astype("float32")
    outputs = numpy(block(inputs, encoder_inputs))
    for t in range(5):
        perturbed = inputs.copy()
        perturbed[:, t + 1 :] = rng.standard_normal(perturbed[:, t + 1 :].shape)
        changed = numpy(block(perturbed, encoder_inputs))
        np.testing.assert_allclose(changed[:, : t + 1], outputs[:, : t + 1], atol=1e-6)
        assert np.max(np.abs(changed[:, t + 1 :] - outputs[:, t + 1 :])) > 1e-3
    bidirectional = numpy(block(inputs, encoder_inputs, use_causal_mask=False))
    assert np.max(np.abs(bidirectional[:, 0] - outputs[:, 0])) > 1e-3


def decode_step_by_step(step, index=lambda t: t):
    """Feeds DECODER_INPUTS one position at a time through `step`, carrying the cache."""
    cache = ops.zeros((2, 2, 4, 2, 4))
    outputs = []
    for t in range(4):
        output, cache = step(DECODER_INPUTS[:, t : t + 1], cache, index(t))
        outputs.append(numpy(output))
    return np.concatenate(outputs, axis=1), cache


@pytest.mark.parametrize("normalize_first", [False, True])
def test_cached_decoding_without_encoder(normalize_first):
    block = make_block(normalize_first=normalize_first)
    full = numpy(block(DECODER_INPUTS))

    def step(token, cache, index):
        return block(token, self_attention_cache=cache, self_attention_cache_update_index=index)

    decoded, cache = decode_step_by_step(step)
    np.testing.assert_allclose(decoded, full, atol=1e-5)
    assert tuple(cache.shape) == (2, 2, 4, 2, 4)


@pytest.mark.parametrize("normalize_first", [False, True])
def test_cached_decoding_with_encoder(normalize_first):
    block = make_block(normalize_first=normalize_first)
    full, full_scores = block(
        DECODER_INPUTS,
        ENCODER_INPUTS,
        encoder_padding_mask=ENCODER_MASK,
        return_attention_scores=True,
    )
    cross_cache = block.compute_cross_attention_cache(ENCODER_INPUTS)
    assert tuple(cross_cache.shape) == (2, 2, 5, 2, 4)
    scores = []

    def step(token, cache, index):
        output, cache, step_scores = block(
            token,
            encoder_padding_mask=ENCODER_MASK,
            self_attention_cache=cache,
            self_attention_cache_update_index=index,
            cross_attention_cache=cross_cache,
            return_attention_scores=True,
        )
        scores.append(numpy(step_scores))
        return output, cache

    decoded, _ = decode_step_by_step(step)
    np.testing.assert_allclose(decoded, numpy(full), atol=1e-5)
    np.testing.assert_allclose(np.concatenate(scores, axis=2), numpy(full_scores), atol=1e-5)

    @tf.function
    def compiled_step(token, cache, index):
        return block(
            token,
            encoder_padding_mask=ENCODER_MASK,
            self_attention_cache=cache,
            self_attention_cache_update_index=index,
            cross_attention_cache=cross_cache,
        )

    decoded, _ = decode_step_by_step(compiled_step, index=tf.constant)
    assert compiled_step.experimental_get_tracing_count() == 1
    np.testing.assert_allclose(decoded, numpy(full), atol=1e-5)


def each_pair_alone(target_embedding, source_embedding, decoder, encoder):
    alone = []
    for target, source in zip(TARGET_IDS, SOURCE_IDS):
        target, source = target[target != 0][None], source[source != 0][None]
        alone.append(numpy(decoder(target_embedding(target), encoder(source_embedding(source))))[0])
    return alone


def assert_real_positions_match(padded, alone):
    for sequence, want in zip(padded, alone):
        np.testing.assert_allclose(sequence[: len(want)], want, atol=1e-5)


def make_embeddings_and_blocks(normalize_first=False):
    return (
        TokenAndPositionEmbedding(10, 8, 8, mask_zero=True),
        keras.layers.Embedding(10, 6, mask_zero=True),
        make_block(normalize_first=normalize_first),
        keras.layers.Dense(6),  # a mask-keeping stand-in for an encoder
    )


@pytest.mark.parametrize("normalize_first", [False, True])
def test_padding_via_keras_mask_propagation(normalize_first):
    target_embedding, source_embedding, decoder, encoder = make_embeddings_and_blocks(
        normalize_first
    )
    padded = decoder(target_embedding(TARGET_IDS), encoder(source_embedding(SOURCE_IDS)))
    np.testing.assert_array_equal(numpy(padded._keras_mask), TARGET_IDS != 0)
    target_ids, source_ids = (
        keras.Input((None,), dtype="int32"),
        keras.Input((None,), dtype="int32"),
    )
    model = keras.Model(
        [target_ids, source_ids],
        decoder(target_embedding(target_ids), encoder(source_embedding(source_ids))),
    )
    alone = each_pair_alone(target_embedding, source_embedding, decoder, encoder)
    assert_real_positions_match(numpy(padded), alone)
    assert_real_positions_match(numpy(model([TARGET_IDS, SOURCE_IDS])), alone)
    unmasked_source = numpy(encoder(source_embedding(SOURCE_IDS)))
    unmasked = numpy(decoder(target_embedding(TARGET_IDS), unmasked_source))
    assert np.max(np.abs(unmasked[0, :3] - alone[0])) > 1e-3, "padding should matter unmasked"


def test_padding_via_explicit_masks():
    target_embedding, source_embedding, decoder, encoder = make_embeddings_and_blocks()
    padded = decoder(
        numpy(target_embedding(TARGET_IDS)),  # plain arrays: no Keras masks
        numpy(encoder(source_embedding(SOURCE_IDS))),
        decoder_padding_mask=TARGET_IDS != 0,
        encoder_padding_mask=SOURCE_IDS != 0,
    )
    alone = each_pair_alone(target_embedding, source_embedding, decoder, encoder)
    assert_real_positions_match(numpy(padded), alone)


def test_fully_masked_rows_give_zero_weights():
    block = make_block()
    encoder_mask = np.array([[True, True, False, False, False], [False] * 5])
    decoder_mask = np.array([[True, True, True, False], [True] * 4])
    outputs, weights = block(
        DECODER_INPUTS,
        ENCODER_INPUTS,
        decoder_padding_mask=decoder_mask,
        encoder_padding_mask=encoder_mask,
        return_attention_scores=True,
    )
    outputs, weights = numpy(outputs), numpy(weights)
    assert np.all(np.isfinite(outputs))
    np.testing.assert_array_equal(weights[1], 0.0)
    np.testing.assert_array_equal(weights[0, :, 3], 0.0)
    np.testing.assert_array_equal(weights[0, :, :, 2:], 0.0)
    np.testing.assert_allclose(weights[0, :, :3].sum(-1), 1.0, atol=1e-6)


def test_dropout_only_in_training():
    block = make_block(dropout=0.3)
    inference = numpy(block(DECODER_INPUTS, ENCODER_INPUTS, training=False))
    np.testing.assert_array_equal(inference, numpy(block(DECODER_INPUTS, ENCODER_INPUTS)))
    without_dropout = make_block()
    without_dropout(DECODER_INPUTS, ENCODER_INPUTS)
    without_dropout.set_weights(block.get_weights())
    want = numpy(without_dropout(DECODER_INPUTS, ENCODER_INPUTS))
    np.testing.assert_allclose(inference, want, atol=1e-6)
    training = numpy(block(DECODER_INPUTS, ENCODER_INPUTS, training=True))
    assert np.max(np.abs(training - inference)) > 1e-3


def test_functional_model_returns_attention_scores():
    decoder_inputs, encoder_inputs = keras.Input((4, 8)), keras.Input((5, 6))
    block = make_block()
    outputs, weights = block(decoder_inputs, encoder_inputs, return_attention_scores=True)
    assert tuple(weights.shape) == (None, 2, 4, 5)
    model = keras.Model([decoder_inputs, encoder_inputs], [outputs, weights])
    expected = block(DECODER_INPUTS, ENCODER_INPUTS, return_attention_scores=True)
    for got, want in zip(model([DECODER_INPUTS, ENCODER_INPUTS]), expected):
        np.testing.assert_allclose(numpy(got), numpy(want), atol=1e-6)


def test_encoder_decoder_model_save_and_load():
    source_ids = keras.Input((None,), dtype="int32", name="source_ids")
    target_ids = keras.Input((None,), dtype="int32", name="target_ids")
    encoded = TransformerEncoderBlock(num_heads=2, intermediate_dim=16)(
        TokenAndPositionEmbedding(10, 8, 8)(source_ids)
    )
    decoded = TransformerDecoderBlock(num_heads=2, intermediate_dim=16, normalize_first=True)(
        TokenAndPositionEmbedding(10, 8, 8)(target_ids), encoded
    )
    model = keras.Model([source_ids, target_ids], keras.layers.Dense(10)(decoded))
    expected = numpy(model([SOURCE_IDS, TARGET_IDS]))
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "translator.keras")
        model.save(path)
        restored = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(numpy(restored([SOURCE_IDS, TARGET_IDS])), expected)
    # The padding of the source must still be masked after loading.
    alone = numpy(restored([SOURCE_IDS[:1, :2], TARGET_IDS[:1, :3]]))
    np.testing.assert_allclose(expected[0, :3], alone[0], atol=1e-5)


def test_num_heads_must_divide_hidden_size():
    with pytest.raises(ValueError, match="num_heads=3 must divide the hidden size 8"):
        make_block(num_heads=3)(DECODER_INPUTS, ENCODER_INPUTS)
