"""Shared by the image tests: generated photo folders, and ImageNet weights files made with
random weights under Keras' own file names in a temporary Keras cache (no network, ever)."""

import dataclasses
import hashlib
import json
import urllib.error
import warnings
from pathlib import Path

import numpy as np
from keras.src.utils import file_utils
from PIL import Image

from apptk.applications.models.image_backbones import BACKBONES, WeightsFile

COLOURS = {"blue": (40, 60, 220), "green": (40, 200, 60), "red": (220, 40, 40)}
EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "BMP": ".bmp"}
TINY_CNN = {
    "arch": "cnn",
    "image_size": 32,
    "filters": (8, 16),
    "dense_units": 16,
    "batch_size": 8,
    "learning_rate": 1e-2,  # the peak: warm-up and cosine decay average about half of it
    "epochs": 6,
}
TINY_TRANSFER = {
    "arch": "transfer",
    "backbone": "mobilenet_v3_small",
    "image_size": 32,
    "batch_size": 8,
    "epochs": 1,
    "fine_tune_epochs": 1,
}
# The weights files the image tests use: a small backbone for transfer learning, and the
# downloadable MobileNetV3Large ImageNet classifier.
GENERATED_WEIGHTS = (("mobilenet_v3_small", False), ("mobilenet_v3_large", True))


def photo(colour: tuple[int, int, int], size: int = 40, seed: int = 0) -> np.ndarray:
    """A noisy picture of one colour, its height and width varying a little around `size`."""
    rng = np.random.default_rng(seed)
    height, width = size + rng.integers(-8, 9, size=2)
    pixels = np.array(colour)[None, None, :] + rng.normal(0, 25, (height, width, 3))
    return np.clip(pixels, 0, 255).astype("uint8")


def write_photo(path, pixels: np.ndarray, image_format: str | None = None) -> str:
    Image.fromarray(pixels).save(path, image_format)
    return str(path)


def make_image_folder(root, classes=("blue", "green", "red"), per_class: int = 12, seed=0) -> str:
    """`root/CLASS/CLASS_i.ext`, the four formats in turn, each class its own colour."""
    for class_index, name in enumerate(classes):
        (Path(root) / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            image_format = list(EXTENSIONS)[i % len(EXTENSIONS)]
            pixels = photo(COLOURS[name], seed=seed * 10_000 + class_index * 100 + i)
            write_photo(Path(root) / name / f"{name}_{i}{EXTENSIONS[image_format]}", pixels)
    return str(root)


def session_photos(tmp_path_factory) -> str:
    """The generated three-colour folder (12 photos a class), made once per test session."""
    folder = tmp_path_factory.getbasetemp() / "colour_photos"
    if not folder.exists():
        make_image_folder(folder, per_class=12)
    return str(folder)


def session_cnn(tmp_path_factory) -> tuple[str, dict]:
    """`TINY_CNN` fitted on `session_photos` once per test session: its folder and summary."""
    from apptk.applications.image import ImageConfig, fit_image

    out = tmp_path_factory.getbasetemp() / "tiny_cnn"
    summary_file = tmp_path_factory.getbasetemp() / "tiny_cnn_summary.json"
    if not summary_file.exists():
        summary = fit_image(session_photos(tmp_path_factory), str(out), ImageConfig(**TINY_CNN))
        summary_file.write_text(json.dumps(summary))
    return str(out), json.loads(summary_file.read_text())


def truncated_jpeg(path) -> str:
    """A JPEG file cut in half, as an interrupted download leaves it."""
    write_photo(path, photo(COLOURS["red"], size=64), "JPEG")
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: len(data) // 2])
    return str(path)


def _weights_file(name: str, include_top: bool) -> WeightsFile:
    backbone = BACKBONES[name]
    return backbone.top_weights if include_top else backbone.no_top_weights


def imagenet_cache(tmp_path_factory) -> Path:
    """A Keras home whose `models/` holds random-weight files of `GENERATED_WEIGHTS`.

    Written once per test session, in `keras.applications`' own (legacy HDF5) format.
    """
    home = tmp_path_factory.getbasetemp() / "keras_home"
    (home / "models").mkdir(parents=True, exist_ok=True)
    for name, include_top in GENERATED_WEIGHTS:
        path = home / "models" / _weights_file(name, include_top).name
        if not path.exists():
            model = BACKBONES[name].build(include_top=include_top)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "HDF5 is a legacy format"
                model.save(str(path))
    return home


def refuse_download(url, *args, **kwargs):
    raise urllib.error.URLError(f"tests never use the network ({url})")


def go_offline(monkeypatch, keras_home: Path | None = None) -> None:
    """No downloads; with `keras_home`, Keras' cache there and its generated files accepted.

    Keras checks a cached weights file against the MD5 of the real ImageNet file; the
    generated files have other hashes, so the backbones are told theirs instead.
    """
    monkeypatch.setattr(file_utils, "urlretrieve", refuse_download)
    if keras_home is None:
        return
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    for name, include_top in GENERATED_WEIGHTS:
        weights = _weights_file(name, include_top)
        md5 = hashlib.md5((keras_home / "models" / weights.name).read_bytes()).hexdigest()
        field = "top_weights" if include_top else "no_top_weights"
        replaced = dataclasses.replace(BACKBONES[name], **{field: WeightsFile(weights.name, md5)})
        monkeypatch.setitem(BACKBONES, name, replaced)
