"""A run keeps what it trained on (`data.json`), and `--resume` on other data says so."""

import json
import os
import warnings

import pytest
from cli_checks import invoke
from conftest import TINY_TRANSLATOR
from next_word_fixtures import synthetic_lines, write_corpus

from apptk.applications.run.data_record import describe_data
from apptk.applications.translation import TranslatorConfig, fit_translator


def test_describe_data_names_files_weights_and_sizes(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"12345")
    folder = tmp_path / "photos"
    (folder / "cat").mkdir(parents=True)
    (folder / "cat" / "1.jpg").write_bytes(b"x" * 7)
    (folder / "2.jpg").write_bytes(b"y" * 3)
    assert describe_data([(str(tmp_path / "a.txt"), 3), (str(folder) + "/", 1), (None, 1)]) == [
        {"file": "a.txt", "weight": 3, "bytes": 5},
        {"file": "photos", "weight": 1, "bytes": 10},
        {"file": "download", "weight": 1, "bytes": None},
    ]


def data_warnings(caught) -> list[str]:
    return [str(w.message) for w in caught if "the remaining epochs train on" in str(w.message)]


def test_translator_resume_warns_only_when_the_data_change(tmp_path, synthetic_pairs_file):
    out = str(tmp_path / "tiny")
    config = TranslatorConfig(**{**TINY_TRANSLATOR, "epochs": 1})
    fit_translator(synthetic_pairs_file, out, config)
    recorded = json.loads((tmp_path / "tiny" / "data.json").read_text())
    assert recorded == [
        {"file": "pairs.txt", "weight": 1, "bytes": os.path.getsize(synthetic_pairs_file)}
    ]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit_translator(
            synthetic_pairs_file,
            out,
            TranslatorConfig(**{**TINY_TRANSLATOR, "epochs": 2}),
            resume=True,
        )
    assert data_warnings(caught) == []

    with pytest.warns(
        UserWarning,
        match=r"trained on pairs\.txt \(\d[\d,]* bytes\); the remaining epochs train on pairs\.txt:2",
    ):
        fit_translator(
            f"{synthetic_pairs_file}:2",
            out,
            TranslatorConfig(**{**TINY_TRANSLATOR, "epochs": 3}),
            resume=True,
        )
    assert json.loads((tmp_path / "tiny" / "data.json").read_text())[0]["weight"] == 2


def test_resume_on_another_corpus_is_one_warning_line(tmp_path):
    corpus = write_corpus(tmp_path / "corpus.txt")
    other = write_corpus(tmp_path / "other.txt", synthetic_lines(300, seed=1))
    out = str(tmp_path / "lm")
    tiny = ["--units", "8", "--vocabulary-size", "50", "--layers", "1"]
    assert invoke("fit", "next-word", corpus, "--out", out, "--epochs", "1", *tiny).exit_code == 0
    result = invoke("fit", "next-word", other, "--out", out, "--resume", "--epochs", "2")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if "remaining epochs" in line]
    assert len(lines) == 1 and lines[0].startswith("Warning: --resume: the run in ")
    assert "trained on corpus.txt (" in lines[0] and "train on other.txt (" in lines[0]


def test_a_run_from_before_the_record_is_resumed_without_a_warning(tmp_path):
    corpus = write_corpus(tmp_path / "corpus.txt")
    out = tmp_path / "lm"
    tiny = ["--units", "8", "--vocabulary-size", "50", "--layers", "1"]
    assert (
        invoke("fit", "next-word", corpus, "--out", str(out), "--epochs", "1", *tiny).exit_code == 0
    )
    (out / "data.json").unlink()
    result = invoke("fit", "next-word", corpus, "--out", str(out), "--resume", "--epochs", "2")
    assert result.exit_code == 0, result.output
    assert "remaining epochs" not in result.stderr
    assert json.loads((out / "data.json").read_text())[0]["file"] == "corpus.txt"
