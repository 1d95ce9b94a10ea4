import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops
from layer_checks import run_layer_checks

from apptk.layers import PositionalEncoding, PositionEmbedding, TokenAndPositionEmbedding


def sinusoids(positions, depth):
    """Vaswani et al. (2017): sin at even channels, cos at odd, same frequency per pair."""
    exponents = 2 * (np.arange(depth) // 2) / depth
    angles = np.asarray(positions, "float64")[:, None] / 10000.0 ** exponents[None, :]
    return np.where(np.arange(depth) % 2 == 0, np.sin(angles), np.cos(angles))


TOKEN_IDS = np.array([[3, 7, 1, 0, 0], [2, 9, 4, 5, 0]], dtype="int32")


def make_layer(**kwargs):
    config = {"vocabulary_size": 10, "max_length": 8, "embedding_dim": 4, "name": "embedding"}
    config.update(kwargs)
    return TokenAndPositionEmbedding(**config)


@pytest.mark.parametrize("position_encoding", ["learned", "sinusoidal"])
def test_common_checks(position_encoding):
    run_layer_checks(
        TokenAndPositionEmbedding,
        {
            "vocabulary_size": 10,
            "max_length": 8,
            "embedding_dim": 4,
            "mask_zero": True,
            "position_encoding": position_encoding,
            "scale_embeddings": True,
            "embeddings_initializer": keras.initializers.RandomUniform(seed=5),
        },
        TOKEN_IDS,
        (2, 5, 4),
    )


def test_sub_layers():
    learned = make_layer()
    assert isinstance(learned.token_embedding, keras.layers.Embedding)
    assert isinstance(learned.position_embedding, PositionEmbedding)
    assert isinstance(
        make_layer(position_encoding="sinusoidal").position_embedding, PositionalEncoding
    )
    learned(TOKEN_IDS)
    assert sorted(weight.path for weight in learned.weights) == [
        "embedding/position_embedding/embeddings",
        "embedding/token_embedding/embeddings",
    ]
    with pytest.raises(ValueError, match="position_encoding"):
        make_layer(position_encoding="rotary")


@pytest.mark.parametrize("scale_embeddings", [False, True])
def test_learned_values(scale_embeddings):
    layer = make_layer(scale_embeddings=scale_embeddings)
    outputs = ops.convert_to_numpy(layer(TOKEN_IDS))
    tokens = ops.convert_to_numpy(layer.token_embedding.embeddings)
    positions = ops.convert_to_numpy(layer.position_embedding.embeddings)
    scale = 2.0 if scale_embeddings else 1.0
    np.testing.assert_allclose(outputs, tokens[TOKEN_IDS] * scale + positions[:5], rtol=1e-6)


@pytest.mark.parametrize("scale_embeddings", [False, True])
def test_sinusoidal_values(scale_embeddings):
    layer = make_layer(position_encoding="sinusoidal", scale_embeddings=scale_embeddings)
    outputs = ops.convert_to_numpy(layer(TOKEN_IDS, start_index=2))
    tokens = ops.convert_to_numpy(layer.token_embedding.embeddings)
    scale = 2.0 if scale_embeddings else 1.0
    want = tokens[TOKEN_IDS] * scale + sinusoids(range(2, 7), 4)
    np.testing.assert_allclose(outputs, want, atol=1e-5)
    assert layer.weights == layer.token_embedding.weights


@pytest.mark.parametrize("position_encoding", ["learned", "sinusoidal"])
def test_step_by_step_equals_full_sequence(position_encoding):
    layer = make_layer(position_encoding=position_encoding)
    full = ops.convert_to_numpy(layer(TOKEN_IDS))

    @tf.function
    def decode_step(step_ids, index):
        return layer(step_ids, start_index=index)

    for step in range(TOKEN_IDS.shape[1]):
        outputs = decode_step(TOKEN_IDS[:, step : step + 1], tf.constant(step))
        np.testing.assert_allclose(
            ops.convert_to_numpy(outputs), full[:, step : step + 1], rtol=1e-6
        )


def test_compute_mask():
    np.testing.assert_array_equal(
        ops.convert_to_numpy(make_layer().compute_mask(TOKEN_IDS)), TOKEN_IDS != 0
    )
    assert make_layer(mask_zero=False).compute_mask(TOKEN_IDS) is None
    outputs = make_layer()(TOKEN_IDS)
    np.testing.assert_array_equal(ops.convert_to_numpy(outputs._keras_mask), TOKEN_IDS != 0)


def pooled_model(layer):
    token_ids = keras.Input((None,), dtype="int32")
    pooled = keras.layers.GlobalAveragePooling1D()(layer(token_ids))
    return keras.Model(token_ids, pooled)


@pytest.mark.parametrize("position_encoding", ["learned", "sinusoidal"])
def test_padding_mask_reaches_downstream_pooling(position_encoding):
    model = pooled_model(make_layer(position_encoding=position_encoding))
    unpadded = ops.convert_to_numpy(model(np.array([[3, 7, 1]], "int32")))
    padded = ops.convert_to_numpy(model(np.array([[3, 7, 1, 0, 0]], "int32")))
    np.testing.assert_allclose(padded, unpadded, rtol=1e-6)


def test_without_mask_zero_padding_counts():
    model = pooled_model(make_layer(mask_zero=False))
    unpadded = ops.convert_to_numpy(model(np.array([[3, 7, 1]], "int32")))
    padded = ops.convert_to_numpy(model(np.array([[3, 7, 1, 0, 0]], "int32")))
    assert not np.allclose(padded, unpadded)


def test_logits_match_numpy():
    layer = make_layer()
    hidden_states = layer(TOKEN_IDS)
    logits = layer.logits(hidden_states)
    tokens = ops.convert_to_numpy(layer.token_embedding.embeddings)
    assert tuple(logits.shape) == (2, 5, 10)
    np.testing.assert_allclose(
        ops.convert_to_numpy(logits), ops.convert_to_numpy(hidden_states) @ tokens.T, rtol=1e-5
    )


@pytest.mark.parametrize("position_encoding", ["learned", "sinusoidal"])
def test_mixed_precision(position_encoding):
    reference = make_layer(position_encoding=position_encoding)
    reference(TOKEN_IDS)
    keras.config.set_dtype_policy("mixed_float16")
    layer = make_layer(position_encoding=position_encoding)
    outputs = layer(TOKEN_IDS)
    assert keras.backend.standardize_dtype(outputs.dtype) == "float16"
    assert all(weight.dtype == "float32" for weight in layer.weights)
    layer.set_weights(reference.get_weights())
    np.testing.assert_allclose(
        ops.convert_to_numpy(layer(TOKEN_IDS)).astype("float32"),
        ops.convert_to_numpy(reference(TOKEN_IDS)),
        atol=2e-3,
    )


def test_logits_follow_hidden_dtype_and_train_the_embedding():
    keras.config.set_dtype_policy("mixed_float16")
    layer = make_layer()
    with tf.GradientTape() as tape:
        hidden_states = layer(TOKEN_IDS)
        assert hidden_states.dtype == "float16"
        assert layer.logits(hidden_states).dtype == "float16"
        logits = layer.logits(ops.cast(hidden_states, "float32"))
        assert logits.dtype == "float32"
        loss = ops.mean(
            keras.losses.sparse_categorical_crossentropy(TOKEN_IDS, logits, from_logits=True)
        )
    gradient = tape.gradient(loss, layer.token_embedding.embeddings)
    assert np.any(ops.convert_to_numpy(gradient) != 0)


def test_half_precision_token_table_matches_float32_table():
    full = TokenAndPositionEmbedding(50, 8, 6, position_encoding="sinusoidal")
    compact = TokenAndPositionEmbedding(
        50, 8, 6, position_encoding="sinusoidal", token_embedding_dtype="float16"
    )
    token_ids = np.array([[3, 7, 49, 0]])
    hidden = np.random.default_rng(1).standard_normal((1, 4, 6)).astype("float32")
    full(token_ids)
    compact(token_ids)
    compact.set_weights(full.get_weights())

    assert compact.token_embedding.embeddings.dtype == "float16"
    vectors = compact(token_ids)
    assert keras.backend.standardize_dtype(vectors.dtype) == "float32"
    np.testing.assert_allclose(vectors, full(token_ids), atol=1e-3)
    np.testing.assert_allclose(compact.logits(hidden), full.logits(hidden), atol=1e-2)
    assert compact.get_config()["token_embedding_dtype"] == "float16"
