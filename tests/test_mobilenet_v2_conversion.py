"""tools/convert_mobilenet_v2_tflite.py: the converted Keras MobileNetV2 against TFLite."""

import importlib.util
import os

import numpy as np
import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.path.join(REPO_ROOT, "..", "shared", "data")
TOOL_PATH = os.path.join(REPO_ROOT, "tools", "convert_mobilenet_v2_tflite.py")
CAT_CLASSES = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian cat
HOTDOG_CLASS = 934
CHECK_PHOTOS = 40

pytestmark = pytest.mark.skipif(
    not os.path.isdir(os.path.join(SHARED_DATA, "imagenet_mobilenet_tflite")),
    reason="needs the TFLite MobileNetV2 and photos in ../shared/data/imagenet_mobilenet_tflite",
)


@pytest.fixture(scope="module")
def tool():
    """The tool module, imported by path (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location("convert_mobilenet_v2_tflite", TOOL_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def converted(tool, tmp_path_factory):
    """The Keras model loaded back from a weights file the tool wrote."""
    path = str(tmp_path_factory.mktemp("mobilenet_v2") / "mobilenet_v2.weights.h5")
    tool.save_weights(tool.convert(), path)
    return tool.load_converted(path)


@pytest.fixture(scope="module")
def interpreter(tool):
    return tool.load_interpreter()


@pytest.fixture(scope="module")
def shipped_predictions(tool, converted, interpreter):
    """{photo file name: (Keras top-1 class, TFLite top-1 class without background)}."""
    paths = tool.shipped_photo_paths()
    photos = tool.load_photos(paths)
    keras_classes = np.argmax(tool.keras_probabilities(converted, photos), axis=1)
    tflite_classes = np.argmax(tool.tflite_probabilities(interpreter, photos)[:, 1:], axis=1)
    names = [os.path.basename(path) for path in paths]
    return dict(zip(names, zip(keras_classes.tolist(), tflite_classes.tolist())))


def test_agrees_with_tflite_on_photos(tool, converted, interpreter):
    # Float and uint8 inference differ on photos without a clear ImageNet class: on 1,000
    # cats/flowers photos top-1 agreement is about 95%, no better for a round-to-nearest
    # integer re-implementation, but 100% where TFLite gives its top class at least 0.5.
    paths = tool.shipped_photo_paths() + tool.check_photo_paths(CHECK_PHOTOS)
    photos = tool.load_photos(paths)
    stats = tool.agreement(
        tool.keras_probabilities(converted, photos), tool.tflite_probabilities(interpreter, photos)
    )
    assert stats["photos"] == 7 + CHECK_PHOTOS
    assert stats["top1"] >= 0.90, stats
    assert stats["confident_photos"] >= 20 and stats["confident_top1"] >= 0.95, stats
    assert stats["mean_abs_prob_diff"] < 1e-3, stats


def test_recognises_the_cat_and_the_hot_dog(shipped_predictions):
    assert shipped_predictions["cat.bmp"][0] in CAT_CLASSES
    assert shipped_predictions["hot_dog.jpg"] == (HOTDOG_CLASS, HOTDOG_CLASS)
    assert all(keras == tflite for keras, tflite in shipped_predictions.values())


def test_each_layer_matches_tflite_within_one_quantization_step(tool, converted, interpreter):
    photo = tool.load_photos(tool.shipped_photo_paths()[:1])[0]
    errors = dict(tool.layer_errors(converted, interpreter, photo))
    assert len(errors) == 35 + 17 + 10 + 1 + 1  # conv, depthwise, add, pooling, classifier
    assert max(errors.values()) <= 1.0, errors


def test_layer_check_catches_a_batch_norm_without_the_folded_bias(tool, interpreter):
    model = tool.convert()
    batch_norm = model.get_layer("block_5_expand_BN")
    gamma, beta, mean, variance = batch_norm.get_weights()
    batch_norm.set_weights([gamma, np.zeros_like(beta), mean, variance])
    photo = tool.load_photos(tool.shipped_photo_paths()[:1])[0]
    errors = dict(tool.layer_errors(model, interpreter, photo))
    assert errors["block_5_expand"] > 2.0
    assert errors["block_4_expand"] <= 1.0


def test_float16_file_holds_the_rounded_weights(tool, tmp_path):
    model = tool.convert()
    float32_path, float16_path = str(tmp_path / "f32.weights.h5"), str(tmp_path / "f16.weights.h5")
    tool.save_weights(model, float32_path)
    tool.save_weights(model, float16_path, float16=True)
    assert os.path.getsize(float16_path) < 0.6 * os.path.getsize(float32_path)
    loaded = tool.load_converted(float16_path).get_weights()
    for saved, original in zip(loaded, model.get_weights()):
        assert saved.dtype == np.float32
        np.testing.assert_array_equal(saved, original.astype(np.float16).astype(np.float32))
    assert sorted(os.listdir(tmp_path)) == ["f16.weights.h5", "f32.weights.h5"]
