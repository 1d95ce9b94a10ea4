"""Fitting, loading, evaluating and exporting image classifiers, and ImageNet weights offline."""

import dataclasses
import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from image_fixtures import (
    COLOURS,
    TINY_CNN,
    TINY_TRANSFER,
    go_offline,
    imagenet_cache,
    make_image_folder,
    photo,
    session_cnn,
    session_photos,
    write_photo,
)

from apptk.applications.errors import DataError, ModelFileError, OutputExistsError
from apptk.applications.image import (
    ImageClassifier,
    ImageConfig,
    evaluate_image_classifier,
    export_image,
    fit_image,
)
from apptk.applications.image.imagenet_labels import imagenet_labels
from apptk.applications.image.spec import build_image_classifier
from apptk.applications.image.training import cnn_learning_rate, cnn_optimizer
from apptk.applications.models.image_backbones import BACKBONES, imagenet_weights_path
from apptk.applications.models.image_classifiers import (
    build_cnn_classifier,
    build_transfer_classifier,
    unfreeze_top_layers,
)
from apptk.applications.run.atomic_files import save_weights_atomically


@pytest.fixture(scope="module")
def keras_home(tmp_path_factory):
    return imagenet_cache(tmp_path_factory)


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> str:
    return session_photos(tmp_path_factory)


@pytest.fixture(scope="module")
def cnn_run(tmp_path_factory):
    return session_cnn(tmp_path_factory)


@pytest.fixture(scope="module")
def transfer_run(tmp_path_factory, photos, keras_home):
    out = str(tmp_path_factory.mktemp("models") / "transfer")
    with pytest.MonkeyPatch.context() as monkeypatch:
        go_offline(monkeypatch, keras_home)
        return out, fit_image(photos, out, ImageConfig(**TINY_TRANSFER))


def new_photos(tmp_path, per_colour: int = 4) -> dict[str, list[str]]:
    """Photos the models never saw: `{colour: [paths]}`."""
    paths = {}
    for colour, value in COLOURS.items():
        paths[colour] = [
            write_photo(tmp_path / f"new_{colour}_{i}.png", photo(value, seed=500 + i))
            for i in range(per_colour)
        ]
    return paths


# Fitting


def test_fit_cnn_writes_a_model_folder_and_learns_the_colours(cnn_run):
    out, summary = cnn_run
    for name in ("config.json", "labels.txt", "model.weights.h5", "history.csv"):
        assert os.path.isfile(os.path.join(out, name)), name
    assert os.path.isfile(os.path.join(out, "training_curves.png"))
    assert os.path.isdir(os.path.join(out, "logs")) and os.path.isdir(
        os.path.join(out, "checkpoints")
    )
    with open(os.path.join(out, "labels.txt")) as handle:
        assert handle.read().split() == ["blue", "green", "red"]
    assert json.loads(Path(out, "config.json").read_text())["arch"] == "cnn"
    assert summary["classes"] == 3 and summary["train_images"] + summary["validation_images"] == 36
    assert summary["epochs"] == 6 and "fine_tune_epochs" not in summary
    assert summary["best_val_accuracy"] >= 0.8


def test_a_fitted_folder_loads_and_names_new_photos(cnn_run, tmp_path):
    classifier = ImageClassifier.load(cnn_run[0])
    assert classifier.labels == ["blue", "green", "red"] and classifier.image_size == 32
    photos = new_photos(tmp_path)
    paths = [path for colour in photos for path in photos[colour]]
    predictions = classifier(paths, top_k=2, batch_size=5)
    assert all(len(p) == 2 and p[0]["probability"] >= p[1]["probability"] for p in predictions)
    named = [p[0]["label"] for p in predictions]
    truth = [colour for colour in photos for _ in photos[colour]]
    assert np.mean(np.array(named) == np.array(truth)) >= 0.8, named
    data = [Path(path).read_bytes() for path in paths[:2]]
    assert classifier(data, top_k=2) == predictions[:2]  # bytes work as paths do


def test_fit_refuses_to_overwrite_a_model(cnn_run, photos):
    with pytest.raises(OutputExistsError, match="--force"):
        fit_image(photos, cnn_run[0], ImageConfig(**TINY_CNN))


