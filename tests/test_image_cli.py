"""`apptk classify`, `apptk fit image`, `apptk evaluate image` and `apptk export image`."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_checks import assert_one_line_error, error_lines, invoke
from image_fixtures import (
    COLOURS,
    go_offline,
    imagenet_cache,
    make_image_folder,
    photo,
    session_cnn,
    session_photos,
    truncated_jpeg,
    write_photo,
)

from apptk.applications.image import ImageClassifier

APPTK = Path(sys.executable).parent / "apptk"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> str:
    return session_photos(tmp_path_factory)


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> str:
    return session_cnn(tmp_path_factory)[0]


@pytest.fixture(scope="module")
def classifier(model) -> ImageClassifier:
    return ImageClassifier.load(model)


@pytest.fixture
def mixed_files(tmp_path) -> list[str]:
    """A red JPEG, a truncated JPEG, a blue GIF and a text file named like a PNG."""
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    return [
        write_photo(tmp_path / "red.jpg", photo(COLOURS["red"], seed=71)),
        truncated_jpeg(tmp_path / "broken.jpg"),
        write_photo(tmp_path / "blue.gif", photo(COLOURS["blue"], seed=72)),
        str(text),
    ]


# apptk classify


def test_classify_one_photo_prints_aligned_labels(model, classifier, mixed_files):
    result = invoke("classify", mixed_files[0], "--model", model, "--top-k", "2")
    assert result.exit_code == 0, result.output
    expected = classifier([mixed_files[0]], top_k=2)[0]
    lines = result.stdout.splitlines()
    assert [line.split() for line in lines] == [
        [p["label"], f"{p['probability']:.4f}"] for p in expected
    ]
    assert len({len(line) for line in lines}) == 1


def test_a_bad_file_gets_one_error_line_and_the_others_their_answers(model, mixed_files):
    result = invoke("classify", *mixed_files, "--model", model, "--top-k", "1")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        mixed_files[0],
        "  red  " + result.stdout.splitlines()[1].split()[1],
        mixed_files[2],
        "  blue  " + result.stdout.splitlines()[3].split()[1],
    ]
    assert error_lines(result) == [
        f"Error: {mixed_files[1]}: the image data is corrupt or truncated.",
        f"Error: {mixed_files[3]}: not a JPEG, PNG, GIF or BMP image.",
    ]


def test_classify_json_lists_answers_and_errors(model, classifier, mixed_files, tmp_path):
    missing = str(tmp_path / "missing.jpg")
    result = invoke("classify", *mixed_files, missing, "--model", model, "--json")
    assert result.exit_code == 1
    answers = json.loads(result.stdout)
    assert [answer["file"] for answer in answers] == [missing, *mixed_files]
    assert answers[0] == {"file": missing, "error": f"{missing}: file not found."}
    assert answers[1]["predictions"] == classifier([mixed_files[0]], top_k=5)[0]
    assert [("error" in answer) for answer in answers] == [True, False, True, False, True]


def test_classify_reads_folders_and_globs_in_batches(model, photos):
    result = invoke(
        "classify", os.path.join(photos, "red"), os.path.join(photos, "b*", "*.png"),
        "--model", model, "--top-k", "1", "--batch-size", "4", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    answers = json.loads(result.stdout)
    assert len(answers) == 12 + 3
    named = [answer["predictions"][0]["label"] for answer in answers]
    assert named.count("red") >= 10 and named[-3:].count("blue") >= 2


def test_classify_explain_draws_a_grad_cam_png(model, mixed_files, tmp_path):
    plot = str(tmp_path / "explained.png")
    result = invoke("classify", mixed_files[0], "--model", model, "--explain", plot)
    assert result.exit_code == 0, result.output
    assert f"written to {plot}" in result.stderr
    assert Path(plot).read_bytes()[:8] == PNG_SIGNATURE


def test_classify_with_the_default_imagenet_model(monkeypatch, tmp_path_factory, mixed_files):
    go_offline(monkeypatch, imagenet_cache(tmp_path_factory))
    result = invoke("classify", mixed_files[0], "--top-k", "3", "--json")
    assert result.exit_code == 0, result.output
    [answer] = json.loads(result.stdout)
    from apptk.applications.image.imagenet_labels import imagenet_labels

    assert len(answer["predictions"]) == 3
    assert all(p["label"] in imagenet_labels() for p in answer["predictions"])


def test_a_downloaded_backbone_without_weights_or_network_is_a_one_line_error(
    monkeypatch, tmp_path, mixed_files
):
    go_offline(monkeypatch)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras_home"))
    result = invoke("classify", mixed_files[0], "--model", "mobilenet_v3_large")
    assert_one_line_error(result, 1, "Could not download the ImageNet weights", "empty_keras_home")


@pytest.mark.parametrize("args", [["--top-k", "0"], []])
def test_classify_usage_errors(model, args):
    result = invoke("classify", *args, *(["x.jpg"] if args else []), "--model", model)
    assert result.exit_code == 2


# apptk fit / evaluate / export image


def test_fit_image_cnn_from_the_command_line(photos, tmp_path):
    out = tmp_path / "cnn"
    options = ["--arch", "cnn", "--epochs", "1", "--image-size", "32", "--batch-size", "8"]
    result = invoke("fit", "image", photos, "--out", str(out), *options)
    assert result.exit_code == 0, result.output
    assert f"Model written to {out}" in result.stdout
    config = json.loads((out / "config.json").read_text())
    assert (config["arch"], config["image_size"], config["epochs"]) == ("cnn", 32, 1)
    assert (out / "model.weights.h5").is_file() and (out / "training_curves.png").is_file()
    assert_one_line_error(invoke("fit", "image", photos, "--out", str(out), *options), 1, "--force")


def test_fit_image_warns_about_junk_and_rejects_a_one_class_folder(tmp_path):
    folder = make_image_folder(tmp_path / "photos", classes=("red", "blue"), per_class=4)
    (tmp_path / "photos" / "red" / "notes.txt").write_text("junk")
    result = invoke(
        "fit", "image", folder, "--out", str(tmp_path / "m"), "--arch", "cnn",
        "--epochs", "1", "--image-size", "32", "--validation-split", "0.5",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Warning: Skipped 1 files" in result.stderr and "notes.txt" in result.stderr
    lonely = make_image_folder(tmp_path / "lonely", classes=("red",), per_class=2)
    result = invoke("fit", "image", lonely, "--out", str(tmp_path / "m2"), "--arch", "cnn")
    assert_one_line_error(result, 1, "one class sub-folder (red)", "at least two classes")


def test_fit_image_rejects_an_unknown_backbone(photos, tmp_path):
    """The choices come from the API's backbones, so Click names them all."""
    result = invoke("fit", "image", photos, "--out", str(tmp_path / "m"), "--backbone", "vgg99")
    assert_one_line_error(result, 2, "--backbone", "vgg99", "mobilenet_v3_large")
    assert not (tmp_path / "m").exists()


