"""Extra translator training data: dictd dictionaries (FreeDict) and concatenated pairs."""

import gzip
import json
import os

import pytest
from conftest import TINY_TRANSLATOR

from apptk.applications.errors import DataError
from apptk.applications.text.tatoeba_pairs import SentencePair
from apptk.applications.translation import TranslatorConfig, fit_translator
from apptk.applications.translation.dictionary_pairs import dictionary_pairs
from apptk.applications.translation.training_pairs import (
    concatenated_pairs,
    mixed_training_pairs,
    training_pair_splits,
)

DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
ENTRIES = {
    "00databaseinfo": "00-database-info\nA made-up dictionary.\n",
    "arrest": "arrest /ərest/\n1. arresto, detención\n2. arrestar, detener\n",
    "cat": "cat /kæt/\ngato\n",
    "the": "the /ðneðəlændz/\nHolanda, LosPaísesBajos\n",
    "netherlands": "Netherlands /neðələndz/\nLosPaísesBajos\n",
    "Good morning": "Good morning /gudmɔːniŋ/\nbuenos días\n",
}


def dictd_number(value: int) -> str:
    digits = ""
    while True:
        digits = DIGITS[value % 64] + digits
        value //= 64
        if not value:
            return digits


def write_dictd(folder, entries=ENTRIES, compressed=True) -> str:
    """A dictd dictionary as dictfmt writes one: the index, and the entries (dictzip)."""
    text, lines = b"", []
    for headword, entry in entries.items():
        data = entry.encode("utf-8")
        lines.append(f"{headword}\t{dictd_number(len(text))}\t{dictd_number(len(data))}")
        text += data
    index = os.path.join(folder, "test-dict.index")
    with open(index, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    entries_path = os.path.join(folder, "test-dict.dict" + (".dz" if compressed else ""))
    with (gzip.open if compressed else open)(entries_path, "wb") as handle:
        handle.write(text)
    return index


def append(path: str, text: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)


def overwrite(path: str) -> None:
    with open(path, "wb") as handle:
        handle.write(b"not gzip at all")


def test_each_sense_gives_its_first_translation_and_damaged_entries_are_left_out(tmp_path):
    pairs = dictionary_pairs(write_dictd(tmp_path))
    assert pairs == [
        SentencePair("arrest", "arresto"),
        SentencePair("arrest", "arrestar"),
        SentencePair("cat", "gato"),
        SentencePair("Good morning", "buenos días"),
    ]


def test_the_index_the_entries_and_plain_dict_files_all_name_the_dictionary(tmp_path):
    index = write_dictd(tmp_path, compressed=False)
    expected = dictionary_pairs(index)
    assert dictionary_pairs(index.replace(".index", ".dict")) == expected
    assert len(expected) == 4


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (lambda index: os.remove(index.replace(".index", ".dict.dz")), "no "),
        (lambda index: os.remove(index), "file not found"),
        (lambda index: append(index, "cat\tB\n"), "is not headword"),
        (lambda index: append(index, "dog\tB!\tC\n"), "not dictd base64"),
        (lambda index: append(index, "dog\tBAAA\tC\n"), "past the end"),
        (lambda index: overwrite(index.replace(".index", ".dict.dz")), "Cannot read"),
    ],
)
def test_a_damaged_dictionary_is_one_clear_error(tmp_path, damage, words):
    index = write_dictd(tmp_path)
    damage(index)
    with pytest.raises(DataError, match=words):
        dictionary_pairs(index)


def test_a_dictionary_joins_the_training_files(tmp_path, synthetic_pairs_file):
    index = write_dictd(tmp_path)
    splits = training_pair_splits([synthetic_pairs_file, f"{index}:3"])
    for pair in dictionary_pairs(index):
        found = {name: split.count(pair) for name, split in splits.items() if pair in split}
        assert found in ({"train": 3}, {"validation": 1}, {"test": 1})


def test_concatenated_pairs_join_consecutive_sentences_only():
    pairs = [
        SentencePair("I eat.", "Como."),
        SentencePair("army", "ejército"),
        SentencePair("Go!", "¡Vete!"),
        SentencePair("Is it?", "¿Lo es?"),
        SentencePair("Yes.", "Sí."),
    ]
    sentences = [pair for pair in pairs if pair.english != "army"]
    runs = {
        SentencePair(" ".join(p.english for p in run), " ".join(p.spanish for p in run))
        for size in (2, 3, 4)
        for start in range(len(sentences) - size + 1)
        for run in [sentences[start : start + size]]
    }
    joined = concatenated_pairs(pairs, share=2.0, seed=3)
    assert len(joined) == 10
    assert set(joined) <= runs
    assert len(set(joined)) > 1
    assert concatenated_pairs(pairs, share=2.0, seed=3) == joined
    assert concatenated_pairs(pairs, share=0.0) == []


def test_training_pairs_of_several_files_are_mixed_across_the_whole_epoch():
    first = [SentencePair(f"Tom reads book {n}.", f"Tom lee el libro {n}.") for n in range(500)]
    second = [SentencePair(f"Click button {n}.", f"Pulse el botón {n}.") for n in range(500)]
    mixed = mixed_training_pairs(first + second, concatenated_share=0.1, seed=0)
    assert len(mixed) == 1100
    assert set(first + second) <= set(mixed)
    for start in range(0, 1100, 110):  # every tenth of the epoch holds both files
        tenth = {pair.english.split()[0] for pair in mixed[start : start + 110]}
        assert {"Tom", "Click"} <= tenth
    assert mixed_training_pairs(first + second, 0.1, seed=0) == mixed
    assert mixed_training_pairs(first + second, 0.1, seed=1) != mixed


def test_a_translator_trains_with_concatenated_pairs_and_a_longer_max_length(
    tmp_path, synthetic_pairs_file
):
    config = TranslatorConfig(
        **{**TINY_TRANSLATOR, "epochs": 1, "max_length": 40, "concatenated_share": 0.5}
    )
    summary = fit_translator(synthetic_pairs_file, str(tmp_path / "long"), config)
    saved = json.loads((tmp_path / "long" / "config.json").read_text())
    assert saved["concatenated_share"] == 0.5 and saved["max_length"] == 40
    assert summary["epochs"] == 1


def test_the_configuration_refuses_out_of_range_values():
    with pytest.raises(DataError, match="concatenated_share"):
        TranslatorConfig(concatenated_share=-1)
    with pytest.raises(DataError, match="max_length"):
        TranslatorConfig(max_length=4)
