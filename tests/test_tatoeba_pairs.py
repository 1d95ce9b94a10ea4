import json
import os
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from apptk.applications.errors import DataError
from apptk.applications.text.splits import stable_split
from apptk.applications.text.tatoeba_pairs import (
    MEMBER_NAME,
    SentencePair,
    group_references,
    load_pairs,
    parse_pairs,
    split_pairs,
)

SHARED_ZIP = Path(__file__).parents[2] / "shared" / "data" / "spa-eng.zip"
needs_shared_zip = pytest.mark.skipif(not SHARED_ZIP.exists(), reason="no local spa-eng.zip")


@pytest.fixture(scope="module")
def shared_lines():
    """The non-blank lines of the shared file, read without apptk."""
    with zipfile.ZipFile(SHARED_ZIP) as archive:
        text = archive.read(MEMBER_NAME).decode("utf-8")
    return [line for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def shared_pairs():
    return load_pairs(str(SHARED_ZIP))


def test_parse_two_and_three_columns():
    text = "Hi.\tHola.\nGo away!\t¡Vete!\tCC-BY 2.0 (France) Attribution: tatoeba.org\n"
    assert parse_pairs(text) == [SentencePair("Hi.", "Hola."), SentencePair("Go away!", "¡Vete!")]


def test_parse_skips_blank_lines_and_strips_spaces():
    text = "\n  Run!\t¡Corre! \n\r\n\nWho?\t¿Quién?\r\n"
    assert parse_pairs(text) == [SentencePair("Run!", "¡Corre!"), SentencePair("Who?", "¿Quién?")]


@pytest.mark.parametrize(
    "bad_line",
    ["no tab at all", "one\ttwo\tthree\tfour", "\tonly Spanish", "only English\t  "],
)
def test_malformed_line_names_its_number(bad_line):
    text = f"Hi.\tHola.\n\nThanks.\tGracias.\n{bad_line}\nBye.\tAdiós.\n"
    with pytest.raises(DataError, match=r"pairs\.txt, line 4: expected") as error:
        parse_pairs(text, source="pairs.txt")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("text", ["", "\n \n\t\n"])
def test_empty_input_is_an_error(text):
    with pytest.raises(DataError, match="holds no sentence pairs"):
        parse_pairs(text, source="empty.txt")


def test_load_plain_text_file(tmp_path):
    path = tmp_path / "pairs.txt"
    path.write_text("I'm cold.\tTengo frío.\nI'm cold.\tEstoy frío.\n", encoding="utf-8")
    pairs = load_pairs(str(path))
    assert pairs == [
        SentencePair("I'm cold.", "Tengo frío."),
        SentencePair("I'm cold.", "Estoy frío."),
    ]


def test_missing_file_is_a_data_error(tmp_path):
    missing = tmp_path / "nowhere.txt"
    with pytest.raises(DataError, match="not found") as error:
        load_pairs(str(missing))
    assert str(missing) in str(error.value)


def test_unreadable_files_are_data_errors(tmp_path):
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Good.\tBueno, señor.\n".encode("latin-1"))
    with pytest.raises(DataError, match="Line 1 of .* is not valid UTF-8"):
        load_pairs(str(latin1))
    no_pairs = tmp_path / "no_pairs.zip"
    with zipfile.ZipFile(no_pairs, "w") as archive:
        archive.writestr("spa-eng/_about.txt", "about")
    with pytest.raises(DataError, match="holds no .txt pairs file"):
        load_pairs(str(no_pairs))


@needs_shared_zip
def test_load_the_shared_zip(shared_pairs, shared_lines):
    assert len(shared_pairs) == len(shared_lines)
    for index in (0, len(shared_lines) // 2, len(shared_lines) - 1):
        english, spanish = shared_lines[index].split("\t")[:2]
        assert shared_pairs[index] == SentencePair(english.strip(), spanish.strip())


@needs_shared_zip
def test_no_english_sentence_in_two_splits(shared_pairs):
    splits = split_pairs(shared_pairs)
    assert sum(len(pairs) for pairs in splits.values()) == len(shared_pairs)
    sentences = {name: {pair.english.lower() for pair in pairs} for name, pairs in splits.items()}
    assert not sentences["train"] & sentences["validation"]
    assert not sentences["train"] & sentences["test"]
    assert not sentences["validation"] & sentences["test"]


@needs_shared_zip
def test_held_out_splits_are_a_few_percent(shared_pairs):
    splits = split_pairs(shared_pairs)
    distinct = len({pair.english for pair in shared_pairs})
    for name in ("validation", "test"):
        share = len(splits[name]) / len(shared_pairs)
        sentence_share = len({pair.english for pair in splits[name]}) / distinct
        assert 0.03 <= share <= 0.07, (name, share)
        assert 0.03 <= sentence_share <= 0.07, (name, sentence_share)


@needs_shared_zip
def test_split_does_not_depend_on_the_other_pairs(shared_pairs):
    full = {pair: name for name, pairs in split_pairs(shared_pairs).items() for pair in pairs}
    subset = random.Random(0).sample(shared_pairs, 3000)
    subset.reverse()
    subset_splits = split_pairs(subset)
    assert all(subset_splits.values()), "the sample should reach every split"
    for name, pairs in subset_splits.items():
        assert all(full[pair] == name for pair in pairs)


@needs_shared_zip
def test_split_is_the_same_in_every_process(shared_pairs):
    sentences = [pair.english for pair in random.Random(1).sample(shared_pairs, 500)]
    script = (
        "import json, sys\n"
        "from apptk.applications.text.splits import stable_split\n"
        "print(json.dumps([stable_split(s) for s in json.loads(sys.stdin.read())]))\n"
    )
    for hash_seed in ("1", "2"):
        result = subprocess.run(
            [sys.executable, "-c", script],
            input=json.dumps(sentences),
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            check=True,
        )
        assert json.loads(result.stdout) == [stable_split(sentence) for sentence in sentences]


def test_split_ignores_case_and_surrounding_spaces():
    sentences = [f"Sentence number {n}." for n in range(300)]
    for sentence in sentences:
        assert stable_split(f"  {sentence.upper()} ") == stable_split(sentence)
    assert {stable_split(sentence) for sentence in sentences} == {"train", "validation", "test"}


def test_group_references_keeps_every_translation():
    pairs = [
        SentencePair("Hi.", "Hola."),
        SentencePair("Run!", "¡Corre!"),
        SentencePair("Hi.", "¡Buenas!"),
        SentencePair("Run!", "¡Corran!"),
        SentencePair("Hi.", "Hola."),
    ]
    sources, references = group_references(pairs)
    assert sources == ["Hi.", "Run!"]
    assert references == [["Hola.", "¡Buenas!", "Hola."], ["¡Corre!", "¡Corran!"]]


@needs_shared_zip
def test_group_references_on_the_shared_data(shared_pairs):
    sources, references = group_references(shared_pairs)
    assert len(sources) == len(set(sources)) == len({pair.english for pair in shared_pairs})
    assert sum(len(refs) for refs in references) == len(shared_pairs)
    regrouped = sorted((s, t) for s, refs in zip(sources, references) for t in refs)
    assert regrouped == sorted((pair.english, pair.spanish) for pair in shared_pairs)
