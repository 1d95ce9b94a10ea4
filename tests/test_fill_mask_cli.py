import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from cli_checks import assert_one_line_error, invoke
from fill_mask_fixtures import (
    classifier_data,
    encoder_weights,
    exported_model,
    fine_tuned_classifier,
    fitted_folder,
    recording_encoder_start,
    synthetic_lines,
    write_lines,
)

from apptk.applications.arguments import TOP_K
from apptk.applications.fill_mask import FillMasker, evaluate_fill_mask, load_pretrained_encoder
from apptk.applications.run import training
from apptk.applications.text_classifier import TextClassifier, evaluate_text_classifier

TINY_FIT = ["--hidden-dim", "16", "--layers", "1", "--vocabulary-size", "100"]
TINY_FIT += ["--max-length", "12"]


def history_epochs(folder) -> list[int]:
    with open(Path(folder) / "history.csv", newline="") as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


def without_seconds(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if k not in ("seconds", "texts_per_second")}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    """The fitted fill-mask folder (shared with the pipeline tests in one session)."""
    return fitted_folder(tmp_path_factory)


@pytest.fixture(scope="module")
def masker(tiny) -> FillMasker:
    return FillMasker.load(tiny)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> str:
    return write_lines(tmp_path_factory.mktemp("cli_corpus") / "corpus.txt", synthetic_lines(300))


# apptk fill-mask


def test_fill_mask_prints_aligned_fillers_then_the_filled_text(tiny, masker):
    text = "The cat sits on the [MASK]."
    result = invoke("fill-mask", text, "--model", tiny, "--top-k", "3")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    [fillers] = masker([text], top_k=3)[0]
    assert [line.split() for line in lines[:3]] == [
        [item["token"], f"{item['probability']:.4f}"] for item in fillers
    ]
    assert len({len(line) - len(line.split()[-1]) for line in lines[:3]}) == 1, lines
    assert lines[3:] == ["The cat sits on the mat."]


def test_fill_mask_numbers_several_masks(tiny, masker):
    text = "the [MASK] sleeps on the [mask] ."
    result = invoke("fill-mask", text, "--model", tiny, "--top-k", "2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "[MASK] 1:" and lines[3] == "[MASK] 2:"
    masks = masker([text], top_k=2)[0]
    assert [lines[1].split()[0], lines[4].split()[0]] == [m[0]["token"] for m in masks]
    assert lines[-1] == masker.fill(text)


def test_fill_mask_json(tiny, masker):
    text = "the bird [MASK] in the [MASK] ."
    result = invoke("fill-mask", text, "--model", tiny, "--json")
    assert result.exit_code == 0, result.output
    masks = json.loads(result.stdout)
    assert len(masks) == 2 and all(len(fillers) == 5 for fillers in masks)
    assert all(set(item) == {"token", "probability"} for f in masks for item in f)
    assert masks == masker([text])[0]


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("the cat sits on the mat .", "No [MASK]"),
        ("", "empty"),
        ("the cat sits on the mat . " * 3 + "[MASK]", "at most 16"),
        ("[MASK] " + "a" * 10_000, "10,000"),
    ],
)
def test_unusable_text_is_a_one_line_error(tiny, text, fragment):
    assert_one_line_error(invoke("fill-mask", text, "--model", tiny), 1, fragment)


def test_a_missing_model_is_a_one_line_error(tmp_path):
    missing = str(tmp_path / "no_such_model")
    assert_one_line_error(invoke("fill-mask", "a [MASK]", "--model", missing), 1, missing)


def test_a_model_of_another_kind_is_a_one_line_error(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"kind": "next-word"}))
    result = invoke("fill-mask", "a [MASK]", "--model", str(tmp_path))
    assert_one_line_error(result, 1, "next-word")


