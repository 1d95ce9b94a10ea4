"""The shipped ImageNet classifier (MobileNetV2 converted from TensorFlow's TFLite model) on
real photos, with every download refused: naming, Grad-CAM, and transfer learning from it."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from image_fixtures import TINY_TRANSFER, go_offline, session_photos
from PIL import Image

from apptk.applications.image import ImageClassifier, ImageConfig, fit_image
from apptk.applications.image.imagenet_labels import imagenet_labels
from apptk.applications.models.image_backbones import BACKBONES, shipped_weights
from apptk.applications.run.presets import PRESETS
from apptk.cli.main import apptk

PHOTOS = os.path.join(
    os.path.dirname(__file__), "..", "..", "shared", "data", "imagenet_mobilenet_tflite", "photos"
)
needs_photos = pytest.mark.skipif(not os.path.isdir(PHOTOS), reason="no shared test photos")
CAT_CLASSES = range(281, 286)  # tabby, tiger, Persian, Siamese, Egyptian cat
BIRD_CLASSES = [*range(7, 25), *range(80, 101), *range(127, 147)]
HOT_DOG = 934


@pytest.fixture()
def offline(monkeypatch, tmp_path):
    """No network and an empty Keras cache: nothing may be downloaded."""
    go_offline(monkeypatch)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras_home"))


@pytest.fixture(scope="module")
def classifier():
    return ImageClassifier.load()


def photo(name: str) -> str:
    return os.path.join(PHOTOS, name)


@needs_photos
def test_apptk_classify_names_real_photos_without_a_download(offline):
    files = [photo("cat.bmp"), photo("bird.bmp"), photo("hot_dog.jpg")]
    result = CliRunner().invoke(apptk, ["classify", *files, "--top-k", "1", "--json"])
    assert result.exit_code == 0, result.output
    labels = imagenet_labels()
    top = [labels.index(answer["predictions"][0]["label"]) for answer in json.loads(result.stdout)]
    assert top[0] in CAT_CLASSES, labels[top[0]]
    assert top[1] in BIRD_CLASSES, labels[top[1]]
    assert top[2] == HOT_DOG, labels[top[2]]
    assert not os.path.exists(os.environ["KERAS_HOME"]), "nothing was downloaded or cached"


def test_the_default_is_the_shipped_preset(classifier):
    assert PRESETS["mobilenet_v2"].path and os.path.isdir(PRESETS["mobilenet_v2"].path)
    assert classifier.labels == imagenet_labels() and classifier.image_size == 224
    origin = os.path.join(os.path.dirname(PRESETS["mobilenet_v2"].path), "ORIGIN.txt")
    licence = os.path.join(os.path.dirname(PRESETS["mobilenet_v2"].path), "LICENSE")
    assert "mobilenet_v2_1.0_224_quant.tflite" in Path(origin).read_text(encoding="utf-8")
    assert "Apache License" in Path(licence).read_text(encoding="utf-8")


def _pasted(tmp_path, corner: str) -> str:
    """The cat photo pasted into one quarter of a white canvas twice its size."""
    cat = Image.open(photo("cat.bmp")).convert("RGB")
    canvas = Image.new("RGB", (2 * cat.width, 2 * cat.height), "white")
    x = 0 if corner.endswith("left") else cat.width
    y = 0 if corner.startswith("top") else cat.height
    canvas.paste(cat, (x, y))
    path = str(tmp_path / f"cat_{corner}.png")
    canvas.save(path)
    return path


@needs_photos
@pytest.mark.parametrize("corner", ["top_left", "bottom_right"])
def test_grad_cam_peaks_where_the_cat_is(classifier, tmp_path, corner):
    explanation = classifier.explain(_pasted(tmp_path, corner))
    assert imagenet_labels().index(explanation["label"]) in CAT_CLASSES
    heat_map = explanation["heat_map"]
    rows, columns = heat_map.shape
    row, column = np.unravel_index(np.argmax(heat_map), heat_map.shape)
    # The peak cell's centre, as a fraction of the canvas, lies in the pasted quarter.
    y, x = (row + 0.5) / rows, (column + 0.5) / columns
    assert (y < 0.5) == corner.startswith("top"), heat_map.round(2)
    assert (x < 0.5) == corner.endswith("left"), heat_map.round(2)
    # And the blank half of the canvas holds far less of the evidence than the cat's quarter.
    quarter = np.zeros_like(heat_map, dtype=bool)
    half_rows, half_columns = slice(0, rows // 2), slice(0, columns // 2)
    if not corner.startswith("top"):
        half_rows = slice(rows - rows // 2, rows)
    if not corner.endswith("left"):
        half_columns = slice(columns - columns // 2, columns)
    quarter[half_rows, half_columns] = True
    assert heat_map[quarter].mean() > 2 * heat_map[~quarter].mean()


def test_fit_image_starts_from_the_shipped_backbone_offline(offline, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("shipped_backbone") / "model")
    config = ImageConfig(**{**TINY_TRANSFER, "backbone": "mobilenet_v2", "fine_tune_epochs": 0})
    summary = fit_image(session_photos(tmp_path_factory), out, config)
    assert summary["epochs"] == 1
    fitted = ImageClassifier.load(out)
    features = fitted.module.explainer.get_layer("features")
    # The frozen backbone holds the shipped ImageNet weights: its first kernel is theirs.
    network = BACKBONES["mobilenet_v2"].build(include_top=True)
    values = shipped_weights(BACKBONES["mobilenet_v2"].shipped)
    first_kernel = next(i for i, w in enumerate(network.weights) if w.path.endswith("kernel"))
    np.testing.assert_array_equal(
        features.get_layer("Conv1").get_weights()[0], values[first_kernel]
    )
    shutil.rmtree(out)
