"""The command line says things one way everywhere (issue 17, items 10-15): one-line usage
errors, empty text exits 1 in every command, bounded seeds, files and folders with the usual
permissions, an export's destination checked before any work, pictures that never cost the
answer, and no pyplot in a prediction's start-up."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_checks import assert_one_line_error, error_lines, invoke
from click.testing import CliRunner

from apptk.applications import arguments
from apptk.applications.errors import DataError
from apptk.applications.run import distribution
from apptk.applications.text.text_files import read_text_file
from apptk.cli.main import apptk

APPTK = Path(sys.executable).parent / "apptk"


@pytest.mark.parametrize(
    "arguments",
    [
        ["translate", ""],
        ["next-word", " "],
        ["generate", ""],
        ["fill-mask", "\t"],
        ["classify-text", "--model", "{folder}", ""],
    ],
)
def test_an_empty_text_exits_1_with_one_line_in_every_command(arguments, tmp_path):
    (tmp_path / "config.json").write_text('{"kind": "text-classifier"}')
    arguments = [argument.replace("{folder}", str(tmp_path)) for argument in arguments]
    result = invoke(*arguments)
    assert result.exit_code == 1, result.output
    assert len(error_lines(result)) == 1


@pytest.mark.parametrize(
    "arguments, fragment",
    [
        (["translate", "--beam", "0", "Hello."], "'--beam'"),
        (["--bogus"], "No such option"),
        (["fit", "translate"], "Missing option '--out'"),
        (["generate", "--seed", "99999999999999999999", "Hi"], "'--seed'"),
    ],
)
def test_usage_errors_are_one_line_with_where_to_read_more(arguments, fragment):
    result = invoke(*arguments)
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert fragment in result.stderr and "--help')" in result.stderr


def test_help_shows_percent_signs_once():
    result = invoke("fit", "text-classifier", "--help")
    assert "10% of" in result.output and "%%" not in result.output


def test_multi_worker_errors_name_a_readme_section_that_exists(monkeypatch):
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    monkeypatch.setenv("TF_CONFIG", "not json")
    with pytest.raises(Exception, match="README '([^']+)'") as caught:
        distribution.strategy_for("multi-worker")
    section = str(caught.value).split("README '")[1].split("'")[0]
    assert f"## {section}" in readme


def test_fitted_files_and_exports_get_the_usual_permissions(tmp_path, tiny_translator_folder):
    umask = os.umask(0o022)
    os.umask(umask)
    config = Path(tiny_translator_folder) / "config.json"
    assert config.stat().st_mode & 0o777 == 0o666 & ~umask
    result = invoke(
        "export",
        "translate",
        "--model",
        tiny_translator_folder,
        "--out",
        str(tmp_path / "en_es" / "1"),
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "en_es" / "1").stat().st_mode & 0o777 == 0o777 & ~umask


def test_export_refuses_an_existing_destination_before_loading_the_model(tmp_path, monkeypatch):
    from apptk.applications.translation import Translator

    def never(*args, **kwargs):
        raise AssertionError("the model was loaded before the destination was checked")

    monkeypatch.setattr(Translator, "load", never)
    (tmp_path / "1").mkdir()
    result = invoke("export", "translate", "--out", str(tmp_path / "1"))
    assert_one_line_error(result, 1, "already exists", "--force")


def test_a_plot_into_a_missing_folder_fails_before_translating(tiny_translator_folder, tmp_path):
    result = invoke(
        "translate",
        "--model",
        tiny_translator_folder,
        "--attention-plot",
        str(tmp_path / "missing" / "a.png"),
        "The red cat eats.",
    )
    assert result.exit_code == 2
    assert "does not exist" in error_lines(result)[0]


def test_the_answer_is_printed_before_the_picture_is_drawn(
    tiny_translator_folder, tmp_path, monkeypatch
):
    from apptk.applications.run import plots

    def failing_plot(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "a.png"))

    monkeypatch.setattr(plots, "plot_attention_map", failing_plot)
    result = invoke(
        "translate",
        "--model",
        tiny_translator_folder,
        "--attention-plot",
        str(tmp_path / "a.png"),
        "The red cat eats.",
    )
    assert result.exit_code == 1
    assert result.stdout.strip(), "the translation was printed"
    assert error_lines(result) == [f"Error: No space left on device: {tmp_path / 'a.png'}"]


def test_a_prediction_command_does_not_import_pyplot(tiny_translator_folder, tmp_path):
    """Keras imports pyplot for its own plotting helpers; the `apptk` process skips it (and
    Matplotlib's first-run font cache), until a picture is asked for."""
    script = (
        "import os, sys\n"
        "real_exit = os._exit\n"
        "def report_and_exit(code):\n"
        "    print('PYPLOT', sys.modules.get('matplotlib.pyplot') is not None, flush=True)\n"
        "    real_exit(code)\n"
        "os._exit = report_and_exit  # a prediction command ends through os._exit\n"
        "from apptk.cli.main import main\n"
        f"sys.argv = ['apptk', 'translate', '--model', {tiny_translator_folder!r}, 'Hi.']\n"
        "main()\n"
    )
    environment = dict(os.environ, MPLCONFIGDIR=str(tmp_path / "matplotlib"))
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert "PYPLOT False" in result.stdout, result.stdout + result.stderr
    assert not (tmp_path / "matplotlib").exists(), "no font cache was built"


# 8. Text that is not UTF-8 stops the command before any work, naming the line


def test_a_stdin_line_that_is_not_utf8_is_named_and_nothing_is_translated(tiny_translator_folder):
    result = CliRunner().invoke(
        apptk,
        ["translate", "--model", tiny_translator_folder, "-"],
        input=b"The red cat eats.\n\xff\xfe broken\nThe big dog runs.\n",
    )
    assert_one_line_error(result, 1, "Line 2 of standard input is not valid UTF-8")
    assert result.stdout == ""


def test_a_data_file_that_is_not_utf8_names_its_line(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_bytes(b"one\ntwo\nthr\xe9e\n")
    with pytest.raises(DataError, match=f"Line 3 of {path} is not valid UTF-8"):
        read_text_file(str(path))


# 9. A damaged SavedModel says so


@pytest.fixture(scope="module")
def exported_translator(tiny_translator_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("exports") / "tiny" / "1"
    assert (
        invoke(
            "export", "translate", "--model", tiny_translator_folder, "--out", str(out)
        ).exit_code
        == 0
    )
    return out


@pytest.mark.parametrize("damage", ["truncated variables", "corrupt graph"])
def test_a_damaged_savedmodel_is_named_damaged(exported_translator, tmp_path, damage):
    copy = tmp_path / "1"
    shutil.copytree(exported_translator, copy)
    if damage == "truncated variables":
        [data] = (copy / "variables").glob("variables.data-*")
        data.write_bytes(data.read_bytes()[:100])
    else:
        graph = copy / "saved_model.pb"
        content = bytearray(graph.read_bytes())
        content[50:150] = b"\xff" * 100
        graph.write_bytes(bytes(content))
    result = invoke("translate", "--model", str(copy), "Hello.")
    assert_one_line_error(result, 1, f"The model at {copy} is damaged")


# 13. The Python API checks its arguments once; the CLI declares the same ranges


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda t: t([None]), "Expected a text, got NoneType"),
        (lambda t: t(["Hi.", 3]), "Text 2 of 2: Expected a text, got int"),
        (lambda t: t(["Hi."], beam_size=0), "beam_size must be between 1 and 16; got 0"),
        (lambda t: t(["Hi."], beam_size=2.5), "beam_size must be an integer"),
        (lambda t: t(["Hi."], batch_size=0), "batch_size must be between"),
    ],
)
def test_the_translator_api_checks_its_arguments(tiny_translator_folder, call, message):
    from apptk.applications.translation import Translator

    with pytest.raises(DataError, match=re.escape(message)):
        call(Translator.load(tiny_translator_folder))


