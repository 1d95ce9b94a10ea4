import io
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from image_fixtures import COLOURS, make_image_folder, photo, truncated_jpeg, write_photo
from PIL import Image

from apptk.applications.errors import DataError
from apptk.applications.image.data import (
    DecodeImages,
    decode_image,
    drop_unreadable,
    expand_image_paths,
    image_dataset,
    scan_image_folder,
    split_validation,
)


def encoded(pixels: np.ndarray, image_format: str, mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    image = Image.fromarray(pixels)
    (image.convert(mode) if mode else image).save(buffer, image_format)
    return buffer.getvalue()


RED = photo(COLOURS["red"], size=48)


@pytest.mark.parametrize(
    "image_format, mode",
    [("JPEG", None), ("PNG", None), ("GIF", None), ("BMP", None), ("PNG", "RGBA"), ("JPEG", "L")],
)
def test_decode_image_gives_rgb_pixels_of_the_square_size(image_format, mode):
    pixels = decode_image(tf.constant(encoded(RED, image_format, mode)), 32).numpy()
    assert pixels.shape == (32, 32, 3) and pixels.dtype == np.float32
    assert 0 <= pixels.min() and pixels.max() <= 255
    mean = pixels.mean(axis=(0, 1))
    if mode == "L":  # grayscale: three equal channels
        assert np.allclose(mean[0], mean[1], atol=1) and np.allclose(mean[1], mean[2], atol=1)
    else:  # the colour survives every format (GIF's palette, JPEG's compression)
        assert np.allclose(mean, COLOURS["red"], atol=25), mean


def test_decode_image_shrinks_a_huge_photo():
    huge = np.zeros((3000, 4000, 3), dtype="uint8")
    huge[:, :2000] = 255  # left half white
    pixels = decode_image(tf.constant(encoded(huge, "PNG")), 64).numpy()
    assert pixels.shape == (64, 64, 3)
    assert pixels[:, :30].min() > 250 and pixels[:, 34:].max() < 5


@pytest.mark.parametrize(
    "data", [b"", b"not an image at all", encoded(RED, "JPEG")[:300], encoded(RED, "PNG")[:200]]
)
def test_decode_image_rejects_what_is_not_a_whole_image(data):
    with pytest.raises(tf.errors.InvalidArgumentError):
        decode_image(tf.constant(data), 32)


def test_decode_images_layer_decodes_a_batch_and_round_trips_its_config():
    layer = DecodeImages(24)
    batch = layer(tf.constant([encoded(RED, "PNG"), encoded(RED, "BMP")]))
    assert tuple(batch.shape) == (2, 24, 24, 3)
    np.testing.assert_allclose(batch[0], batch[1])
    copy = keras.layers.deserialize(keras.layers.serialize(layer))
    assert isinstance(copy, DecodeImages) and copy.image_size == 24
    assert layer.compute_output_shape((None,)) == (None, 24, 24, 3)


# Labelled folders


def test_scan_image_folder_lists_classes_in_sorted_order(tmp_path):
    folder = make_image_folder(tmp_path, classes=("red", "blue"), per_class=3)
    data = scan_image_folder(folder)
    assert data.class_names == ["blue", "red"]
    assert data.labels == [0, 0, 0, 1, 1, 1]
    assert all(os.path.basename(path).startswith(("blue", "red")) for path in data.paths)
    assert sorted({os.path.splitext(path)[1] for path in data.paths}) == [".gif", ".jpg", ".png"]


def test_scan_image_folder_warns_about_junk_files_and_ignores_hidden_ones(tmp_path):
    folder = make_image_folder(tmp_path, classes=("red", "blue"), per_class=2)
    (tmp_path / "red" / "notes.txt").write_text("not a photo")
    (tmp_path / "red" / ".DS_Store").write_bytes(b"\0")
    (tmp_path / "README.md").write_text("the dataset")
    with pytest.warns(UserWarning, match=r"Skipped 1 files .* not JPEG, PNG, GIF or BMP.*notes"):
        data = scan_image_folder(folder)
    assert len(data.paths) == 4


@pytest.mark.parametrize(
    "layout, message",
    [
        ({"red": 3}, r"one class sub-folder \(red\); a classifier needs at least two"),
        ({"red": 3, "blue": 0}, "blue holds no JPEG, PNG, GIF or BMP images"),
        ({}, "has no class sub-folders"),
    ],
)
def test_scan_image_folder_rejects_bad_layouts(tmp_path, layout, message):
    for name, count in layout.items():
        (tmp_path / name).mkdir()
        for i in range(count):
            write_photo(tmp_path / name / f"{i}.png", RED)
    with pytest.raises(DataError, match=message):
        scan_image_folder(str(tmp_path))


def test_scan_image_folder_rejects_loose_images_and_missing_folders(tmp_path):
    write_photo(tmp_path / "cat.jpg", RED)
    with pytest.raises(DataError, match="holds 1 images but no class sub-folders"):
        scan_image_folder(str(tmp_path))
    with pytest.raises(DataError, match="Image folder not found"):
        scan_image_folder(str(tmp_path / "missing"))


def test_a_validation_folder_uses_the_model_classes(tmp_path):
    folder = make_image_folder(tmp_path / "val", classes=("red",), per_class=2)
    data = scan_image_folder(folder, class_names=["blue", "green", "red"])
    assert data.labels == [2, 2] and data.class_names == ["blue", "green", "red"]
    with pytest.raises(DataError, match="red is not a class of the model"):
        scan_image_folder(folder, class_names=["cat", "dog"])


def test_split_validation_is_stable_and_keeps_every_class_in_training(tmp_path):
    data = scan_image_folder(make_image_folder(tmp_path, per_class=20))
    train, validation = split_validation(data, 0.25)
    assert sorted(train.paths + validation.paths) == sorted(data.paths)
    assert set(train.labels) == {0, 1, 2}
    assert 0.1 < len(validation.paths) / len(data.paths) < 0.4
    again_train, _ = split_validation(scan_image_folder(str(tmp_path)), 0.25)
    assert again_train.paths == train.paths
    with pytest.raises(DataError, match="Too few images to hold out a validation split"):
        split_validation(data.subset([0, 20, 40]), 0.01)


def test_drop_unreadable_skips_corrupt_files_with_a_warning(tmp_path):
    folder = make_image_folder(tmp_path, classes=("red", "blue"), per_class=3)
    truncated_jpeg(tmp_path / "red" / "broken.jpg")
    (tmp_path / "blue" / "text.png").write_text("a text file with an image's name")
    data = scan_image_folder(folder)
    with pytest.warns(UserWarning, match="Skipped 2 files that do not decode"):
        readable = drop_unreadable(data)
    assert len(readable.paths) == 6
    assert not any(path.endswith(("broken.jpg", "text.png")) for path in readable.paths)


def test_image_dataset_batches_pixels_and_labels(tmp_path):
    data = scan_image_folder(make_image_folder(tmp_path, classes=("red", "blue"), per_class=3))
    batches = list(image_dataset(data, 16, batch_size=4, shuffle=True, seed=1))
    assert [tuple(pixels.shape) for pixels, _ in batches] == [(4, 16, 16, 3), (2, 16, 16, 3)]
    labels = np.concatenate([labels.numpy() for _, labels in batches])
    assert sorted(labels.tolist()) == [0, 0, 0, 1, 1, 1]
    for pixels, labels in batches:  # red images are red, blue ones blue
        red_minus_blue = pixels.numpy()[..., 0].mean(axis=(1, 2)) - pixels.numpy()[..., 2].mean(
            axis=(1, 2)
        )
        assert np.all((red_minus_blue > 0) == (labels.numpy() == 1))


def test_expand_image_paths_reads_folders_and_globs(tmp_path):
    make_image_folder(tmp_path / "photos", classes=("red", "blue"), per_class=2)
    (tmp_path / "photos" / "notes.txt").write_text("skipped")
    single = str(tmp_path / "photos" / "red" / "red_0.jpg")
    paths, problems = expand_image_paths(
        [single, str(tmp_path / "photos"), str(tmp_path / "photos" / "*" / "*.png"), "nope.jpg"]
    )
    assert paths[0] == single and len(paths) == 4  # no repeats; the .txt is not an image
    assert problems == [{"file": "nope.jpg", "error": "nope.jpg: file not found."}]
    (tmp_path / "empty").mkdir()
    _, problems = expand_image_paths([str(tmp_path / "empty")])
    assert "holds no JPEG, PNG, GIF or BMP images" in problems[0]["error"]
