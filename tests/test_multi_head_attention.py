import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops
from layer_checks import check_gradients_reach_weights, run_layer_checks

from apptk.layers import MultiHeadAttention, TokenAndPositionEmbedding

RNG = np.random.default_rng(0)
QUERY = RNG.standard_normal((2, 4, 8)).astype("float32")
VALUE = RNG.standard_normal((2, 5, 6)).astype("float32")
KEY = RNG.standard_normal((2, 5, 7)).astype("float32")
TARGET_IDS = np.array([[4, 2, 7, 0], [5, 1, 0, 0]], dtype="int32")
SOURCE_IDS = np.array([[3, 8, 0, 0, 0], [6, 2, 9, 4, 1]], dtype="int32")


def numpy(tensor):
    return ops.convert_to_numpy(tensor)


def copied_reference(layer, *args, **kwargs):
    """A `keras.layers.MultiHeadAttention` holding `layer`'s weights, both built on `args`."""
    layer(*args, **kwargs)
    reference = keras.layers.MultiHeadAttention(
        layer.num_heads,
        layer.key_dim,
        value_dim=layer.value_dim,
        use_bias=layer.use_bias,
        output_shape=layer.output_dim,
    )
    reference(*args, **kwargs)
    layer.set_weights(reference.get_weights())
    return reference


def softmax(scores):
    exponentials = np.exp(scores - scores.max(-1, keepdims=True))
    return exponentials / exponentials.sum(-1, keepdims=True)


SELF = {"query": QUERY, "value": QUERY}
CROSS = {"query": QUERY, "value": VALUE, "key": KEY}


@pytest.mark.parametrize(
    "init_kwargs, input_data, call_kwargs, expected_shape",
    [
        ({"num_heads": 2, "key_dim": 4}, SELF, None, (2, 4, 8)),
        (
            {"num_heads": 2, "key_dim": 4, "dropout": 0.1},
            SELF,
            {"use_causal_mask": True},
            (2, 4, 8),
        ),
        ({"num_heads": 3, "key_dim": 2, "value_dim": 5, "output_dim": 3}, CROSS, None, (2, 4, 3)),
        ({"num_heads": 2, "key_dim": 4, "use_bias": False}, CROSS, None, (2, 4, 8)),
        (
            {"num_heads": 2, "key_dim": 4},
            CROSS,
            {"return_attention_scores": True},
            [(2, 4, 8), (2, 2, 4, 5)],
        ),
    ],
)
def test_common_checks(init_kwargs, input_data, call_kwargs, expected_shape):
    # The key bias's gradient is zero in exact arithmetic: see check_gradients_reach_weights.
    run_layer_checks(
        MultiHeadAttention,
        init_kwargs,
        input_data,
        expected_shape,
        call_kwargs=call_kwargs,
        expect_trainable_weights=False,
    )
    check_gradients_reach_weights(
        MultiHeadAttention,
        init_kwargs,
        input_data,
        call_kwargs,
        zero_gradient_suffixes=("key_bias",),
    )


def test_weight_shapes_and_order_match_keras():
    layer = MultiHeadAttention(3, 2, value_dim=5, output_dim=4, name="attention")
    layer(QUERY, VALUE, KEY)
    assert [(weight.path, tuple(weight.shape)) for weight in layer.weights] == [
        ("attention/query_kernel", (8, 3, 2)),
        ("attention/query_bias", (3, 2)),
        ("attention/key_kernel", (7, 3, 2)),
        ("attention/key_bias", (3, 2)),
        ("attention/value_kernel", (6, 3, 5)),
        ("attention/value_bias", (3, 5)),
        ("attention/output_kernel", (3, 5, 4)),
        ("attention/output_bias", (4,)),
    ]


ATTENTION_MASK = RNG.random((2, 4, 5)) > 0.4


@pytest.mark.parametrize(
    "init_kwargs, args, call_kwargs",
    [
        ({"num_heads": 2, "key_dim": 4}, (QUERY, QUERY), {}),
        ({"num_heads": 2, "key_dim": 4}, (QUERY, VALUE), {"attention_mask": ATTENTION_MASK}),
        ({"num_heads": 2, "key_dim": 4}, (QUERY, QUERY), {"use_causal_mask": True}),
        ({"num_heads": 3, "key_dim": 2, "value_dim": 5}, (QUERY, VALUE, KEY), {}),
        ({"num_heads": 2, "key_dim": 3, "output_dim": 5}, (QUERY, VALUE, KEY), {}),
        ({"num_heads": 2, "key_dim": 4, "use_bias": False}, (QUERY, VALUE, KEY), {}),
        (
            {"num_heads": 2, "key_dim": 4, "use_bias": False},
            (QUERY, QUERY),
            {"use_causal_mask": True, "attention_mask": ATTENTION_MASK[:, :, :4]},
        ),
    ],
)
def test_matches_keras_multi_head_attention(init_kwargs, args, call_kwargs):
    layer = MultiHeadAttention(**init_kwargs)
    reference = copied_reference(layer, *args, **call_kwargs)
    outputs, weights = layer(*args, return_attention_scores=True, **call_kwargs)
    want_outputs, want_weights = reference(*args, return_attention_scores=True, **call_kwargs)
    np.testing.assert_allclose(numpy(outputs), numpy(want_outputs), atol=1e-5)
    np.testing.assert_allclose(numpy(weights), numpy(want_weights), atol=1e-5)
    np.testing.assert_allclose(numpy(layer(*args, **call_kwargs)), numpy(outputs), atol=1e-6)


