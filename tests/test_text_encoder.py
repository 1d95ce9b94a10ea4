"""TextEncoder, MaskedLanguageModel and TextClassifierModel: shapes, serialization, padding,
and the head and pooling against references written here in numpy."""

import math

import keras
import numpy as np
import pytest
from layer_checks import check_gradients_reach_weights, run_layer_checks

from apptk.applications.models.masked_language_model import MaskedLanguageModel
from apptk.applications.models.text_classifier_model import TextClassifierModel
from apptk.applications.models.text_encoder import TextEncoder

VOCABULARY_SIZE = 40
ENCODER = {
    "vocabulary_size": VOCABULARY_SIZE,
    "max_length": 12,
    "hidden_dim": 16,
    "num_heads": 2,
    "intermediate_dim": 32,
    "num_layers": 2,
    "dropout": 0.0,
}
# [START] tokens [END], then padding (id 0); the second row is the first one's prefix.
TOKEN_IDS = np.array([[2, 7, 8, 9, 11, 3], [2, 7, 8, 3, 0, 0], [2, 30, 3, 0, 0, 0]], "int32")
MASK_POSITIONS = np.array([[1, 4, 2], [2, 1, 0], [1, 0, 0]], "int32")
_erf = np.vectorize(math.erf)


def make_encoder(**overrides) -> TextEncoder:
    return TextEncoder(**{**ENCODER, **overrides})


def lengths(token_ids) -> list[int]:
    return [int(np.sum(row != 0)) for row in token_ids]


def numpy(tensor) -> np.ndarray:
    return keras.ops.convert_to_numpy(tensor).astype("float64")


def gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def layer_norm(x, norm):
    mean = x.mean(-1, keepdims=True)
    variance = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + norm.epsilon) * numpy(norm.gamma) + numpy(norm.beta)


def softmax(x):
    exponentials = np.exp(x - x.max(-1, keepdims=True))
    return exponentials / exponentials.sum(-1, keepdims=True)


def randomize_weights(model, seed=0):
    """Non-trivial values everywhere (zero biases and unit norms would hide mistakes)."""
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        weight.assign(rng.normal(0, 0.3, weight.shape).astype("float32"))


def model_inputs(kind: str):
    if kind == "masked_language_model":
        return {"token_ids": TOKEN_IDS, "mask_positions": MASK_POSITIONS}
    return TOKEN_IDS


def make_model(kind: str):
    if kind == "encoder":
        return make_encoder()
    if kind == "masked_language_model":
        return MaskedLanguageModel(make_encoder())
    return TextClassifierModel(make_encoder(), num_classes=3, dropout=0.0)


KINDS = ["encoder", "masked_language_model", "classifier"]


# TextEncoder


def test_encoder_common_layer_checks():
    run_layer_checks(TextEncoder, ENCODER, TOKEN_IDS, (3, 6, 16), expect_trainable_weights=False)
    # The attention key bias adds the same amount to every score of a query: no gradient.
    check_gradients_reach_weights(
        TextEncoder, ENCODER, TOKEN_IDS, zero_gradient_suffixes=("key_bias",)
    )


def test_encoder_is_bidirectional():
    """Changing the last real token changes the first token's vector: no causal mask."""
    encoder = make_encoder()
    changed = TOKEN_IDS.copy()
    changed[0, 4] = 12
    before, after = numpy(encoder(TOKEN_IDS)), numpy(encoder(changed))
    assert np.abs(before[0, 1] - after[0, 1]).max() > 1e-4
    np.testing.assert_allclose(before[1:], after[1:], atol=1e-6)


def test_encoder_vectors_at_real_positions_do_not_depend_on_padding():
    encoder = make_encoder()
    batch = numpy(encoder(TOKEN_IDS))
    for row, length in enumerate(lengths(TOKEN_IDS)):
        alone = numpy(encoder(TOKEN_IDS[row : row + 1, :length]))[0]
        np.testing.assert_allclose(batch[row, :length], alone, atol=1e-5)
        padded_more = np.pad(TOKEN_IDS[row : row + 1, :length], [(0, 0), (0, 12 - length)])
        np.testing.assert_allclose(numpy(encoder(padded_more))[0, :length], alone, atol=1e-5)


def test_dropout_is_active_only_in_training():
    encoder = make_encoder(dropout=0.5)
    np.testing.assert_array_equal(numpy(encoder(TOKEN_IDS)), numpy(encoder(TOKEN_IDS)))
    assert np.abs(numpy(encoder(TOKEN_IDS, training=True)) - numpy(encoder(TOKEN_IDS))).max() > 0


# All three models


@pytest.mark.parametrize(
    "kind, shape",
    [
        ("encoder", (3, 6, 16)),
        ("masked_language_model", (3, 3, VOCABULARY_SIZE)),
        ("classifier", (3, 3)),
    ],
)
def test_output_shapes_and_dtypes(kind, shape):
    outputs = make_model(kind)(model_inputs(kind))
    assert tuple(outputs.shape) == shape
    assert keras.backend.standardize_dtype(outputs.dtype) == "float32"


