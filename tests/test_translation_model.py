import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from apptk.applications.models.learning_rate import WarmupInverseSquareRoot
from apptk.applications.models.sequence_losses import MaskedSequenceLoss, masked_accuracy
from apptk.applications.models.transformer_translator import TransformerTranslator
from apptk.applications.text.wordpiece import END_ID, PAD_ID, RESERVED_TOKENS, START_ID
from apptk.applications.translation.decoding import beam_search_decode, greedy_decode

MAX_LENGTH = 12
SOURCE_LENGTHS = [7, 2, 4, 6, 1, 5]


def numpy(tensor):
    return ops.convert_to_numpy(tensor)


def naive_greedy_decode(model, encoder_output, source_mask, max_length: int):
    """Greedy decoding without a cache: the decoder re-reads the whole prefix at every step.

    The independent reference cached decoding is held to; one sentence (batch of 1) at a time.
    """
    prefix = tf.fill([1, 1], START_ID)
    for _ in range(max_length):
        logits = model.decode(prefix, encoder_output, source_mask)
        next_token = tf.argmax(logits[:, -1, :], axis=-1, output_type=tf.int32)
        prefix = tf.concat([prefix, next_token[:, None]], axis=1)
        if int(next_token[0]) == END_ID:
            break
    return prefix[:, 1:]


def padded_sources() -> np.ndarray:
    rng = np.random.default_rng(0)
    sources = rng.integers(len(RESERVED_TOKENS), 40, (len(SOURCE_LENGTHS), max(SOURCE_LENGTHS)))
    for row, length in enumerate(SOURCE_LENGTHS):
        sources[row, length:] = PAD_ID
    return sources.astype("int32")


@pytest.fixture(scope="module")
def model():
    """A tiny random translator whose output depends on its source and ends at various steps.

    With the default initialisation and tied embeddings a random decoder just repeats its
    input token, which would make every comparison below trivially true. Larger random
    weights make the generated tokens depend on the source; giving [END] a slightly longer
    copy of the embedding of a token the model generates (the first sentence's fifth) makes
    hypotheses end at different steps, so early stopping and padding are exercised too.
    """
    keras.utils.set_random_seed(7)
    model = TransformerTranslator(
        40,
        30,
        max_length=MAX_LENGTH,
        hidden_dim=32,
        num_heads=2,
        intermediate_dim=64,
        num_encoder_layers=1,
        num_decoder_layers=2,
        dropout=0.0,
    )
    sources = padded_sources()
    model({"source": sources, "target": sources % 30})
    rng = np.random.default_rng(0)
    for weight in model.weights:
        weight.assign(rng.normal(0.0, 0.3, weight.shape).astype("float32"))
    token_ids, _ = greedy_decode(model, *model.encode(sources), MAX_LENGTH)
    end_like = int(numpy(token_ids)[0, 4])
    embeddings = model.target_embedding.token_embedding.embeddings
    embeddings.assign(
        tf.tensor_scatter_nd_update(embeddings, [[END_ID]], 1.05 * embeddings[end_like][None])
    )
    return model


def encode_alone(model, row: int):
    source = padded_sources()[row : row + 1, : SOURCE_LENGTHS[row]]
    return model.encode(source)


def generated_length(ids: np.ndarray) -> int:
    """Tokens up to and including the first [END] (all of them when there is none)."""
    ends = np.flatnonzero(ids == END_ID)
    return int(ends[0]) + 1 if ends.size else len(ids)


def mean_log_probability(model, encoder_output, source_mask, ids: np.ndarray) -> float:
    """Teacher-forced mean log-probability of `ids` (up to [END]) without any cache."""
    length = generated_length(ids)
    prefix = np.concatenate([[START_ID], ids[: length - 1]])[None].astype("int32")
    logits = numpy(model.decode(prefix, encoder_output, source_mask))[0]
    log_probabilities = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    return float(log_probabilities[np.arange(length), ids[:length]].mean())


def test_the_random_model_is_not_degenerate(model):
    token_ids, _ = greedy_decode(model, *model.encode(padded_sources()), MAX_LENGTH)
    token_ids = numpy(token_ids)
    lengths = [generated_length(row) for row in token_ids]
    assert len({tuple(row) for row in token_ids}) >= 3
    assert min(lengths) < MAX_LENGTH and len(set(lengths)) >= 3


@pytest.mark.parametrize("row", range(len(SOURCE_LENGTHS)))
def test_cached_greedy_equals_naive_greedy(model, row):
    encoder_output, source_mask = encode_alone(model, row)
    naive = numpy(naive_greedy_decode(model, encoder_output, source_mask, MAX_LENGTH))[0]
    cached, score = greedy_decode(model, encoder_output, source_mask, MAX_LENGTH)
    cached = numpy(cached)[0]
    assert cached.shape == (MAX_LENGTH,)
    np.testing.assert_array_equal(cached[: len(naive)], naive)
    np.testing.assert_array_equal(cached[len(naive) :], 0)
    expected_score = mean_log_probability(model, encoder_output, source_mask, cached)
    np.testing.assert_allclose(numpy(score)[0], expected_score, atol=1e-4)


@pytest.mark.parametrize(
    "decode", [greedy_decode, lambda *args: beam_search_decode(*args, beam_size=3)]
)
def test_padded_batch_decodes_like_each_sentence_alone(model, decode):
    batch_ids, batch_scores = decode(model, *model.encode(padded_sources()), MAX_LENGTH)
    for row in range(len(SOURCE_LENGTHS)):
        ids, score = decode(model, *encode_alone(model, row), MAX_LENGTH)
        np.testing.assert_array_equal(numpy(batch_ids)[row], numpy(ids)[0])
        np.testing.assert_allclose(numpy(batch_scores)[row], numpy(score)[0], atol=1e-5)