@pytest.mark.parametrize("use_causal_mask", [False, True])
def test_matches_keras_with_propagated_padding_masks(use_causal_mask):
    target_embedding = TokenAndPositionEmbedding(10, 8, 8, mask_zero=True)
    source_embedding = TokenAndPositionEmbedding(10, 8, 6, mask_zero=True)
    for query, value in [
        (target_embedding(TARGET_IDS), target_embedding(TARGET_IDS)),
        (target_embedding(TARGET_IDS), source_embedding(SOURCE_IDS)),
    ]:
        causal = use_causal_mask and query.shape[1] == value.shape[1]
        layer = MultiHeadAttention(2, 4)
        reference = copied_reference(layer, numpy(query), numpy(value))
        unmasked = numpy(layer(numpy(query), numpy(value), use_causal_mask=causal))
        # Keras's layer deletes the masks of its inputs, so ours runs first on the same tensors.
        outputs, weights = layer(query, value, return_attention_scores=True, use_causal_mask=causal)
        np.testing.assert_array_equal(numpy(outputs._keras_mask), TARGET_IDS != 0)
        want_outputs, want_weights = reference(
            query, value, return_attention_scores=True, use_causal_mask=causal
        )
        np.testing.assert_allclose(numpy(outputs), numpy(want_outputs), atol=1e-5)
        np.testing.assert_allclose(numpy(weights), numpy(want_weights), atol=1e-5)
        value_ids = TARGET_IDS if value.shape[1] == 4 else SOURCE_IDS
        weights = numpy(weights)  # (batch, heads, target, source)
        np.testing.assert_array_equal(weights.transpose(0, 3, 1, 2)[value_ids == 0], 0.0)
        np.testing.assert_array_equal(weights.transpose(0, 2, 1, 3)[TARGET_IDS == 0], 0.0)
        assert np.max(np.abs(numpy(outputs) - unmasked)) > 1e-3, "the padding masks were ignored"


def test_weights_match_numpy_attention():
    rng = np.random.default_rng(1)
    layer = MultiHeadAttention(2, 3, value_dim=2, name="attention")
    query, value = QUERY[:1, :3, :4], VALUE[:1, :2, :5]
    layer.build(query.shape, value.shape)
    layer.set_weights([rng.standard_normal(w.shape).astype("float32") for w in layer.weights])
    outputs, weights = layer(query, value, return_attention_scores=True)
    wq, bq, wk, bk, wv, bv, wo, bo = layer.get_weights()
    for head in range(2):
        q = query[0] @ wq[:, head] + bq[head]
        k = value[0] @ wk[:, head] + bk[head]
        want = softmax(q @ k.T / np.sqrt(3.0))
        np.testing.assert_allclose(numpy(weights)[0, head], want, atol=1e-5)
    context = [numpy(weights)[0, head] @ (value[0] @ wv[:, head] + bv[head]) for head in range(2)]
    want_outputs = sum(context[head] @ wo[head] for head in range(2)) + bo
    np.testing.assert_allclose(numpy(outputs)[0], want_outputs, atol=1e-4)


def test_causal_mask_ignores_later_positions():
    rng = np.random.default_rng(1)
    layer = MultiHeadAttention(2, 4)
    inputs = rng.standard_normal((2, 6, 8)).astype("float32")
    outputs = numpy(layer(inputs, inputs, use_causal_mask=True))
    for t in range(5):
        perturbed = inputs.copy()
        perturbed[:, t + 1 :] = rng.standard_normal(perturbed[:, t + 1 :].shape)
        changed = numpy(layer(perturbed, perturbed, use_causal_mask=True))
        np.testing.assert_allclose(changed[:, : t + 1], outputs[:, : t + 1], atol=1e-6)
        assert np.max(np.abs(changed[:, t + 1 :] - outputs[:, t + 1 :])) > 1e-3


def cached_decode(layer, inputs, chunks):
    """Runs causal self-attention chunk by chunk through a key/value cache."""
    batch, length, _ = inputs.shape
    cache = ops.zeros((batch, 2, length, layer.num_heads, layer.key_dim))
    outputs, start = [], 0
    for size in chunks:
        step, cache = layer(
            inputs[:, start : start + size],
            inputs[:, start : start + size],
            use_causal_mask=True,
            cache=cache,
            cache_update_index=start,
        )
        outputs.append(numpy(step))
        start += size
    return np.concatenate(outputs, axis=1), numpy(cache)