@pytest.mark.parametrize("kind", ["masked_language_model", "classifier"])
def test_outputs_stay_float32_under_mixed_precision(kind):
    keras.config.set_dtype_policy("mixed_float16")
    model = make_model(kind)
    outputs = model(model_inputs(kind))
    assert model.encoder.compute_dtype == "float16"
    assert keras.backend.standardize_dtype(outputs.dtype) == "float32"
    assert np.all(np.isfinite(numpy(outputs)))


@pytest.mark.parametrize("kind", KINDS)
def test_config_round_trip(kind):
    model = make_model(kind)
    config = model.get_config()
    rebuilt = type(model).from_config(model.get_config())
    assert rebuilt.get_config() == config
    encoder = rebuilt if kind == "encoder" else rebuilt.encoder
    assert {name: getattr(encoder, name) for name in ENCODER} == ENCODER


@pytest.mark.parametrize("kind", KINDS)
def test_keras_file_round_trip_in_safe_mode_gives_identical_outputs(kind, tmp_path):
    model = make_model(kind)
    model(model_inputs(kind))
    randomize_weights(model)
    expected = numpy(model(model_inputs(kind)))
    path = str(tmp_path / "model.keras")
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    assert type(restored) is type(model)
    np.testing.assert_array_equal(numpy(restored(model_inputs(kind))), expected)


# MaskedLanguageModel


def test_masked_lm_logits_equal_the_head_applied_to_the_full_sequence():
    """Encoder → gather → dense + GELU → layer norm → tied embedding + bias, in numpy."""
    model = MaskedLanguageModel(make_encoder())
    model(model_inputs("masked_language_model"))
    randomize_weights(model)
    logits = numpy(model(model_inputs("masked_language_model")))

    sequence = numpy(model.encoder(TOKEN_IDS))  # (batch, time, hidden)
    chosen = np.stack([sequence[row, MASK_POSITIONS[row]] for row in range(len(TOKEN_IDS))])
    hidden = gelu(chosen @ numpy(model.transform.kernel) + numpy(model.transform.bias))
    hidden = layer_norm(hidden, model.head_norm)
    embeddings = numpy(model.encoder.embedding.token_embedding.embeddings)
    expected = hidden @ embeddings.T + numpy(model.output_bias)
    np.testing.assert_allclose(logits, expected, atol=1e-4)


def test_masked_lm_predictions_do_not_depend_on_padding():
    model = MaskedLanguageModel(make_encoder())
    logits = numpy(model(model_inputs("masked_language_model")))
    for row, length in enumerate(lengths(TOKEN_IDS)):
        alone = model(
            {
                "token_ids": TOKEN_IDS[row : row + 1, :length],
                "mask_positions": MASK_POSITIONS[row : row + 1],
            }
        )
        np.testing.assert_allclose(logits[row], numpy(alone)[0], atol=1e-4)


def test_masked_lm_ties_its_output_to_the_token_embedding():
    """One `(vocabulary, hidden)` matrix: the output projection is the token embedding."""
    model = MaskedLanguageModel(make_encoder())
    model(model_inputs("masked_language_model"))
    shapes = [tuple(weight.shape) for weight in model.weights]
    assert shapes.count((VOCABULARY_SIZE, ENCODER["hidden_dim"])) == 1
    assert shapes.count((ENCODER["hidden_dim"], VOCABULARY_SIZE)) == 0
    assert tuple(model.output_bias.shape) == (VOCABULARY_SIZE,)
    before = numpy(model(model_inputs("masked_language_model")))
    embeddings = model.encoder.embedding.token_embedding.embeddings
    embeddings.assign(embeddings.numpy() * 2.0)
    assert np.abs(numpy(model(model_inputs("masked_language_model"))) - before).max() > 1e-3


# TextClassifierModel


def test_classifier_pools_the_mean_of_the_real_tokens():
    model = TextClassifierModel(make_encoder(), num_classes=3, dropout=0.0)
    model(TOKEN_IDS)
    randomize_weights(model)
    probabilities = numpy(model(TOKEN_IDS))

    sequence = numpy(model.encoder(TOKEN_IDS))
    real = (TOKEN_IDS != 0)[..., None]
    pooled = (sequence * real).sum(1) / real.sum(1)
    kernel, bias = numpy(model.output_layer.kernel), numpy(model.output_layer.bias)
    np.testing.assert_allclose(probabilities, softmax(pooled @ kernel + bias), atol=1e-5)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-6)


def test_classifier_probabilities_do_not_depend_on_padding():
    model = TextClassifierModel(make_encoder(), num_classes=3, dropout=0.0)
    batch = numpy(model(TOKEN_IDS))
    for row, length in enumerate(lengths(TOKEN_IDS)):
        alone = numpy(model(TOKEN_IDS[row : row + 1, :length]))[0]
        np.testing.assert_allclose(batch[row], alone, atol=1e-5)


def test_classifier_gradients_reach_the_encoder():
    import tensorflow as tf

    model = TextClassifierModel(make_encoder(), num_classes=3, dropout=0.0)
    model(TOKEN_IDS)
    with tf.GradientTape() as tape:
        loss = keras.losses.sparse_categorical_crossentropy(np.array([0, 1, 2]), model(TOKEN_IDS))
    gradients = tape.gradient(loss, model.trainable_weights)
    for weight, gradient in zip(model.trainable_weights, gradients):
        assert gradient is not None, weight.path
        if not weight.path.endswith("key_bias"):
            assert np.abs(numpy(gradient)).max() > 0, weight.path
