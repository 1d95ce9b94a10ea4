import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_checks import assert_one_line_error, invoke

from apptk import __version__

APPTK = Path(sys.executable).parent / "apptk"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SENTENCES = ["The red cat eats.", "Does the big dog run now?", "The small bird sleeps here."]
TENSORFLOW_NOISE = ("oneDNN", "cuda", "I0000", "W0000", "E0000", "absl::InitializeLog")


def run_apptk(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    """The installed console script, as a user runs it (TensorFlow's log level not preset)."""
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run(
        [str(APPTK), *args],
        input=input,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_help_lists_the_commands():
    result = invoke("--help")
    assert result.exit_code == 0
    commands = result.output.split("Commands:")[1].split()
    assert {"translate", "fit", "evaluate", "export"} <= set(commands)


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"apptk, version {__version__}"


def test_translate_prints_one_line_per_text(tiny_translator_folder, tiny_translator):
    result = invoke("translate", "--model", tiny_translator_folder, *SENTENCES)
    assert result.exit_code == 0, result.output
    expected = [answer["translation"] for answer in tiny_translator(SENTENCES)]
    assert result.stdout.splitlines() == expected


def test_translate_json(tiny_saved_model, tiny_translator):
    result = invoke("translate", "--model", tiny_saved_model, "--json", *SENTENCES[:2])
    assert result.exit_code == 0, result.output
    answers = json.loads(result.stdout)
    assert [answer["text"] for answer in answers] == SENTENCES[:2]
    expected = tiny_translator(SENTENCES[:2])
    assert [a["translation"] for a in answers] == [e["translation"] for e in expected]
    # The SavedModel stores its token tables in float16: scores agree to rounding.
    for answer, fitted in zip(answers, expected):
        assert answer["score"] == pytest.approx(fitted["score"], abs=2e-3)
    assert all(set(answer) == {"text", "translation", "score"} for answer in answers)


def test_translate_stdin_keeps_blank_lines(tiny_saved_model, tiny_translator):
    lines = [SENTENCES[0], "", SENTENCES[1], "   ", SENTENCES[2]]
    stdin = "\n".join(lines) + "\n"
    result = invoke("translate", "--model", tiny_saved_model, "-", input=stdin)
    assert result.exit_code == 0, result.output
    translations = iter(answer["translation"] for answer in tiny_translator(SENTENCES))
    expected = [next(translations) if line.strip() else "" for line in lines]
    assert result.stdout.split("\n")[:-1] == expected
    as_json = invoke("translate", "--model", tiny_saved_model, "--json", "-", input=stdin)
    answers = json.loads(as_json.stdout)
    assert [answer["text"] for answer in answers] == lines
    assert [answer["score"] is None for answer in answers] == [not line.strip() for line in lines]


@pytest.mark.parametrize("text", ["", "   "])
def test_translate_empty_text_is_a_one_line_error(tiny_translator_folder, text):
    result = invoke("translate", "--model", tiny_translator_folder, text)
    assert_one_line_error(result, 1, "text is empty")


def test_translate_blank_stdin_is_a_usage_error(tiny_translator_folder):
    result = invoke("translate", "--model", tiny_translator_folder, "-", input="\n  \n")
    assert_one_line_error(result, 2, "holds no text")


def test_translate_with_a_missing_model(tmp_path):
    missing = str(tmp_path / "no_such_model")
    result = invoke("translate", "--model", missing, "Hello")
    assert_one_line_error(result, 1, "Model not found", missing)


def test_translate_huge_text_is_an_error(tiny_saved_model):
    result = invoke("translate", "--model", tiny_saved_model, "Hello. " * 2000)
    assert_one_line_error(result, 1, "limit is 10,000")


def test_translate_split_length(tiny_translator_folder, tiny_translator):
    sentence = "the red cat eats, the big dog runs now."
    split = invoke("translate", "--model", tiny_translator_folder, "--split-length", "8", sentence)
    assert split.exit_code == 0, split.output
    whole = tiny_translator(sentence)[0]["translation"]
    assert split.stdout.strip() and split.stdout.strip() != whole
    too_long = invoke("translate", "--model", tiny_translator_folder, "--split-length", "17", "Hi")
    assert_one_line_error(too_long, 2, "--split-length", "maximum length, 16", "17")
    zero = invoke("translate", "--model", tiny_translator_folder, "--split-length", "0", "Hi")
    assert_one_line_error(zero, 2, "--split-length")
    evaluated = invoke(
        "evaluate", "translate", "--model", tiny_translator_folder, "--split-length", "17"
    )
    assert_one_line_error(evaluated, 2, "--split-length", "17")


def test_split_length_help_names_the_default():
    from apptk.applications.translation.translator import SPLIT_LENGTH

    for command in (("translate",), ("evaluate", "translate")):
        help_text = " ".join(invoke(*command, "--help").output.split())
        assert f"(default: {SPLIT_LENGTH}," in help_text


def test_attention_plot(tiny_saved_model, tmp_path, monkeypatch):
    from apptk.applications.run import plots

    drawn = []
    original = plots.plot_attention_map

    def record(source_tokens, target_tokens, weights, path, **kwargs):
        drawn.append(source_tokens)
        return original(source_tokens, target_tokens, weights, path, **kwargs)

    monkeypatch.setattr(plots, "plot_attention_map", record)
    out = tmp_path / "attention.png"
    stdin = f"\n{SENTENCES[1]}\n{SENTENCES[0]}\n"
    result = invoke(
        "translate", "--model", tiny_saved_model, "--attention-plot", str(out), "-", input=stdin
    )
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 3
    assert out.read_bytes().startswith(PNG_SIGNATURE)
    assert str(out) in result.stderr
    # The first text, not the blank line before it.
    assert "".join(drawn[0]).replace("##", "") == "doesthebigdogrunnow?"


def test_export(tiny_translator_folder, tiny_saved_model, tmp_path):
    out = tmp_path / "models" / "en_es" / "1"
    result = invoke("export", "translate", "--model", tiny_translator_folder, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert (out / "saved_model.pb").is_file()
    written = (out / "saved_model.pb").stat().st_mtime_ns
    # Re-exporting an export is quicker than from the folder, and a path users take too.
    again = invoke("export", "translate", "--model", tiny_saved_model, "--out", str(out))
    assert_one_line_error(again, 1, "already exists", "--force")
    assert (out / "saved_model.pb").stat().st_mtime_ns == written
    (out / "stale.txt").write_text("left by an older export")
    forced = invoke(
        "export", "translate", "--model", tiny_saved_model, "--out", str(out), "--force"
    )
    assert forced.exit_code == 0, forced.output
    assert (out / "saved_model.pb").stat().st_mtime_ns != written
    assert not (out / "stale.txt").exists()
    assert os.listdir(out.parent) == ["1"], "staging or backup folder left behind"
    reexported = invoke("translate", "--model", str(out), *SENTENCES)
    original = invoke("translate", "--model", tiny_saved_model, *SENTENCES)
    assert reexported.stdout == original.stdout


def test_export_needs_a_version_folder(tiny_translator_folder, tmp_path):
    result = invoke(
        "export", "translate", "--model", tiny_translator_folder, "--out", str(tmp_path / "en_es")
    )
    assert_one_line_error(result, 1, "does not end in a version number")


def test_evaluate_json(tiny_saved_model, synthetic_pairs_file):
    result = invoke(
        "evaluate",
        "translate",
        "--model",
        tiny_saved_model,
        "--data",
        synthetic_pairs_file,
        "--limit",
        "20",
        "--json",
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    for name in ("bleu", "chrf"):
        assert isinstance(metrics[name], float) and 0.0 <= metrics[name] <= 100.0
    assert 0 < metrics["sentences"] <= 20
    assert metrics["sentences_per_second"] > 0


def test_evaluate_scores_test_files_beside_the_split(
    tiny_saved_model, synthetic_pairs_file, tmp_path
):
    test_file = tmp_path / "general.tsv"
    test_file.write_text("The red cat eats.\tEl gato rojo come.\n", encoding="utf-8")
    arguments = [
        "evaluate",
        "translate",
        "--model",
        tiny_saved_model,
        "--data",
        synthetic_pairs_file,
        "--limit",
        "10",
        "--test",
        str(test_file),
    ]
    table = invoke(*arguments)
    assert table.exit_code == 0, table.output
    header, split_row, file_row, signature = table.stdout.strip().splitlines()
    assert header.split()[:3] == ["set", "bleu", "chrf"]
    assert split_row.startswith("test split") and file_row.startswith(str(test_file))
    assert header.split()[-3:-1] == ["placeholder_sentences", "placeholders_kept"]
    assert file_row.split()[-3:-1] == ["0", "-"], "no placeholders: a dash, not None"
    assert signature.startswith("sacrebleu: ") and "tok:13a" in signature
    results = json.loads(invoke(*arguments, "--json").stdout)
    assert set(results) == {"test split", str(test_file)}
    assert results[str(test_file)]["sentences"] == 1


def test_fit_with_a_malformed_data_file(tmp_path):
    data = tmp_path / "pairs.txt"
    data.write_text("Hi.\tHola.\nThanks.\tGracias.\nBroken line without a tab\n", encoding="utf-8")
    result = invoke(
        "fit", "translate", "--data", str(data), "--out", str(tmp_path / "model"), "--epochs", "1"
    )
    assert_one_line_error(result, 1, "line 3", "Broken line without a tab")


def test_console_script_help_and_version():
    help_result = run_apptk("--help")
    assert help_result.returncode == 0
    assert "translate" in help_result.stdout.split("Commands:")[1]
    version = run_apptk("--version")
    assert version.returncode == 0
    assert version.stdout.strip() == f"apptk, version {__version__}"


def test_console_script_translates_quietly(tiny_saved_model, tiny_translator):
    result = run_apptk("translate", "--model", tiny_saved_model, "Hello")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [tiny_translator("Hello")[0]["translation"]]
    for noise in TENSORFLOW_NOISE:
        assert noise not in result.stderr


def test_console_script_error_reaches_the_terminal(tmp_path):
    missing = str(tmp_path / "no_such_model")
    result = run_apptk("translate", "--model", missing, "Hello")
    assert result.returncode == 1
    assert result.stderr.strip() == f"Error: Model not found: {missing}"
    assert result.stdout == ""