@pytest.mark.parametrize("chunks", [[1] * 5, [3, 1, 1]])
def test_cached_decoding_matches_full_sequence(chunks):
    rng = np.random.default_rng(1)
    layer = MultiHeadAttention(2, 4)
    inputs = rng.standard_normal((2, 5, 8)).astype("float32")
    full = numpy(layer(inputs, inputs, use_causal_mask=True))
    decoded, cache = cached_decode(layer, inputs, chunks)
    np.testing.assert_allclose(decoded, full, atol=1e-5)
    np.testing.assert_allclose(cache, numpy(layer.compute_cache(inputs)), atol=1e-6)


def test_cached_decoding_in_tf_function():
    rng = np.random.default_rng(1)
    layer = MultiHeadAttention(2, 4)
    inputs = rng.standard_normal((2, 5, 8)).astype("float32")
    full = numpy(layer(inputs, inputs, use_causal_mask=True))

    @tf.function
    def step(token, cache, index):
        return layer(token, token, use_causal_mask=True, cache=cache, cache_update_index=index)

    cache = tf.zeros((2, 2, 5, 2, 4))
    outputs = []
    for index in range(5):
        output, cache = step(inputs[:, index : index + 1], cache, tf.constant(index))
        outputs.append(numpy(output))
    assert step.experimental_get_tracing_count() == 1
    np.testing.assert_allclose(np.concatenate(outputs, axis=1), full, atol=1e-5)


def test_cross_attention_cache_matches_plain_call():
    embedding = TokenAndPositionEmbedding(10, 8, 6, mask_zero=True)
    source = embedding(SOURCE_IDS)
    layer = MultiHeadAttention(2, 4)
    full = numpy(layer(QUERY, source))
    cache = layer.compute_cache(ops.convert_to_tensor(numpy(source)))
    cached = numpy(layer(QUERY, source, cache=cache)[0])
    np.testing.assert_allclose(cached, full, atol=1e-5)
    cached = numpy(layer(QUERY, value_mask=SOURCE_IDS != 0, cache=cache)[0])
    np.testing.assert_allclose(cached, full, atol=1e-5)
    assert np.max(np.abs(numpy(layer(QUERY, cache=cache)[0]) - full)) > 1e-3


def test_functional_model_returns_outputs_and_attention_scores():
    query, value = keras.Input((4, 8)), keras.Input((5, 6))
    layer = MultiHeadAttention(2, 4)
    outputs, weights = layer(query, value, return_attention_scores=True)
    assert tuple(outputs.shape) == (None, 4, 8)
    assert tuple(weights.shape) == (None, 2, 4, 5)
    model = keras.Model([query, value], [outputs, weights])
    for got, want in zip(model([QUERY, VALUE]), layer(QUERY, VALUE, return_attention_scores=True)):
        np.testing.assert_allclose(numpy(got), numpy(want), atol=1e-6)


@pytest.mark.parametrize("policy", ["float32", "mixed_float16"])
def test_fully_masked_rows_get_zero_weights(policy):
    keras.config.set_dtype_policy(policy)
    layer = MultiHeadAttention(2, 4)
    query_mask = np.array([[True, False, True, True], [False, False, False, False]])
    attention_mask = np.ones((2, 4, 5), bool)
    attention_mask[0, 2] = False
    outputs, weights = layer(
        QUERY,
        VALUE,
        query_mask=query_mask,
        attention_mask=attention_mask,
        return_attention_scores=True,
    )
    outputs = numpy(ops.cast(outputs, "float32"))
    weights = numpy(ops.cast(weights, "float32"))
    assert np.all(np.isfinite(outputs)) and np.all(np.isfinite(weights))
    masked_rows = ~query_mask | ~attention_mask.any(-1)
    assert masked_rows.sum() == 6
    np.testing.assert_array_equal(weights.transpose(0, 2, 1, 3)[masked_rows], 0.0)
    np.testing.assert_allclose(weights.sum(-1).transpose(0, 2, 1)[~masked_rows], 1.0, atol=1e-3)
    # With zero weights only the output bias is left.
    bias = numpy(layer.output_bias)
    np.testing.assert_allclose(outputs[masked_rows], np.broadcast_to(bias, (6, 8)), atol=1e-6)


def test_dropout_only_in_training():
    layer = MultiHeadAttention(2, 4, dropout=0.5, seed=7)
    inference = numpy(layer(QUERY, QUERY, training=False))
    np.testing.assert_array_equal(inference, numpy(layer(QUERY, QUERY, training=False)))
    without_dropout = MultiHeadAttention(2, 4)
    without_dropout(QUERY, QUERY)
    without_dropout.set_weights(layer.get_weights())
    np.testing.assert_allclose(inference, numpy(without_dropout(QUERY, QUERY)), atol=1e-6)
    training = numpy(layer(QUERY, QUERY, training=True))
    assert np.max(np.abs(training - inference)) > 1e-3


def test_cache_needs_value_dim_equal_to_key_dim():
    layer = MultiHeadAttention(2, 4, value_dim=3)
    layer(QUERY, VALUE)
    with pytest.raises(ValueError, match="value_dim == key_dim, got 3 and 4"):
        layer.compute_cache(VALUE)
    with pytest.raises(ValueError, match="value_dim == key_dim"):
        layer(QUERY, QUERY, cache=ops.zeros((2, 2, 4, 2, 4)), cache_update_index=0)