def test_evaluate_image(model, photos, tmp_path):
    plot = str(tmp_path / "confusion.png")
    result = invoke("evaluate", "image", photos, "--model", model, "--confusion-matrix", plot)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[0] == "images" and lines[0].split()[1] == "36"
    assert lines[5].split() == ["class", "precision", "recall", "support"]
    assert [line.split()[0] for line in lines[6:]] == ["blue", "green", "red"]
    assert all(line.split()[3] == "12" for line in lines[6:])
    assert Path(plot).read_bytes()[:8] == PNG_SIGNATURE
    as_json = invoke(
        "evaluate", "image", photos, "--model", model, "--json", "--confusion-matrix", plot
    )
    metrics = json.loads(as_json.stdout)
    assert metrics["accuracy"] == float(lines[1].split()[1])
    assert metrics["per_class"]["red"]["support"] == 12


def test_export_image(model, tmp_path):
    out = str(tmp_path / "colours" / "1")
    result = invoke("export", "image", "--model", model, "--out", out)
    assert result.exit_code == 0, result.output
    assert os.path.isfile(os.path.join(out, "saved_model.pb")) and out in result.stdout
    assert_one_line_error(invoke("export", "image", "--model", model, "--out", out), 1, "--force")


def test_the_console_script_classifies_with_an_error_line(model, mixed_files):
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run(
        [str(APPTK), "classify", mixed_files[1], mixed_files[0], "--model", model, "--top-k", "1"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == mixed_files[0]
    assert (
        done.stderr.strip() == f"Error: {mixed_files[1]}: the image data is corrupt or truncated."
    )
