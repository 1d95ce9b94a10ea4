"""BERT's masking (tensorflow-text's selector and chooser): rates, reserved ids, labels, seeds."""

import math

import numpy as np
import pytest
import tensorflow as tf

from apptk.applications.fill_mask.data import (
    mask_tokens,
    masked_dataset,
    max_predictions,
)
from apptk.applications.text.wordpiece import (
    END_ID,
    MASK_ID,
    PAD_ID,
    RESERVED_TOKENS,
    START_ID,
    WordPieceTokenizer,
    sentence_ids,
)

MAX_LENGTH = 24
RESERVED = len(RESERVED_TOKENS)


def random_rows(count: int, vocabulary_size: int, seed: int = 0) -> list[list[int]]:
    """Rows of 1 to 30 word-piece ids (some longer than `MAX_LENGTH` allows)."""
    rng = np.random.default_rng(seed)
    return [
        rng.integers(RESERVED, vocabulary_size, size=rng.integers(1, 31)).tolist()
        for _ in range(count)
    ]


class Masked:
    """`mask_tokens` on random rows, with the values it chose gathered per prediction."""

    def __init__(self, rows, vocabulary_size: int, seed: int = 3, eager: bool = False):
        self.rows = rows
        words = tf.RaggedTensor.from_row_lengths(
            np.concatenate(rows).astype("int32"), [len(row) for row in rows]
        )
        self.ids = sentence_ids(words, MAX_LENGTH)
        self.original = self.ids.to_tensor().numpy()
        tf.random.set_seed(seed)

        def mask(ids):
            return mask_tokens(ids, vocabulary_size, MAX_LENGTH)

        # A graph is much faster (tensorflow-text's per-row selection runs row by row when
        # eager), but its `map_fn` runs rows in parallel on one random kernel: only eager
        # masking (what `evaluate_fill_mask` does) is reproducible from the seed.
        inputs, labels = (mask if eager else tf.function(mask))(self.ids)
        self.token_ids = inputs["token_ids"].numpy()
        self.positions = inputs["mask_positions"].numpy()
        self.labels = labels.numpy()
        self.real = self.labels != PAD_ID
        self.chosen = np.take_along_axis(self.token_ids, self.positions, 1)[self.real]
        self.at_positions = np.take_along_axis(self.original, self.positions, 1)[self.real]


@pytest.fixture(scope="module")
def masked() -> Masked:
    return Masked(random_rows(4000, vocabulary_size=60), vocabulary_size=60)


def test_sentence_ids_wrap_and_cut_to_max_length():
    ids = sentence_ids(tf.ragged.constant([[7, 8], list(range(10, 40))], dtype=tf.int32), 8)
    assert ids.to_list() == [[START_ID, 7, 8, END_ID], [START_ID, *range(10, 16), END_ID]]


@pytest.mark.parametrize(
    "max_length, rate, expected", [(48, 0.15, 8), (24, 0.15, 4), (16, 0.15, 3), (4, 0.15, 1)]
)
def test_max_predictions(max_length, rate, expected):
    assert max_predictions(max_length, rate) == expected


def test_shapes_and_dtypes(masked):
    width = max_predictions(MAX_LENGTH, 0.15)
    assert masked.token_ids.shape == masked.original.shape
    assert masked.positions.shape == masked.labels.shape == (len(masked.rows), width)
    assert masked.token_ids.dtype == masked.positions.dtype == np.int32


def test_each_row_gets_fifteen_percent_of_its_words_rounded_up(masked):
    """tensorflow-text picks ceil(rate * selectable tokens) per row, at most the width."""
    words = np.array([min(len(row), MAX_LENGTH - 2) for row in masked.rows])
    expected = np.minimum(np.ceil(0.15 * words), max_predictions(MAX_LENGTH, 0.15))
    np.testing.assert_array_equal(masked.real.sum(1), expected)
    long_rows = words >= 20
    rate = masked.real[long_rows].sum() / words[long_rows].sum()
    assert 0.15 <= rate <= 0.15 + 1 / 20
    assert masked.real.sum() / words.sum() == pytest.approx(expected.sum() / words.sum())


def test_positions_are_distinct_words_of_their_row(masked):
    lengths = (masked.original != PAD_ID).sum(1)
    for row in range(len(masked.rows)):
        positions = masked.positions[row][masked.real[row]]
        assert len(set(positions.tolist())) == len(positions)
        assert np.all((positions >= 1) & (positions <= lengths[row] - 2)), row