@pytest.mark.parametrize(
    "value, bounds, message",
    [
        (-1.0, arguments.TEMPERATURE, "temperature must be between 0.0 and 10.0; got -1.0"),
        (float("nan"), arguments.TEMPERATURE, "temperature must be a number"),
        (True, arguments.TEMPERATURE, "temperature must be a number"),
    ],
)
def test_float_arguments_are_checked(value, bounds, message):
    with pytest.raises(DataError, match=re.escape(message)):
        arguments.checked_float(value, "temperature", bounds)


def test_the_cli_ranges_are_the_apis():
    from apptk.cli.next_word import generate

    seed = next(param for param in generate.params if param.name == "seed")
    assert (seed.type.min, seed.type.max) == arguments.SEED
    assert arguments.checked_int(arguments.SEED[1], "seed", arguments.SEED) == 2**31 - 1
    with pytest.raises(DataError):
        arguments.checked_int(arguments.SEED[1] + 1, "seed", arguments.SEED)


# 14. Evaluating without --data offline says what to do


def test_evaluate_translate_offline_without_data_says_to_pass_data(tmp_path, monkeypatch):
    from image_fixtures import go_offline

    go_offline(monkeypatch)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    result = invoke("evaluate", "translate")
    assert_one_line_error(result, 1, "downloaded from", "pass --data FILE", "offline")