def test_fit_with_a_separate_validation_folder(tmp_path, photos):
    validation = make_image_folder(tmp_path / "val", classes=("blue", "red"), per_class=2, seed=9)
    config = ImageConfig(**(TINY_CNN | {"epochs": 1}))
    summary = fit_image(photos, str(tmp_path / "model"), config, validation_folder=validation)
    assert summary["train_images"] == 36 and summary["validation_images"] == 4
    unknown = make_image_folder(tmp_path / "unknown", classes=("red",), per_class=1)
    os.rename(os.path.join(unknown, "red"), os.path.join(unknown, "purple"))
    with pytest.raises(DataError, match="purple is not a class of the model"):
        fit_image(photos, str(tmp_path / "other"), config, validation_folder=unknown)


def test_the_cnn_stacks_residual_separable_blocks_on_a_conv_stem():
    classifier, explainer = build_cnn_classifier(3, 32, filters=(8, 16, 32))
    features = classifier.get_layer("features")
    assert [type(layer).__name__ for layer in features.layers] == [
        "Rescaling",
        "ConvBlock",
        "ResidualSeparableBlock",
        "ResidualSeparableBlock",
        "BatchNormalization",
        "ReLU",
    ]
    assert [layer.name for layer in classifier.get_layer("head").layers] == [
        "pooling",
        "dropout",
        "logits",
    ]
    assert explainer.outputs[0].shape == (None, 4, 4, 32)
    augmentation = classifier.get_layer("augmentation").layers
    [zoom] = [layer for layer in augmentation if isinstance(layer, keras.layers.RandomZoom)]
    assert zoom.height_factor == 0.2  # width follows height


def test_the_vgg_cnn_of_earlier_folders_can_still_be_built():
    # apptk's first CNN: what `config.json` of a folder fitted before the residual blocks
    # held, plus the fields added since.
    earlier = ImageConfig(arch="cnn", filters=(32, 64, 128, 256), cnn_block="vgg", dense_units=128)
    classifier, explainer = build_image_classifier(earlier, 2)
    features = classifier.get_layer("features")
    assert [type(layer).__name__ for layer in features.layers] == ["Rescaling"] + ["ConvBlock"] * 4
    assert classifier.get_layer("head").get_layer("hidden").units == 128
    assert classifier.count_params() == 423_010
    assert explainer.outputs[0].shape == (None, 10, 10, 256)
    with pytest.raises(ValueError, match="residual, vgg"):
        build_cnn_classifier(2, 32, block="resnet")


def test_cnn_defaults_run_the_whole_schedule():
    assert ImageConfig(arch="cnn", epochs=40).patience == 40
    assert ImageConfig(arch="cnn", epochs=40, patience=5).patience == 5
    assert ImageConfig().patience == 3


def test_the_cnn_learning_rate_warms_up_then_follows_a_cosine_to_zero():
    config = ImageConfig(arch="cnn", epochs=10, warmup_epochs=2, learning_rate=2e-3)
    schedule = cnn_learning_rate(config, steps_per_epoch=5)
    rates = [float(schedule(step)) for step in range(51)]
    np.testing.assert_allclose(rates[:11], np.linspace(0, 2e-3, 11), atol=1e-9)
    assert rates[30] == pytest.approx(1e-3)  # halfway down the 40 decay steps
    assert rates[50] == pytest.approx(0, abs=1e-9)
    assert all(later <= earlier for earlier, later in itertools.pairwise(rates[10:]))
    short = cnn_learning_rate(ImageConfig(arch="cnn", epochs=1, warmup_epochs=2), 4)
    assert float(short(2)) == pytest.approx(1e-3)  # warm-up is at most half the steps
    optimizer = cnn_optimizer(ImageConfig(arch="cnn", weight_decay=0.01), 5)
    assert isinstance(optimizer, keras.optimizers.AdamW) and optimizer.weight_decay == 0.01


def test_fit_transfer_trains_the_head_then_fine_tunes(transfer_run, keras_home):
    out, summary = transfer_run
    assert summary["arch"] == "transfer" and summary["epochs"] == 1
    assert summary["fine_tune_epochs"] == 1
    for name in ("history.csv", "training_curves.png", "model.weights.h5"):
        assert os.path.isfile(os.path.join(out, "fine_tune", name)), name
    # The backbone's bottom layers, never trained, hold the cached "ImageNet" weights.
    classifier = ImageClassifier.load(out)
    features = classifier.module.explainer.get_layer("features")
    cached = keras.applications.MobileNetV3Small(include_top=False, weights=None)
    cached.load_weights(
        str(keras_home / "models" / BACKBONES["mobilenet_v3_small"].no_top_weights.name)
    )
    for layer in [layer for layer in features.layers if layer.weights][:5]:
        for loaded, original in zip(
            layer.get_weights(), cached.get_layer(layer.name).get_weights()
        ):
            np.testing.assert_array_equal(loaded, original)


