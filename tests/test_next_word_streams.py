"""Word-level language modelling on one stream (`next_word.streams`): vocabulary, batch layout,
whole-stream and per-sentence perplexity, training with checkpoints and resume."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from apptk.applications.errors import DataError
from apptk.applications.models.recurrent_language_model import RecurrentLanguageModel
from apptk.applications.next_word.streams import (
    EOS,
    StreamTraining,
    StreamVocabulary,
    batchify,
    count_batches,
    fit_stream,
    read_checkpoint,
    read_sentences,
    read_stream,
    sentence_score,
    stream_batches,
    stream_dataset,
    stream_score,
    window_score,
)


@pytest.fixture
def ptb_like(tmp_path):
    """A tiny PTB-style split: the train file holds every word of valid, test lacks one."""
    train = tmp_path / "train.txt"
    train.write_text(" the cat sat \n the dog sat on the <unk> \n\n a cat \n")
    valid = tmp_path / "valid.txt"
    valid.write_text(" the dog sat \n a <unk> \n")
    test = tmp_path / "test.txt"
    test.write_text(" the bird sat \n")
    return train, valid, test


class UniformModel:
    """Equal logits for all `size` outputs, with and without a state."""

    def __init__(self, size):
        self.size = size

    def __call__(self, token_ids, training=False):
        return tf.zeros(tf.concat([tf.shape(token_ids), [self.size]], axis=0))

    def step(self, token_ids, states, training=False):
        return self(token_ids), states


def test_vocabulary_is_the_train_files_words_with_eos(ptb_like):
    train, valid, _ = ptb_like
    vocabulary = StreamVocabulary.from_file(str(train))
    # 4 lines, so 4 <eos>; "the" 3; "sat", "cat" 2; the rest once, ties by spelling.
    assert vocabulary.words == (EOS, "the", "cat", "sat", "<unk>", "a", "dog", "on")
    assert vocabulary.size == 9  # with the padding id 0
    assert vocabulary.eos_id == 1
    np.testing.assert_array_equal(read_stream(str(valid), vocabulary), [2, 7, 4, 1, 6, 5, 1])
    sentences = read_sentences(str(valid), vocabulary)
    assert [s.tolist() for s in sentences] == [[2, 7, 4], [6, 5]]


def test_a_word_outside_the_train_vocabulary_is_an_error(ptb_like):
    train, _, test = ptb_like
    vocabulary = StreamVocabulary.from_file(str(train))
    with pytest.raises(DataError, match="'bird'"):
        read_stream(str(test), vocabulary)


def test_batch_layout_is_contiguous_streams_cut_in_bptt_chunks():
    ids = np.arange(1, 24)  # 23 tokens -> 2 streams of 11, one token dropped
    np.testing.assert_array_equal(batchify(ids, 2), [list(range(1, 12)), list(range(12, 23))])
    batches = list(stream_batches(ids, batch_size=2, bptt=3))
    assert len(batches) == count_batches(ids, 2, 3) == 3  # (11 - 1) // 3
    inputs, targets = batches[1]
    np.testing.assert_array_equal(inputs, [[4, 5, 6], [15, 16, 17]])
    np.testing.assert_array_equal(targets, [[5, 6, 7], [16, 17, 18]])
    dataset_inputs, dataset_targets = list(stream_dataset(ids, 2, 3))[2]
    np.testing.assert_array_equal(dataset_inputs, [[7, 8, 9], [18, 19, 20]])
    np.testing.assert_array_equal(dataset_targets, [[8, 9, 10], [19, 20, 21]])


def test_a_uniform_model_has_the_vocabulary_size_as_perplexity():
    ids = np.random.default_rng(0).integers(1, 50, size=103)
    model = UniformModel(50)
    for score in [
        stream_score(model, ids, chunk_length=10),
        window_score(model, ids, context_length=8, stride=3, batch_size=4),
    ]:
        assert score.tokens == 102
        # Every token counted exactly once: total NLL is 102 log 50, no more, no less.
        assert score.nll == pytest.approx(102 * math.log(50), rel=1e-6)
        assert score.perplexity == pytest.approx(50)
    sentences = [np.array([3, 4, 5]), np.array([6]), np.array([], np.int32)]
    score = sentence_score(model, sentences, start_id=1)
    assert score.tokens == 4
    assert score.perplexity == pytest.approx(50)
    # A sentence longer than a stateless model's context is scored in windows, once per word.
    long = sentence_score(model, [*sentences, np.arange(1, 8)], 1, context_length=3, stride=2)
    assert long.tokens == 11
    assert long.nll == pytest.approx(11 * math.log(50), rel=1e-6)


def tiny_lstm(vocabulary_size=12):
    keras.utils.set_random_seed(3)
    model = RecurrentLanguageModel(
        vocabulary_size, cell="lstm", embedding_dim=8, units=8, dropout=0.0, tie_weights=False
    )
    model(np.ones((1, 2), "int32"))
    return model


def test_stream_score_carries_the_state_across_chunks():
    ids = np.random.default_rng(1).integers(1, 12, size=41).astype("int32")
    model = tiny_lstm()
    logits = model(ids[None, :-1])
    log_probabilities = tf.nn.log_softmax(logits)[0].numpy()
    whole = -log_probabilities[np.arange(40), ids[1:]].sum()
    chunked = stream_score(model, ids, chunk_length=7)  # 6 chunks, the last one padded
    assert chunked.tokens == 40
    assert chunked.nll == pytest.approx(whole, rel=1e-5)
    # Resetting the state at each chunk would give another figure: the carry is what matches.
    reset = sum(stream_score(model, ids[start : start + 8], 7).nll for start in range(0, 40, 7))
    assert abs(reset - whole) > 1e-3


def test_per_sentence_score_starts_each_line_fresh_after_the_start_token():
    model = tiny_lstm()
    sentence = np.array([4, 9, 2], np.int32)
    log_probabilities = tf.nn.log_softmax(model(np.array([[1, 4, 9]], np.int32)))[0].numpy()
    expected = -log_probabilities[np.arange(3), sentence].sum()
    score = sentence_score(model, [sentence, np.array([5, 5], np.int32)], start_id=1)
    alone = sentence_score(model, [sentence], start_id=1)
    assert alone.nll == pytest.approx(expected, rel=1e-5)
    assert score.tokens == 5


def training(epochs, optimizer="sgd", average_weights=None):
    return StreamTraining(
        batch_size=2,
        bptt=4,
        epochs=epochs,
        learning_rate=lambda epoch: 0.5 ** (epoch - 1),
        optimizer=optimizer,
        average_weights=average_weights,
    )


@pytest.mark.parametrize(
    "optimizer, average_weights", [("sgd", None), ("adamw", 0.9)], ids=["sgd", "adamw-averaged"]
)
def test_resume_continues_after_the_last_finished_epoch(tmp_path, optimizer, average_weights):
    """Two epochs, then a resumed third, end with the weights of three epochs straight."""
    ids = np.random.default_rng(2).integers(1, 12, size=60).astype("int32")
    quiet = [].append

    straight = tiny_lstm()
    fit_stream(
        straight,
        ids,
        training(3, optimizer, average_weights),
        str(tmp_path / "straight"),
        log=quiet,
    )

    interrupted = tiny_lstm()
    first = fit_stream(
        interrupted, ids, training(2, optimizer, average_weights), str(tmp_path / "run"), log=quiet
    )
    assert first["epoch"] == 2
    assert read_checkpoint(str(tmp_path / "run"))["epoch"] == 2
    resumed_model = tiny_lstm()  # a fresh process: new weights, replaced by the checkpoint
    lines = []
    resumed = fit_stream(
        resumed_model,
        ids,
        training(3, optimizer, average_weights),
        str(tmp_path / "run"),
        validation=lambda: stream_score(resumed_model, ids),
        resume=True,
        log=lines.append,
    )
    assert "after epoch 2" in lines[0]
    assert [record["epoch"] for record in resumed["history"]] == [1, 2, 3]
    assert [r["learning_rate"] for r in resumed["history"]] == pytest.approx([1.0, 0.5, 0.25])
    assert resumed["history"][:2] == first["history"]
    assert "valid_perplexity" in resumed["history"][2]
    assert not resumed["cut_short"]
    for mine, theirs in zip(resumed_model.weights, straight.weights, strict=True):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_max_steps_marks_the_run_cut_short(tmp_path):
    ids = np.random.default_rng(2).integers(1, 12, size=60).astype("int32")
    short = StreamTraining(2, 4, 1, lambda epoch: 1.0, max_steps=2)
    state = fit_stream(tiny_lstm(), ids, short, str(tmp_path), log=[].append)
    assert state["cut_short"]
    assert state["history"][0]["train_tokens"] == 2 * 2 * 4
