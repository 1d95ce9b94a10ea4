import unicodedata

import pytest
import tensorflow as tf

from apptk.applications.text.processing import (
    capitalize_first_letter,
    join_wordpieces,
    normalize_text,
)


def strings(tensor) -> list[str]:
    return [value.decode("utf-8") for value in tensor.numpy()]


def normalize(texts: list[str], case_fold: bool) -> list[str]:
    return strings(normalize_text(tf.constant(texts), case_fold))


def test_source_text_is_case_folded_target_text_keeps_its_case():
    assert normalize(["Hello WORLD", "ÉL Está AQUÍ"], case_fold=True) == [
        "hello world",
        "él está aquí",
    ]
    assert normalize(["Hello WORLD", "ÉL Está AQUÍ"], case_fold=False) == [
        "Hello WORLD",
        "ÉL Está AQUÍ",
    ]


@pytest.mark.parametrize("case_fold", [False, True])
def test_composed_and_decomposed_accents_normalize_alike(case_fold):
    composed = unicodedata.normalize("NFC", "Él comió café y piña")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert normalize([composed], case_fold) == normalize([decomposed], case_fold)
    assert normalize([decomposed], case_fold)[0] == unicodedata.normalize(
        "NFC", composed.casefold() if case_fold else composed
    )


def test_compatibility_characters_are_unified():
    assert normalize(["ﬁn Ａ"], case_fold=False) == ["fin A"]


def test_punctuation_gets_spaces_and_whitespace_collapses():
    text = "¿Qué tal?¡Bien!  Sí,no.\tDijo:  (eso)"
    assert normalize([text], case_fold=False) == ["¿ Qué tal ? ¡ Bien ! Sí , no . Dijo : ( eso )"]
    assert normalize(["   ", ""], case_fold=True) == ["", ""]


def test_normalize_keeps_the_shape_of_the_input():
    texts = tf.constant([["A b", "C,d"], ["e", "F!"]])
    assert normalize_text(texts, case_fold=True).shape == (2, 2)


@pytest.mark.parametrize(
    "pieces, text",
    [
        (["¿", "có", "##mo", "estás", "?"], "¿cómo estás?"),
        (["¡", "ho", "##la", ",", "a", "##mi", "##go", "!"], "¡hola, amigo!"),
        (["Él", "dijo", ":", '"', "sí", '"', "(", "ayer", ")", "."], 'Él dijo: "sí" (ayer).'),
        (["La", "ni", "##ña", "comió", ";", "yo", "no", "."], "La niña comió; yo no."),
        ([], ""),
    ],
)
def test_join_wordpieces_reads_like_spanish(pieces, text):
    tokens = tf.ragged.constant([pieces], dtype=tf.string)
    assert strings(join_wordpieces(tokens)) == [text]


def test_join_wordpieces_undoes_normalize_text():
    sentences = [
        "¿Dónde está la estación?",
        "¡Qué día tan bonito!",
        "Sí, claro; mañana: a las diez.",
    ]
    words = tf.strings.split(normalize_text(tf.constant(sentences), case_fold=False))
    assert strings(join_wordpieces(words)) == sentences


@pytest.mark.parametrize(
    "text, expected",
    [
        ("¿cómo estás?", "¿Cómo estás?"),
        ("¡¿qué pasó?!", "¡¿Qué pasó?!"),
        ("él está aquí.", "Él está aquí."),
        ("ñandú", "Ñandú"),
        ('"hola", dijo.', '"Hola", dijo.'),
        ("Ya empieza con mayúscula.", "Ya empieza con mayúscula."),
        ("3 gatos", "3 gatos"),
        ("¿", "¿"),
        ("", ""),
    ],
)
def test_capitalize_first_letter(text, expected):
    assert strings(capitalize_first_letter(tf.constant([text]))) == [expected]
