import json
import os
import re

import pytest
from cli_checks import assert_one_line_error, invoke
from next_word_fixtures import fitted_folder, synthetic_lines, write_corpus

from apptk.applications.next_word import NextWordPredictor

PUNCTUATION = r"([\.\?\!,;:¿¡\"\(\)])"


def words_of(text: str) -> list[str]:
    return re.sub(PUNCTUATION, r" \1 ", text).split()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    """A fitted LSTM folder (shared with the pipeline tests when run in one session)."""
    return fitted_folder(tmp_path_factory, "lstm")


@pytest.fixture(scope="module")
def predictor(tiny) -> NextWordPredictor:
    return NextWordPredictor.load(tiny)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> str:
    return write_corpus(tmp_path_factory.mktemp("cli_corpus") / "corpus.txt")


# apptk next-word


def test_next_word_prints_top_k_aligned_lines(tiny, predictor):
    result = invoke("next-word", "--model", tiny, "the quick brown", "--top-k", "3")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    expected = predictor(["the quick brown"], top_k=3)[0]
    assert [line.split() for line in lines] == [
        [item["word"], f"{item['probability']:.4f}"] for item in expected
    ]
    probability_columns = {len(line) - len(line.split()[-1]) for line in lines}
    assert len(probability_columns) == 1, lines


def test_next_word_json(tiny, predictor):
    result = invoke("next-word", "--model", tiny, "--json", "A lazy dog")
    assert result.exit_code == 0, result.output
    predictions = json.loads(result.stdout)
    assert len(predictions) == 5
    assert all(set(item) == {"word", "probability"} for item in predictions)
    assert all(0 < item["probability"] <= 1 for item in predictions)
    assert predictions == predictor(["A lazy dog"], top_k=5)[0]


@pytest.mark.parametrize("command", ["next-word", "generate"])
@pytest.mark.parametrize("text", ["", "   "])
def test_empty_text_is_a_one_line_error(tiny, command, text):
    assert_one_line_error(invoke(command, "--model", tiny, text), 1, "text is empty")


def test_text_over_the_character_limit_is_a_one_line_error(tiny):
    result = invoke("next-word", "--model", tiny, "word " * 2001)
    assert_one_line_error(result, 1, "10,000")


def test_text_without_known_words_gets_a_note_and_predictions(tiny):
    result = invoke("next-word", "--model", tiny, "🦊🦊", "--top-k", "2")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 2
    assert "holds no words the model reads" in result.stderr


@pytest.mark.parametrize("command", ["next-word", "generate"])
def test_a_missing_model_is_a_one_line_error(tmp_path, command):
    missing = str(tmp_path / "no_such_model")
    assert_one_line_error(invoke(command, "--model", missing, "the quick"), 1, missing)


def test_a_model_folder_of_another_kind_is_a_one_line_error(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"kind": "translation"}))
    result = invoke("next-word", "--model", str(tmp_path), "the quick")
    assert_one_line_error(result, 1, "translation")


def test_top_k_out_of_range_is_a_usage_error(tiny):
    assert_one_line_error(invoke("next-word", "--model", tiny, "the", "--top-k", "0"), 2, "top-k")


# apptk generate


def test_generate_prints_the_prompt_and_length_words(tiny, predictor):
    result = invoke("generate", "--model", tiny, "the quick", "--length", "4", "--temperature", "0")
    assert result.exit_code == 0, result.output
    [line] = result.stdout.splitlines()
    assert line.startswith("the quick ")
    assert len(words_of(line[len("the quick") :])) == 4
    assert line == predictor.generate("the quick", length=4, temperature=0)


def test_generate_accepts_top_k_top_p_and_seed(tiny, predictor):
    options = ["--length", "6", "--top-k", "3", "--top-p", "0.9", "--seed", "7"]
    result = invoke("generate", "--model", tiny, "A big dog", *options)
    assert result.exit_code == 0, result.output
    expected = predictor.generate("A big dog", length=6, top_k=3, top_p=0.9, seed=7)
    assert result.stdout.strip() == expected


@pytest.mark.parametrize(
    "option, value", [("--length", "0"), ("--temperature", "-1"), ("--top-p", "1.5")]
)
def test_generate_rejects_out_of_range_options(tiny, option, value):
    result = invoke("generate", "--model", tiny, "the quick", option, value)
    assert_one_line_error(result, 2, option)


# apptk evaluate / export / fit next-word


def test_evaluate_next_word_json(tiny, tmp_path):
    held_out = tmp_path / "held_out.txt"
    held_out.write_text("The quick brown fox jumps over the lazy dog .\nA cat sees a bird .\n")
    result = invoke("evaluate", "next-word", str(held_out), "--model", tiny, "--json")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert {"perplexity", "top1_accuracy", "top5_accuracy"} <= set(metrics)
    assert metrics["perplexity"] > 1 and metrics["words"] == 16
    assert 0 <= metrics["top1_accuracy"] <= metrics["top5_accuracy"] <= 1


def test_evaluate_a_missing_file_is_a_one_line_error(tiny, tmp_path):
    result = invoke("evaluate", "next-word", str(tmp_path / "missing.txt"), "--model", tiny)
    assert_one_line_error(result, 1, "not found")


def test_export_next_word_refuses_to_overwrite(tiny, tmp_path):
    out = str(tmp_path / "next_word" / "1")
    first = invoke("export", "next-word", "--model", tiny, "--out", out)
    assert first.exit_code == 0, first.output
    assert os.path.isfile(os.path.join(out, "saved_model.pb"))
    assert out in first.stdout
    assert_one_line_error(
        invoke("export", "next-word", "--model", tiny, "--out", out), 1, "--force"
    )


def test_export_next_word_needs_a_version_folder(tiny, tmp_path):
    result = invoke("export", "next-word", "--model", tiny, "--out", str(tmp_path / "latest"))
    assert_one_line_error(result, 1, "does not end in a version number")


def test_fit_next_word_reports_a_missing_corpus(tmp_path):
    missing = str(tmp_path / "MISSING.txt")
    result = invoke("fit", "next-word", missing, "--out", str(tmp_path / "model"))
    assert_one_line_error(result, 1, "not found", "MISSING.txt")


def test_fit_next_word_reports_a_corpus_too_small(tmp_path):
    small = write_corpus(tmp_path / "small.txt", synthetic_lines(count=3))
    result = invoke("fit", "next-word", small, "--out", str(tmp_path / "model"))
    assert_one_line_error(result, 1, "too small")


def test_fit_next_word_trains_a_gru(corpus, tmp_path):
    out = tmp_path / "gru"
    options = ["--cell", "gru", "--epochs", "1", "--units", "16", "--layers", "1"]
    options += ["--vocabulary-size", "200", "--sequence-length", "8"]
    result = invoke("fit", "next-word", corpus, "--out", str(out), *options)
    assert result.exit_code == 0, result.output
    assert f"Model written to {out}" in result.stdout
    assert re.search(r"^best_val_perplexity\s+\d", result.stdout, re.MULTILINE)
    config = json.loads((out / "config.json").read_text())
    assert (config["cell"], config["units"], config["num_layers"]) == ("gru", 16, 1)
    assert (config["vocabulary_size"], config["sequence_length"]) == (200, 8)
    assert (out / "model.weights.h5").is_file()
    predicted = invoke("next-word", "--model", str(out), "the quick", "--top-k", "2")
    assert predicted.exit_code == 0 and len(predicted.stdout.splitlines()) == 2
    again = invoke("fit", "next-word", corpus, "--out", str(out), *options)
    assert_one_line_error(again, 1, "--force")