@pytest.mark.parametrize("top_k", ["0", str(TOP_K[1] + 1)])
def test_top_k_out_of_range_is_a_usage_error(tiny, top_k):
    result = invoke("fill-mask", "a [MASK]", "--model", tiny, "--top-k", top_k)
    assert_one_line_error(result, 2, "top-k")


def test_the_console_script_fills_with_an_export(tmp_path_factory, masker):
    """A real process: the installed `apptk` script on the exported SavedModel."""
    export = exported_model(tmp_path_factory)
    script = os.path.join(os.path.dirname(sys.executable), "apptk")
    text = "the [MASK] swims in the pond ."
    completed = subprocess.run(
        [script, "fill-mask", text, "--model", export, "--json", "--top-k", "3"],
        check=False,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert json.loads(completed.stdout) == masker([text], top_k=3)[0]


# apptk fit / evaluate / export fill-mask


class Interrupted(Exception):
    pass


class InterruptAfterFirstEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        raise Interrupted("stopped after the first epoch")


def test_fit_fill_mask_resumes_an_interrupted_run_then_refuses_to_refit(
    corpus, tmp_path, monkeypatch
):
    out = tmp_path / "model"
    command = ["fit", "fill-mask", corpus, "--out", str(out), *TINY_FIT]
    callbacks = training.training_callbacks
    with monkeypatch.context() as patch:
        patch.setattr(
            training,
            "training_callbacks",
            lambda *args, **kwargs: [*callbacks(*args, **kwargs), InterruptAfterFirstEpoch()],
        )
        interrupted = invoke(*command, "--epochs", "2")
    assert_one_line_error(interrupted, 1, "stopped after the first epoch")
    assert history_epochs(out) == [0] and not (out / "model.weights.h5").exists()

    resumed = invoke(*command, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert f"Model written to {out}" in resumed.stdout
    assert re.search(r"^epochs\s+1$", resumed.stdout, re.MULTILINE)  # only the missing one
    assert history_epochs(out) == [0, 1]
    assert (out / "model.weights.h5").is_file()
    config = json.loads((out / "config.json").read_text())
    assert (config["hidden_dim"], config["num_heads"], config["max_length"]) == (16, 1, 12)
    assert config["epochs"] == 2

    assert_one_line_error(invoke(*command, "--epochs", "1"), 1, "--force", "--resume")


def test_fit_fill_mask_reports_a_missing_corpus(tmp_path):
    missing = str(tmp_path / "MISSING.txt")
    result = invoke("fit", "fill-mask", missing, "--out", str(tmp_path / "model"))
    assert_one_line_error(result, 1, "not found", "MISSING.txt")


def test_evaluate_fill_mask_prints_the_metrics(tiny, masker, tmp_path):
    held_out = write_lines(tmp_path / "held_out.txt", synthetic_lines(20, seed=5))
    result = invoke("evaluate", "fill-mask", held_out, "--model", tiny, "--json")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert without_seconds(metrics) == without_seconds(evaluate_fill_mask(masker, held_out))
    text = invoke("evaluate", "fill-mask", held_out, "--model", tiny, "--limit", "5")
    assert text.exit_code == 0, text.output
    rows = dict(line.split() for line in text.stdout.splitlines())
    assert rows["lines"] == "5" and float(rows["pseudo_perplexity"]) > 1


def test_evaluate_fill_mask_reports_a_missing_file(tiny, tmp_path):
    result = invoke("evaluate", "fill-mask", str(tmp_path / "missing.txt"), "--model", tiny)
    assert_one_line_error(result, 1, "not found")


def test_export_fill_mask_writes_a_savedmodel_once(tiny, tmp_path):
    out = str(tmp_path / "fill_mask" / "1")
    first = invoke("export", "fill-mask", "--model", tiny, "--out", out)
    assert first.exit_code == 0, first.output
    assert os.path.isfile(os.path.join(out, "saved_model.pb"))
    assert out in first.stdout
    assert_one_line_error(
        invoke("export", "fill-mask", "--model", tiny, "--out", out), 1, "--force"
    )


def test_export_fill_mask_needs_a_version_folder(tiny, tmp_path):
    result = invoke("export", "fill-mask", "--model", tiny, "--out", str(tmp_path / "latest"))
    assert_one_line_error(result, 1, "does not end in a version number")


# apptk fit / evaluate text-classifier, apptk classify-text


@pytest.fixture(scope="module")
def classifier_folder(tmp_path_factory) -> str:
    return fine_tuned_classifier(tmp_path_factory).folder


def test_fit_text_classifier_fine_tunes_an_export(tmp_path_factory, tmp_path):
    data = classifier_data(tmp_path_factory)
    export = exported_model(tmp_path_factory)
    out = tmp_path / "classifier"
    options = ["--encoder", export, "--val", data["test"], "--epochs", "1"]
    with recording_encoder_start() as started:
        result = invoke("fit", "text-classifier", data["train"], "--out", str(out), *options)
    assert result.exit_code == 0, result.output
    assert f"Model written to {out}" in result.stdout
    assert re.search(r"^validation_texts\s+60$", result.stdout, re.MULTILINE)
    assert re.search(r"^epochs\s+1$", result.stdout, re.MULTILINE)
    pretrained = encoder_weights(load_pretrained_encoder(export)[0])
    assert sorted(started) == sorted(pretrained)
    for name, value in pretrained.items():
        np.testing.assert_array_equal(started[name], value, err_msg=name)
    classified = invoke("classify-text", "the cat sits", "--model", str(out))
    assert classified.exit_code == 0, classified.output
    again = invoke("fit", "text-classifier", data["train"], "--out", str(out), *options)
    assert_one_line_error(again, 1, "--force")


def test_fit_text_classifier_reports_a_malformed_line(tmp_path):
    data = write_lines(tmp_path / "data.tsv", ["the cat\tpet", "the cow farm"])
    result = invoke("fit", "text-classifier", data, "--out", str(tmp_path / "model"))
    assert_one_line_error(result, 1, "line 2")


def test_classify_text_prints_the_best_label_per_text(classifier_folder):
    texts = ["the old cat sits on the mat .", "the cow eats in the field today ."]
    result = invoke("classify-text", *texts, "--model", classifier_folder)
    assert result.exit_code == 0, result.output
    expected = TextClassifier.load(classifier_folder)(texts)
    assert result.stdout.splitlines() == [
        f"{row[0]['label']}  {row[0]['probability']:.4f}  {text}"
        for row, text in zip(expected, texts)
    ]
    assert [row[0]["label"] for row in expected] == ["pet", "farm"]


def test_classify_text_json(classifier_folder):
    result = invoke("classify-text", "the fish swims", "--model", classifier_folder, "--json")
    assert result.exit_code == 0, result.output
    [labels] = json.loads(result.stdout)
    assert sorted(item["label"] for item in labels) == ["farm", "pet", "wild"]
    assert labels == TextClassifier.load(classifier_folder)(["the fish swims"])[0]


def test_classify_text_needs_a_model():
    assert_one_line_error(invoke("classify-text", "the cat"), 2, "--model")


def test_evaluate_text_classifier_prints_the_metrics(classifier_folder, tmp_path_factory):
    test_file = classifier_data(tmp_path_factory)["test"]
    result = invoke("evaluate", "text-classifier", test_file, "--model", classifier_folder)
    assert result.exit_code == 0, result.output
    rows = dict(line.split() for line in result.stdout.splitlines())
    expected = evaluate_text_classifier(TextClassifier.load(classifier_folder), test_file)
    assert {k: float(v) for k, v in without_seconds(rows).items()} == without_seconds(expected)
    as_json = invoke(
        "evaluate", "text-classifier", test_file, "--model", classifier_folder, "--json"
    )
    assert without_seconds(json.loads(as_json.stdout)) == without_seconds(expected)
