import pytest
import tensorflow as tf

from apptk.applications.errors import DataError
from apptk.applications.text.corpus import split_corpus
from apptk.applications.text.word_vocabulary import WordTokenizer, learn_word_vocabulary
from apptk.applications.text.wordpiece import RESERVED_TOKENS, UNK_ID

RESERVED = list(RESERVED_TOKENS)


def tokenize(tokenizer, text: str) -> list[int]:
    return tokenizer.tokenize(tf.constant([text]))[0].numpy().tolist()


# learn_word_vocabulary


def test_words_are_ranked_by_frequency_after_the_reserved_tokens():
    texts = ["fox dog dog", "cat dog fox", "dog"]  # dog 4, fox 2, cat 1
    assert learn_word_vocabulary(texts, max_size=100) == [*RESERVED, "dog", "fox", "cat"]


def test_ties_are_broken_alphabetically_whatever_the_order_of_the_text():
    first = learn_word_vocabulary(["pear apple fig", "zebra"], max_size=100)
    second = learn_word_vocabulary(["zebra", "fig apple pear"], max_size=100)
    assert first == second == [*RESERVED, "apple", "fig", "pear", "zebra"]


def test_max_size_counts_the_reserved_tokens_and_keeps_the_most_frequent():
    texts = ["a a a a b b b c c d"]
    vocabulary = learn_word_vocabulary(texts, max_size=len(RESERVED) + 2)
    assert vocabulary == [*RESERVED, "a", "b"]


def test_min_count_drops_rare_words():
    texts = ["a a a b b c", "a b"]  # a 4, b 3, c 1
    assert learn_word_vocabulary(texts, max_size=100, min_count=3) == [*RESERVED, "a", "b"]
    assert learn_word_vocabulary(texts, max_size=100, min_count=5) == RESERVED


def test_words_are_case_folded_and_punctuation_is_a_word():
    vocabulary = learn_word_vocabulary(["The fox.", "the FOX, the dog."], max_size=100)
    assert vocabulary == [*RESERVED, "the", ".", "fox", ",", "dog"]


@pytest.mark.parametrize("texts", [[], [""], ["   ", "\t"]], ids=["no-lines", "empty", "blank"])
def test_a_corpus_without_words_is_a_data_error(texts):
    with pytest.raises(DataError, match="no words"):
        learn_word_vocabulary(texts, max_size=100)


# WordTokenizer


@pytest.fixture(scope="module")
def tokenizer():
    return WordTokenizer([*RESERVED, "the", "quick", "brown", "fox", ".", ","])


def test_tokenize_folds_case(tokenizer):
    assert tokenize(tokenizer, "THE Quick bRoWn") == tokenize(tokenizer, "the quick brown")
    assert tokenize(tokenizer, "the quick brown") == [5, 6, 7]


def test_tokenize_splits_punctuation_off_words(tokenizer):
    assert tokenize(tokenizer, "the fox.") == [5, 8, 9]
    assert tokenize(tokenizer, "fox,the") == [8, 10, 5]


def test_unknown_words_map_to_unk_id_1(tokenizer):
    assert UNK_ID == 1
    assert tokenize(tokenizer, "the lazy dog") == [5, UNK_ID, UNK_ID]


def test_tokenize_keeps_one_row_per_text(tokenizer):
    ids = tokenizer.tokenize(tf.constant(["the fox", "", "quick"]))
    assert ids.to_list() == [[5, 8], [], [6]]


def test_lookup_inverts_tokenize_for_known_words(tokenizer):
    words = ["the", "quick", "brown", "fox", "."]
    ids = tokenizer.tokenize(tf.constant([" ".join(words)]))
    looked_up = tokenizer.lookup(ids.flat_values).numpy()
    assert [word.decode() for word in looked_up] == words


def test_lookup_works_on_any_shape(tokenizer):
    words = tokenizer.lookup(tf.constant([[5, 8], [1, 0]])).numpy()
    assert words.tolist() == [[b"the", b"fox"], [b"[UNK]", b"[PAD]"]]


def test_vocabulary_size(tokenizer):
    assert tokenizer.vocabulary_size == len(RESERVED) + 6


# split_corpus


def _lines(count: int) -> list[str]:
    return [f"sentence number {index} about a fox ." for index in range(count)]


def _split_of(splits: dict) -> dict[str, str]:
    return {line: name for name, lines in splits.items() for line in lines}


def test_split_corpus_holds_out_some_lines_and_loses_none():
    lines = _lines(400)
    splits = split_corpus(lines)
    assert set(splits) == {"train", "validation", "test"}
    assert sorted(line for part in splits.values() for line in part) == sorted(lines)
    assert splits["validation"] and splits["test"]
    assert len(splits["train"]) > len(lines) * 0.8


def test_a_line_lands_in_the_same_split_whatever_else_the_corpus_holds():
    lines = _lines(400)
    alone = _split_of(split_corpus(lines))
    with_more = _split_of(split_corpus(list(reversed(lines)) + _lines(900)[400:]))
    assert all(with_more[line] == alone[line] for line in lines)
    for line in lines[:20]:
        assert _split_of(split_corpus([line])) == {line: alone[line]}


def test_repeated_lines_are_never_divided_across_splits():
    lines = _lines(100) * 3
    splits = split_corpus(lines)
    for name, part in splits.items():
        for line in set(part):
            assert part.count(line) == 3, (name, line)


def test_split_corpus_keeps_the_order_of_lines_within_a_split():
    lines = _lines(300)
    for part in split_corpus(lines).values():
        assert part == [line for line in lines if line in set(part)]
