import unicodedata

import numpy as np
import pytest
import tensorflow as tf

from apptk.applications.errors import ModelFileError
from apptk.applications.text.wordpiece import (
    END_ID,
    PAD_ID,
    RESERVED_TOKENS,
    START_ID,
    UNK_ID,
    WordPieceTokenizer,
    learn_vocabulary,
    read_vocabulary,
    write_vocabulary,
)

SPANISH = [
    "El pingüino Wenceslao hizo kilómetros bajo exhaustiva lluvia y frío.",
    "Añoraba a su querido cachorro.",
    "¿Cómo estás, amigo?",
    "¡Qué día tan bonito!",
    "La niña comió una manzana roja.",
    "¿Dónde está la estación de tren?",
    "Él no sabe nada; ella sí.",
    "Mañana vamos a la playa con mis hermanos.",
    "Dijo: «no quiero», y se fue.",
    "Tengo que irme, adiós.",
]
ENGLISH = [
    "The penguin walked many kilometers in the cold rain.",
    "How are you, my friend?",
    "What a beautiful day!",
    "The girl ate a red apple.",
    "Where is the train station?",
    "He knows nothing; she does.",
    "Tomorrow we go to the beach with my brothers.",
    "I have to leave, goodbye.",
]


@pytest.fixture(scope="module")
def spanish_vocabulary():
    return learn_vocabulary(SPANISH * 3, vocabulary_size=400, case_fold=False)


@pytest.fixture(scope="module")
def spanish_tokenizer(spanish_vocabulary):
    return WordPieceTokenizer(spanish_vocabulary, case_fold=False)


@pytest.fixture(scope="module")
def english_tokenizer():
    vocabulary = learn_vocabulary(ENGLISH * 3, vocabulary_size=400, case_fold=True)
    return WordPieceTokenizer(vocabulary, case_fold=True)


def ids_of(tokenizer, texts: list[str]) -> list[list[int]]:
    return tokenizer.tokenize(tf.constant(texts)).to_list()


def round_trip(tokenizer, texts: list[str]) -> list[str]:
    detokenized = tokenizer.detokenize(tokenizer.tokenize(tf.constant(texts)))
    return [text.decode("utf-8") for text in detokenized.numpy()]


def test_reserved_tokens_come_first(spanish_vocabulary):
    assert tuple(spanish_vocabulary[: len(RESERVED_TOKENS)]) == RESERVED_TOKENS
    assert (PAD_ID, UNK_ID, START_ID, END_ID) == tuple(
        RESERVED_TOKENS.index(token) for token in ("[PAD]", "[UNK]", "[START]", "[END]")
    )
    assert len(set(spanish_vocabulary)) == len(spanish_vocabulary)
    assert len(spanish_vocabulary) <= 400


def test_learned_vocabulary_is_case_folded_only_for_the_source(spanish_vocabulary):
    english = learn_vocabulary(["The Big Red Dog", "A Small Cat"], 100, case_fold=True)
    assert not any(token != token.lower() for token in english[len(RESERVED_TOKENS) :])
    assert any(token != token.lower() for token in spanish_vocabulary[len(RESERVED_TOKENS) :])


def test_known_text_uses_no_reserved_ids(spanish_tokenizer):
    for ids in ids_of(spanish_tokenizer, SPANISH):
        assert min(ids) >= len(RESERVED_TOKENS)


@pytest.mark.parametrize(
    "texts",
    [
        ["¿Cómo estás, amigo?", "¡Qué día tan bonito!", "Él no sabe nada; ella sí."],
        ["La niña está en la estación.", "¿Dónde está mañana el cachorro?"],
        ["Mi hermano comió kilómetros de manzana, ¿no?"],
    ],
)
def test_spanish_round_trip(spanish_tokenizer, texts):
    assert round_trip(spanish_tokenizer, texts) == texts


def test_unseen_words_are_spelled_by_pieces(spanish_tokenizer, spanish_vocabulary):
    unseen = ["cigüeña", "queso", "bañaba", "quitamos", "dormía"]
    assert not set(unseen) & set(spanish_vocabulary)
    for word, ids in zip(unseen, ids_of(spanish_tokenizer, unseen)):
        assert UNK_ID not in ids, word
        assert len(ids) > 1, word
    sentence = "¿Quitamos el queso a la cigüeña?"
    assert round_trip(spanish_tokenizer, [sentence]) == [sentence]


def test_unknown_characters_never_crash(spanish_tokenizer):
    # "ß" never occurs in the corpus: its word is one [UNK], the words around it are intact.
    ids = ids_of(spanish_tokenizer, ["la straße niña", "日本", ""])
    assert ids[0].count(UNK_ID) == 1
    assert ids[1] and set(ids[1]) == {UNK_ID}
    assert ids[2] == []
    assert round_trip(spanish_tokenizer, ["la straße niña"]) == ["la [UNK] niña"]


def test_source_tokenizer_ignores_case(english_tokenizer):
    ids = ids_of(english_tokenizer, ["WHERE IS THE Train Station?", "where is the train station?"])
    assert ids[0] == ids[1]
    assert round_trip(english_tokenizer, ["How Are You?"]) == ["how are you?"]


def test_target_tokenizer_keeps_case(spanish_tokenizer):
    ids = ids_of(spanish_tokenizer, ["La niña", "la niña"])
    assert ids[0] != ids[1]
    assert round_trip(spanish_tokenizer, ["La niña", "la niña"]) == ["La niña", "la niña"]


@pytest.mark.parametrize("tokenizer_name", ["spanish_tokenizer", "english_tokenizer"])
def test_composed_and_decomposed_accents_give_the_same_ids(request, tokenizer_name):
    tokenizer = request.getfixturevalue(tokenizer_name)
    composed = unicodedata.normalize("NFC", "¿Dónde está la niña? Él comió.")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    ids = ids_of(tokenizer, [composed, decomposed])
    assert ids[0] == ids[1]


def test_detokenize_drops_padding_start_and_end(spanish_tokenizer):
    sentence = "¿Cómo estás, amigo?"
    ids = ids_of(spanish_tokenizer, [sentence])[0]
    row = [START_ID, *ids, END_ID, PAD_ID, PAD_ID]
    dense = tf.constant([row, [START_ID, END_ID] + [PAD_ID] * (len(row) - 2)], tf.int32)
    detokenized = spanish_tokenizer.detokenize(dense).numpy()
    assert [text.decode("utf-8") for text in detokenized] == [sentence, ""]


def test_vocabulary_file_round_trip(tmp_path, spanish_vocabulary):
    path = tmp_path / "target_vocabulary.txt"
    write_vocabulary(spanish_vocabulary, str(path))
    assert read_vocabulary(str(path)) == spanish_vocabulary


def test_read_vocabulary_rejects_other_files(tmp_path):
    not_a_vocabulary = tmp_path / "words.txt"
    not_a_vocabulary.write_text("hola\nadiós\n", encoding="utf-8")
    with pytest.raises(ModelFileError, match="is not an apptk WordPiece vocabulary"):
        read_vocabulary(str(not_a_vocabulary))
    with pytest.raises(ModelFileError, match="Cannot read vocabulary"):
        read_vocabulary(str(tmp_path / "missing.txt"))


def test_tokenize_batches_of_any_length(spanish_tokenizer):
    ids = spanish_tokenizer.tokenize(tf.constant(SPANISH))
    assert ids.shape[0] == len(SPANISH)
    lengths = ids.row_lengths().numpy()
    assert np.all(lengths > 0)
    assert lengths.max() > lengths.min()
