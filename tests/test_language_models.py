import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from apptk.applications.errors import DataError
from apptk.applications.models.recurrent_language_model import RecurrentLanguageModel
from apptk.applications.models.transformer_language_model import TransformerLanguageModel
from apptk.applications.next_word.data import token_stream, window_dataset
from apptk.applications.text.word_vocabulary import WordTokenizer
from apptk.applications.text.wordpiece import RESERVED_TOKENS, START_ID

VOCABULARY_SIZE = 40
ARCHITECTURES = ["rnn", "lstm", "gru", "transformer"]


def tiny_model(architecture: str, **overrides) -> keras.Model:
    """Two layers, so stacked states / per-layer caches are exercised; dropout off at inference."""
    keras.utils.set_random_seed(7)
    if architecture == "transformer":
        settings = {
            "max_length": 16,
            "hidden_dim": 16,
            "num_heads": 2,
            "intermediate_dim": 32,
            "num_layers": 2,
        }
        settings.update(overrides)
        model = TransformerLanguageModel(VOCABULARY_SIZE, dropout=0.2, **settings)
    else:
        settings = {"cell": architecture, "embedding_dim": 16, "units": 16, "num_layers": 2}
        settings.update(overrides)
        model = RecurrentLanguageModel(VOCABULARY_SIZE, dropout=0.2, **settings)
    model(np.ones((1, 2), "int32"))
    return model


def random_ids(batch: int, time: int, seed: int = 0) -> np.ndarray:
    """Word ids, never padding (0)."""
    return np.random.default_rng(seed).integers(5, VOCABULARY_SIZE, (batch, time)).astype("int32")


def assert_close(actual, expected, atol=1e-5):
    actual, expected = ops.convert_to_numpy(actual), ops.convert_to_numpy(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    difference = float(np.max(np.abs(actual - expected)))
    assert difference <= atol, f"max abs difference {difference} > {atol}"


@pytest.fixture(scope="module", params=ARCHITECTURES)
def model(request):
    return tiny_model(request.param)


def test_logits_have_one_row_per_position_and_word(model):
    assert tuple(model(random_ids(3, 7)).shape) == (3, 7, VOCABULARY_SIZE)


def test_inference_is_deterministic_despite_dropout(model):
    ids = random_ids(2, 6)
    assert_close(model(ids), model(ids), atol=0)
    assert not np.allclose(model(ids), model(ids, training=True)), "dropout never applied"


def test_step_over_chunks_equals_the_full_call(model):
    """A prompt of 4 tokens, then one token at a time, reusing the returned state / cache."""
    ids = random_ids(2, 10, seed=1)
    full = model(ids)
    logits, states = model.step(ids[:, :4])
    chunks = [logits]
    for position in range(4, 10):
        logits, states = model.step(ids[:, position : position + 1], states)
        assert tuple(logits.shape) == (2, 1, VOCABULARY_SIZE)
        chunks.append(logits)
    assert_close(ops.concatenate(chunks, axis=1), full)


def test_step_without_state_reuse_differs(model):
    """The state matters: reading the last token alone gives other logits than in context."""
    ids = random_ids(1, 6, seed=2)
    _, states = model.step(ids[:, :5])
    with_context, _ = model.step(ids[:, 5:], states)
    alone, _ = model.step(ids[:, 5:])
    assert np.max(np.abs(ops.convert_to_numpy(with_context - alone))) > 1e-4


def test_right_padding_leaves_the_real_positions_unchanged(model):
    lengths = [9, 5, 2]
    sequences = [random_ids(1, length, seed=10 + length)[0] for length in lengths]
    batch = np.zeros((len(lengths), max(lengths)), "int32")
    for row, sequence in enumerate(sequences):
        batch[row, : len(sequence)] = sequence
    logits = model(batch)
    for row, sequence in enumerate(sequences):
        assert_close(logits[row, : len(sequence)], model(sequence[None])[0])


def test_get_config_round_trip_rebuilds_the_same_model(model):
    config = model.get_config()
    clone = type(model).from_config(config)
    clone(np.ones((1, 2), "int32"))
    clone.set_weights(model.get_weights())
    assert clone.get_config() == config
    ids = random_ids(2, 5, seed=3)
    assert_close(clone(ids), model(ids), atol=1e-6)


def test_keras_serialization_round_trip(model):
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(model))
    assert type(restored) is type(model)
    assert restored.get_config() == model.get_config()


def _zero_embedding_row(model, word_id: int) -> None:
    embedding = model.embedding
    if isinstance(model, TransformerLanguageModel):
        embedding = embedding.token_embedding
    table = ops.convert_to_numpy(embedding.embeddings).copy()
    table[word_id] = 0.0
    embedding.embeddings.assign(table)