def test_unfreeze_top_layers_opens_only_the_top_and_keeps_batch_norm_frozen():
    backbone = BACKBONES["mobilenet_v3_small"]
    classifier, _ = build_transfer_classifier(backbone, 2, 32, imagenet_weights=False)
    frozen = len(classifier.trainable_weights)
    assert frozen == 2  # the new head's kernel and bias
    unfrozen = unfreeze_top_layers(classifier, 0.25)
    features = classifier.get_layer("features")
    trainable = [i for i, layer in enumerate(features.layers) if layer.trainable and layer.weights]
    assert unfrozen == len(trainable) > 0
    assert min(trainable) >= 0.75 * len(features.layers) - 1
    assert not any(
        isinstance(features.layers[i], keras.layers.BatchNormalization) for i in trainable
    )
    assert len(classifier.trainable_weights) > frozen


# ImageNet weights through Keras' cache


def test_weights_come_from_the_keras_cache_without_network(monkeypatch, keras_home):
    go_offline(monkeypatch, keras_home)
    backbone = BACKBONES["mobilenet_v3_small"]
    path = imagenet_weights_path(backbone, include_top=False)
    assert path == str(keras_home / "models" / backbone.no_top_weights.name)
    model = backbone.build(include_top=False, image_size=32)
    backbone.load_imagenet_weights(model, include_top=False)
    generated = keras.applications.MobileNetV3Small(include_top=False, weights=None)
    generated.load_weights(path)
    np.testing.assert_array_equal(model.get_weights()[0], generated.get_weights()[0])


def test_missing_weights_without_network_say_where_to_put_them(monkeypatch, tmp_path):
    go_offline(monkeypatch)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(ModelFileError) as error:
        ImageClassifier.load("mobilenet_v3_large")
    message = str(error.value)
    assert "Could not download the ImageNet weights" in message
    assert "weights_mobilenet_v3_large_224_1.0_float.h5" in message
    assert str(tmp_path / "models") in message and "\n" not in message


def test_a_cached_file_that_fails_the_hash_check_is_not_used(monkeypatch, keras_home, tmp_path):
    go_offline(monkeypatch)  # the real ImageNet hashes: the generated file does not match
    name = BACKBONES["mobilenet_v3_small"].no_top_weights.name
    (tmp_path / "models").mkdir()
    shutil.copy(keras_home / "models" / name, tmp_path / "models" / name)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(ModelFileError, match="Could not download"):
        imagenet_weights_path(BACKBONES["mobilenet_v3_small"], include_top=False)


def test_a_downloaded_imagenet_classifier_names_imagenet_classes(monkeypatch, keras_home, tmp_path):
    go_offline(monkeypatch, keras_home)
    classifier = ImageClassifier.load("mobilenet_v3_large")
    assert classifier.image_size == 224
    assert classifier.labels == imagenet_labels() and len(classifier.labels) == 1000
    assert classifier.labels[281] == "tabby cat"
    path = write_photo(tmp_path / "photo.jpg", photo(COLOURS["green"], size=300))
    [every] = classifier([path], top_k=1000)
    assert sum(p["probability"] for p in every) == pytest.approx(1.0, abs=1e-2)
    assert {p["label"] for p in every} == set(imagenet_labels())
    assert classifier([path], top_k=3)[0] == every[:3]
    assert classifier.explain(path)["heat_map"].shape == (7, 7)  # the last conv feature grid


# Evaluation


class StubClassifier:
    """Predicts the class named at the start of each file name."""

    labels = ("cat", "dog", "fox")

    def classify_files(self, paths, top_k, batch_size):
        return [
            {"file": path, "predictions": [{"label": os.path.basename(path).split("_")[0]}]}
            for path in paths
        ]