def test_boundaries_and_padding_are_never_chosen(masked):
    assert not np.isin(masked.at_positions, [PAD_ID, START_ID, END_ID]).any()
    untouched = np.ones_like(masked.original, bool)
    for row in range(len(masked.rows)):
        untouched[row, masked.positions[row][masked.real[row]]] = False
    np.testing.assert_array_equal(masked.token_ids[untouched], masked.original[untouched])


def test_labels_are_the_original_ids_and_zero_for_missing_predictions(masked):
    np.testing.assert_array_equal(masked.labels[masked.real], masked.at_positions)
    assert np.all(masked.positions[~masked.real] == 0)


def test_eighty_percent_masked_ten_random_ten_kept(masked):
    """Within 5 standard deviations of BERT's split, corrected for random draws that happen
    to give [MASK] or the original id (a reserved draw is drawn again from the word pieces)."""
    vocabulary_size = 60
    count = len(masked.chosen)
    assert count > 5000
    same = 1 / vocabulary_size + (RESERVED - 1) / vocabulary_size / (vocabulary_size - RESERVED)
    expected = {
        "mask": 0.8 + 0.1 / vocabulary_size,
        "kept": 0.1 + 0.1 * same,
    }
    expected["random"] = 1 - expected["mask"] - expected["kept"]
    observed = {
        "mask": np.mean(masked.chosen == MASK_ID),
        "kept": np.mean(masked.chosen == masked.at_positions),
    }
    observed["random"] = 1 - observed["mask"] - observed["kept"]
    for name, share in expected.items():
        bound = 5 * math.sqrt(share * (1 - share) / count)
        assert abs(observed[name] - share) < bound, (name, observed[name], share)


def test_random_replacements_are_word_pieces_never_reserved_ids():
    """A small vocabulary makes reserved draws common: each one must be drawn again."""
    vocabulary_size = 10
    result = Masked(random_rows(3000, vocabulary_size), vocabulary_size)
    replaced = (result.chosen != MASK_ID) & (result.chosen != result.at_positions)
    assert replaced.sum() > 300
    assert np.all(result.chosen[replaced] >= RESERVED)
    assert np.all(result.chosen[replaced] < vocabulary_size)
    # Reserved draws, redrawn, still leave every word piece among the replacements.
    assert set(result.chosen[replaced].tolist()) == set(range(RESERVED, vocabulary_size))


def test_the_same_seed_masks_the_same_tokens_when_eager():
    rows = random_rows(40, 60, seed=4)
    first, again, other = (Masked(rows, 60, seed, eager=True) for seed in (7, 7, 8))
    np.testing.assert_array_equal(first.token_ids, again.token_ids)
    np.testing.assert_array_equal(first.positions, again.positions)
    assert not np.array_equal(first.positions, other.positions)


def test_a_row_with_one_word_gets_one_prediction():
    result = Masked([[9], [9, 10]], vocabulary_size=60)
    assert result.real.sum(1).tolist() == [1, 1]
    assert result.positions[0, 0] == 1 and result.labels[0, 0] == 9


TOKENS = list(RESERVED_TOKENS) + ["the", "cat", "sits", "on", "mat", "dog", "sleeps", "rug", "."]


@pytest.fixture(scope="module")
def tokenizer() -> WordPieceTokenizer:
    return WordPieceTokenizer(TOKENS, case_fold=True)


def test_masked_dataset_batches_label_the_tokenized_sentences(tokenizer):
    lines = ["The cat sits on the mat .", "the dog sleeps on the rug .", "the cat ."]
    [(inputs, labels)] = list(masked_dataset(lines, tokenizer, max_length=10, batch_size=4))
    original = sentence_ids(tokenizer.tokenize(tf.constant(lines)), 10).to_tensor().numpy()
    assert inputs["token_ids"].shape == original.shape
    assert inputs["mask_positions"].shape == labels.shape == (3, max_predictions(10, 0.15))
    positions, labels = inputs["mask_positions"].numpy(), labels.numpy()
    real = labels != PAD_ID
    np.testing.assert_array_equal(np.take_along_axis(original, positions, 1)[real], labels[real])
    assert real.sum(1).tolist() == [2, 2, 1]  # ceil(0.15 * 7), ceil(0.15 * 7), ceil(0.15 * 2)


def test_masked_dataset_masks_other_tokens_each_epoch(tokenizer):
    """Dynamic masking (RoBERTa): iterating again draws new masks."""
    lines = ["the cat sits on the mat ."] * 64
    dataset = masked_dataset(lines, tokenizer, max_length=10, batch_size=16, shuffle=True)
    epochs = [
        np.concatenate([inputs["mask_positions"].numpy() for inputs, _ in dataset])
        for _ in range(2)
    ]
    assert epochs[0].shape == epochs[1].shape == (64, 2)
    assert not np.array_equal(epochs[0], epochs[1])