@pytest.mark.parametrize(
    "architecture, overrides",
    [
        ("lstm", {}),
        ("gru", {"units": 24}),  # tied through a projection when units != embedding_dim
        ("transformer", {}),
    ],
)
def test_tied_output_reads_the_embedding_matrix(architecture, overrides):
    model = tiny_model(architecture, **overrides)
    output_kernels = [w.path for w in model.weights if w.shape[-1] == VOCABULARY_SIZE]
    assert output_kernels == [], f"separate output weights: {output_kernels}"
    ids = random_ids(2, 6, seed=4) % 20 + 5  # ids 5..24, so word 30 is never read
    before = ops.convert_to_numpy(model(ids))
    assert np.all(np.abs(before[..., 30]) > 0)
    _zero_embedding_row(model, 30)
    after = ops.convert_to_numpy(model(ids))
    assert np.all(after[..., 30] == 0), "logit of word 30 must be hidden · embedding[30] = 0"
    assert_close(np.delete(after, 30, axis=-1), np.delete(before, 30, axis=-1), atol=1e-6)


def test_untied_output_has_its_own_kernel():
    model = tiny_model("lstm", tie_weights=False)
    assert model.output_dense.kernel.shape == (16, VOCABULARY_SIZE)
    ids = random_ids(2, 6, seed=4) % 20 + 5
    before = ops.convert_to_numpy(model(ids))
    _zero_embedding_row(model, 30)
    assert_close(model(ids), before, atol=0)


def test_tie_weights_saves_the_output_kernel():
    tied = tiny_model("lstm").count_params()
    untied = tiny_model("lstm", tie_weights=False).count_params()
    assert untied - tied == 16 * VOCABULARY_SIZE + VOCABULARY_SIZE


def test_an_unknown_cell_is_a_value_error():
    with pytest.raises(ValueError, match="cell must be one of"):
        RecurrentLanguageModel(VOCABULARY_SIZE, cell="transformer")


# window_dataset


def _windows(dataset):
    inputs, labels = zip(*((x.numpy(), y.numpy()) for x, y in dataset.unbatch()))
    return np.stack(inputs), np.stack(labels)


def test_windows_are_consecutive_slices_with_labels_shifted_by_one():
    stream = tf.range(100, 137, dtype=tf.int32)  # 37 tokens
    dataset = window_dataset(stream, sequence_length=5, batch_size=4, shuffle=False)
    first_inputs, first_labels = next(iter(dataset))
    assert tuple(first_inputs.shape) == tuple(first_labels.shape) == (4, 5)
    inputs, labels = _windows(dataset)
    expected = stream.numpy()
    assert len(inputs) == (37 - 1) // 5
    for index, (window_inputs, window_labels) in enumerate(zip(inputs, labels)):
        start = 5 * index
        np.testing.assert_array_equal(window_inputs, expected[start : start + 5])
        np.testing.assert_array_equal(window_labels, expected[start + 1 : start + 6])


def test_windows_of_a_token_stream_predict_each_next_word():
    tokenizer = WordTokenizer([*RESERVED_TOKENS, "the", "fox", "a", "dog", "."])
    stream = token_stream(["the fox .", "A dog", "the dog ."], tokenizer)
    assert stream.numpy().tolist() == [START_ID, 5, 6, 9, START_ID, 7, 8, START_ID, 5, 8, 9]
    inputs, labels = _windows(window_dataset(stream, 3, batch_size=2, shuffle=False))
    np.testing.assert_array_equal(inputs, [[2, 5, 6], [9, 2, 7], [8, 2, 5]])
    np.testing.assert_array_equal(labels, [[5, 6, 9], [2, 7, 8], [2, 5, 8]])


def test_shuffling_reorders_but_keeps_every_window():
    stream = tf.range(1, 202, dtype=tf.int32)
    ordered, _ = _windows(window_dataset(stream, 4, batch_size=8, shuffle=False))
    shuffled, shuffled_labels = _windows(window_dataset(stream, 4, batch_size=8, shuffle=True))
    np.testing.assert_array_equal(shuffled_labels[:, :-1], shuffled[:, 1:])
    assert sorted(map(tuple, shuffled)) == sorted(map(tuple, ordered))
    assert not np.array_equal(shuffled, ordered)


def test_a_stream_of_exactly_one_window_is_enough():
    inputs, labels = _windows(window_dataset(tf.range(1, 7), 5, batch_size=2, shuffle=False))
    np.testing.assert_array_equal(inputs, [[1, 2, 3, 4, 5]])
    np.testing.assert_array_equal(labels, [[2, 3, 4, 5, 6]])


def test_a_stream_shorter_than_one_window_is_a_data_error():
    with pytest.raises(DataError, match="too short"):
        window_dataset(tf.range(1, 6), sequence_length=5, batch_size=2, shuffle=False)
