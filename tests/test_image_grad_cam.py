"""Grad-CAM on a hand-made explainer whose evidence for each class sits in a known place."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from apptk.applications.image.classifier import ImageClassifier, ImageModule
from apptk.applications.image.grad_cam import grad_cam
from apptk.applications.run.plots import plot_grad_cam

SIZE = 16


def colour_explainer() -> keras.Model:
    """Feature channels = the red and the blue channel; class 0 is "red", class 1 "blue".

    The logits are the mean red and mean blue over the image, so the evidence for "red" is
    wherever the image is red.
    """
    pixels = keras.Input((SIZE, SIZE, 3))
    channels = keras.layers.Conv2D(2, 1, use_bias=False, name="channels")
    feature_map = channels(pixels)  # (batch, 16, 16, 2)
    logits = keras.layers.GlobalAveragePooling2D()(feature_map)
    explainer = keras.Model(pixels, [feature_map, logits])
    kernel = np.zeros((1, 1, 3, 2), "float32")
    kernel[0, 0, 0, 0] = kernel[0, 0, 2, 1] = 1.0 / 255
    channels.set_weights([kernel])
    return explainer


def two_squares() -> np.ndarray:
    """A red square at the top left and a blue one at the bottom right, on black."""
    image = np.zeros((SIZE, SIZE, 3), "float32")
    image[2:6, 2:6, 0] = 255
    image[10:14, 10:14, 2] = 255
    return image


@pytest.mark.parametrize("class_index, square", [(0, (2, 6)), (1, (10, 14))])
def test_the_heat_map_peaks_where_the_class_evidence_is(class_index, square):
    heat_map = grad_cam(colour_explainer(), tf.constant(two_squares()), class_index).numpy()
    assert heat_map.shape == (SIZE, SIZE)
    assert heat_map.min() >= 0 and heat_map.max() == pytest.approx(1.0)
    start, stop = square
    inside = np.zeros_like(heat_map, dtype=bool)
    inside[start:stop, start:stop] = True
    np.testing.assert_allclose(heat_map[inside], 1.0)
    np.testing.assert_allclose(heat_map[~inside], 0.0, atol=1e-6)


def test_evidence_against_a_class_is_not_shown():
    """Where the class score falls as a feature rises, the ReLU leaves the map at zero."""
    explainer = colour_explainer()
    pixels = keras.Input((SIZE, SIZE, 3))
    feature_map, logits = explainer(pixels)
    against_red = keras.Model(pixels, [feature_map, -logits])
    heat_map = grad_cam(against_red, tf.constant(two_squares()), 0).numpy()
    np.testing.assert_array_equal(heat_map, np.zeros((SIZE, SIZE)))


def test_the_classifier_explains_its_top_class_and_draws_the_png(tmp_path):
    module = ImageModule(colour_explainer(), ["red", "blue"], SIZE)
    classifier = ImageClassifier(module)
    image = np.zeros((64, 96, 3), "uint8")
    image[:, :48, 2] = 255  # the left half is blue
    path = str(tmp_path / "half_blue.png")
    tf.io.write_file(path, tf.io.encode_png(image))
    plot = str(tmp_path / "grad_cam.png")
    explanation = classifier.explain(path, plot_path=plot)
    assert explanation["label"] == "blue"
    heat_map = explanation["heat_map"]
    assert heat_map[:, : SIZE // 2 - 1].min() > 0.99 and heat_map[:, SIZE // 2 + 1 :].max() == 0
    with open(plot, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    red = classifier.explain(path, class_index=0)
    assert red["label"] == "red" and red["probability"] < explanation["probability"]


def test_plot_grad_cam_writes_a_png_of_the_photo_size(tmp_path):
    path = plot_grad_cam(
        np.zeros((30, 60, 3), "uint8"), np.eye(4), "title", str(tmp_path / "g.png")
    )
    width, height = Image.open(path).size
    assert 1.6 < width / height < 2.2