def test_beam_of_one_is_greedy(model):
    encoded = model.encode(padded_sources())
    greedy_ids, greedy_scores = greedy_decode(model, *encoded, MAX_LENGTH)
    beam_ids, beam_scores = beam_search_decode(model, *encoded, MAX_LENGTH, beam_size=1)
    np.testing.assert_array_equal(numpy(beam_ids), numpy(greedy_ids))
    np.testing.assert_allclose(numpy(beam_scores), numpy(greedy_scores), atol=1e-5)


def test_beam_search_outputs(model):
    encoder_output, source_mask = model.encode(padded_sources())
    token_ids, scores = beam_search_decode(
        model, encoder_output, source_mask, MAX_LENGTH, beam_size=4
    )
    token_ids, scores = numpy(token_ids), numpy(scores)
    assert token_ids.shape == (len(SOURCE_LENGTHS), MAX_LENGTH)
    assert token_ids.dtype == np.int32
    assert scores.shape == (len(SOURCE_LENGTHS),)
    assert np.all(np.isfinite(scores)) and np.all(scores <= 0.0)
    for row, ids in enumerate(token_ids):
        length = generated_length(ids)
        np.testing.assert_array_equal(ids[length:], PAD_ID)
        assert np.all(ids[:length] != PAD_ID)
        alone = encode_alone(model, row)
        expected = mean_log_probability(model, *alone, ids)
        np.testing.assert_allclose(scores[row], expected, atol=1e-4)


def test_decode_step_logits_equal_teacher_forced_logits(model):
    sources = padded_sources()[:2]
    encoder_output, source_mask = model.encode(sources)
    rng = np.random.default_rng(1)
    targets = rng.integers(len(RESERVED_TOKENS), 30, (2, 8)).astype("int32")
    targets[:, 0] = START_ID
    full_logits = numpy(model.decode(targets, encoder_output, source_mask))
    self_caches, cross_caches = model.initial_cache(encoder_output, MAX_LENGTH)
    for index in range(targets.shape[1]):
        logits, self_caches = model.decode_step(
            targets[:, index : index + 1], index, self_caches, cross_caches, source_mask
        )
        np.testing.assert_allclose(numpy(logits), full_logits[:, index], atol=1e-4)


def reference_loss(labels, logits, label_smoothing):
    log_probabilities = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    vocabulary = logits.shape[-1]
    target = (1 - label_smoothing) * np.eye(vocabulary)[labels] + label_smoothing / vocabulary
    token_loss = -(target * log_probabilities).sum(-1)
    mask = labels != 0
    return token_loss[mask].mean()


LABELS = np.array([[5, 3, 2, 0, 0], [1, 4, 6, 6, 3]], "int32")


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_masked_sequence_loss_matches_numpy(label_smoothing):
    logits = np.random.default_rng(2).normal(size=(2, 5, 7)).astype("float32")
    loss = MaskedSequenceLoss(label_smoothing)
    expected = reference_loss(LABELS, logits, label_smoothing)
    np.testing.assert_allclose(numpy(loss(LABELS, logits)), expected, rtol=1e-5)
    changed_padding = logits.copy()
    changed_padding[0, 3:] = 100.0
    np.testing.assert_allclose(numpy(loss(LABELS, changed_padding)), expected, rtol=1e-5)


def test_masked_sequence_loss_of_only_padding_is_zero():
    logits = np.random.default_rng(3).normal(size=(1, 3, 4)).astype("float32")
    assert float(numpy(MaskedSequenceLoss(0.1)(np.zeros((1, 3), "int32"), logits))) == 0.0


def test_masked_sequence_loss_config_round_trip():
    loss = MaskedSequenceLoss(label_smoothing=0.2)
    restored = MaskedSequenceLoss.from_config(loss.get_config())
    assert restored.label_smoothing == 0.2 and restored.name == loss.name


def test_masked_accuracy_ignores_padding():
    logits = np.random.default_rng(4).normal(size=(2, 5, 7)).astype("float32")
    predictions = logits.argmax(-1)
    mask = LABELS != 0
    expected = (predictions == LABELS)[mask].mean()
    np.testing.assert_allclose(numpy(masked_accuracy(LABELS, logits)), expected, rtol=1e-6)
    perfect = np.eye(7, dtype="float32")[LABELS]
    perfect[0, 3:] = np.eye(7)[6]  # wrong guesses on padding do not count
    assert float(numpy(masked_accuracy(LABELS, perfect))) == 1.0


def test_warmup_inverse_square_root_follows_the_formula():
    peak, warmup = 2e-3, 100
    schedule = WarmupInverseSquareRoot(peak, warmup)
    steps = np.array([0, 1, 10, 49, 98, 99, 100, 150, 399, 10_000])
    values = np.array([float(numpy(schedule(step))) for step in steps])
    n = steps + 1.0  # optimizer iterations count from 0
    np.testing.assert_allclose(
        values, peak * np.minimum(n / warmup, np.sqrt(warmup / n)), rtol=1e-6
    )
    # Vaswani et al.: d_model^-0.5 * min(n^-0.5, n * warmup^-1.5), up to a constant factor.
    vaswani = np.minimum(n**-0.5, n * warmup**-1.5)
    np.testing.assert_allclose(values / vaswani, (values / vaswani)[0], rtol=1e-5)
    assert values.max() == pytest.approx(peak) and values.argmax() == list(steps).index(99)


def test_warmup_inverse_square_root_config_round_trip():
    schedule = WarmupInverseSquareRoot(5e-4, 300)
    restored = WarmupInverseSquareRoot.from_config(schedule.get_config())
    assert float(numpy(restored(1234))) == float(numpy(schedule(1234)))