def test_evaluation_metrics_match_a_hand_count(tmp_path):
    # true cat: predicted cat, cat, dog; true dog: dog, dog, fox, cat; true fox: (no images)
    guesses = {"cat": ["cat", "cat", "dog"], "dog": ["dog", "dog", "fox", "cat"]}
    for true_class, predicted in guesses.items():
        (tmp_path / true_class).mkdir()
        for i, guess in enumerate(predicted):
            write_photo(tmp_path / true_class / f"{guess}_{i}.png", photo(COLOURS["red"]))
    plot = str(tmp_path / "confusion.png")
    metrics = evaluate_image_classifier(StubClassifier(), str(tmp_path), plot_path=plot)
    assert metrics["images"] == 7
    assert metrics["accuracy"] == round(4 / 7, 4)
    assert metrics["confusion_matrix"] == {
        "labels": ["cat", "dog", "fox"],
        "counts": [[2, 1, 0], [1, 2, 1], [0, 0, 0]],
    }
    assert metrics["per_class"] == {
        "cat": {"precision": round(2 / 3, 4), "recall": round(2 / 3, 4), "support": 3},
        "dog": {"precision": round(2 / 3, 4), "recall": 0.5, "support": 4},
        "fox": {"precision": 0.0, "recall": None, "support": 0},
    }
    assert metrics["confusion_matrix_png"] == plot
    with open(plot, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


def test_evaluate_a_fitted_model(cnn_run, photos):
    classifier = ImageClassifier.load(cnn_run[0])
    metrics = evaluate_image_classifier(classifier, photos)
    counts = np.array(metrics["confusion_matrix"]["counts"])
    assert counts.sum() == metrics["images"] == 36
    assert metrics["accuracy"] == round(np.trace(counts) / 36, 4) >= 0.8
    assert "confusion_matrix_png" not in metrics and metrics["images_per_second"] > 0


# Export


SERVE = """
import json, sys
import tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
images = [open(path, "rb").read() for path in sys.argv[2:]]
outputs = model.signatures["serving_default"](image_bytes=tf.constant(images))
print(json.dumps({
    "labels": [[label.decode() for label in row] for row in outputs["labels"].numpy()],
    "probabilities": outputs["probabilities"].numpy().tolist(),
    "apptk_imported": "apptk" in sys.modules,
}))
"""


def test_the_export_serves_image_bytes_with_only_tensorflow(cnn_run, tmp_path):
    classifier = ImageClassifier.load(cnn_run[0])
    out = export_image(classifier, str(tmp_path / "image" / "1"))
    photos = new_photos(tmp_path, per_colour=1)
    jpeg = write_photo(tmp_path / "new.jpg", photo(COLOURS["blue"], size=50, seed=3))
    paths = [jpeg] + [paths[0] for paths in photos.values()]
    served = subprocess.run(
        [sys.executable, "-c", SERVE, out, *paths], capture_output=True, text=True, check=True
    )
    result = json.loads(served.stdout.strip().splitlines()[-1])
    assert not result["apptk_imported"]
    expected = classifier(paths, top_k=5)  # three classes: all three, best first
    assert result["labels"] == [[p["label"] for p in row] for row in expected]
    np.testing.assert_allclose(
        result["probabilities"], [[p["probability"] for p in row] for row in expected], atol=1e-4
    )
    reloaded = ImageClassifier.load(out)
    assert reloaded.labels == classifier.labels and reloaded([jpeg]) == classifier([jpeg])
    assert reloaded.explain(jpeg)["heat_map"].shape == (8, 8)
    with pytest.raises(OutputExistsError):
        export_image(classifier, out)


def test_a_cnn_folder_fitted_before_the_residual_cnn_still_loads(tmp_path):
    """Old config.json files have no `cnn_block`: they hold the VGG-style CNN."""
    old = ImageConfig(arch="cnn", filters=(8, 16), dense_units=16, cnn_block="vgg")
    classifier = build_image_classifier(old, 3, imagenet_weights=False)[0]
    folder = tmp_path / "old_cnn"
    folder.mkdir()
    saved = dataclasses.asdict(old)
    for new_field in ("cnn_block", "weight_decay", "warmup_epochs"):
        del saved[new_field]
    (folder / "config.json").write_text(json.dumps(saved))
    (folder / "labels.txt").write_text("blue\ngreen\nred\n")
    save_weights_atomically(classifier, str(folder / "model.weights.h5"))
    loaded = ImageClassifier.load(str(folder))
    answers = loaded([write_photo(tmp_path / "blue.png", photo((0, 0, 255)))], top_k=3)[0]
    assert sorted(answer["label"] for answer in answers) == ["blue", "green", "red"]
