"""The ImageNet backbones apptk offers, and where their weights come from.

Each backbone is a `keras.applications` model. The default, MobileNetV2, ships with apptk:
its weights are those of TensorFlow's quantized TFLite MobileNetV2 (Apache-2.0), converted by
`tools/convert_mobilenet_v2_tflite.py`, and live in the shipped ImageNet classifier
`savedmodels/imagenet_mobilenet_v2/1`; so `apptk classify` and `apptk fit image` work offline.
The others' ImageNet weights are fetched the way `keras.applications` fetches them, with
`keras.utils.get_file` into the Keras cache (`$KERAS_HOME/models`, by default
`~/.keras/models`), under the same file names and MD5 hashes as in `keras/src/applications/`;
so a file Keras downloaded once serves apptk too, and a machine without internet works once
the file is put there. `bench/images.py --backbones` times them: MobileNetV3Large (75.6%
ImageNet top-1) is the better trade where it can be downloaded.
"""

import contextlib
import dataclasses
import io
import os

from apptk.applications.errors import ModelFileError

DEFAULT_BACKBONE = "mobilenet_v2"
# Converted from TensorFlow's quantized TFLite model (tools/convert_mobilenet_v2_tflite.py).
SHIPPED_MOBILENET_V2 = "imagenet_mobilenet_v2/1"


@dataclasses.dataclass(frozen=True)
class WeightsFile:
    """A weights file as `keras.applications` names it in the Keras cache, and its MD5."""

    name: str
    md5: str


@dataclasses.dataclass(frozen=True)
class Backbone:
    """A `keras.applications` ImageNet model usable as classifier or feature extractor.

    Args:
        constructor: the `keras.applications` function.
        image_size: the side of the square images it was trained on.
        imagenet_top1: its ImageNet top-1 accuracy (Keras documentation, or as measured).
        base_url: where Keras downloads its weights from.
        top_weights, no_top_weights: the weights with and without the 1000-class top.
        shipped: instead of a download, the shipped ImageNet classifier (a SavedModel under
            `savedmodels/`) whose `model_weights` function holds the network's weights.
        rescale_input: the network expects pixels in [-1, 1] and does not rescale them
            itself (MobileNetV2): a `Rescaling` layer is put in front.
    """

    constructor: str
    image_size: int
    imagenet_top1: float
    base_url: str | None = None
    top_weights: WeightsFile | None = None
    no_top_weights: WeightsFile | None = None
    shipped: str | None = None
    rescale_input: bool = False

    def build(
        self, include_top: bool, image_size: int | None = None, name: str | None = None
    ) -> "keras.Model":  # noqa: F821 - Keras is imported when a model is built
        """The network with random weights; top models output ImageNet logits.

        Pixels go in as floats in [0, 255]: each of these models rescales them itself.
        """
        import keras

        size = image_size or self.image_size
        options = {"classifier_activation": None} if include_top else {}
        constructor = getattr(keras.applications, self.constructor)
        if not self.rescale_input:
            return constructor(
                include_top=include_top,
                weights=None,
                input_shape=(size, size, 3),
                **options,
                **({"name": name} if name else {}),
            )
        inputs = keras.Input((size, size, 3), name="pixels")
        # [0, 255] → [-1, 1], as keras.applications.mobilenet_v2.preprocess_input does.
        pixels = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="rescaling")(inputs)
        network = constructor(include_top=include_top, weights=None, input_tensor=pixels, **options)
        return keras.Model(inputs, network.output, name=name or network.name)

    def load_imagenet_weights(self, model, include_top: bool) -> None:
        """Gives `model` (built by `build`) its ImageNet weights: downloaded, or shipped."""
        if not self.shipped:
            model.load_weights(imagenet_weights_path(self, include_top))
            return
        from apptk.applications.run.export import assign_exported_weights

        network = self.build(include_top=True)
        assign_exported_weights(network, shipped_weights(self.shipped), self.shipped)
        for layer in model.layers:
            if layer.weights:
                layer.set_weights(network.get_layer(layer.name).get_weights())


_SHIPPED_WEIGHTS: dict[str, list] = {}


def shipped_weights(folder: str) -> list:
    """The `model_weights()` of a shipped ImageNet classifier (read once per process)."""
    if folder not in _SHIPPED_WEIGHTS:
        from apptk.applications.run.export import load_saved_model
        from apptk.applications.run.presets import SHIPPED_MODELS

        module = load_saved_model(
            os.path.join(SHIPPED_MODELS, folder), required_function="model_weights", kind="image"
        )
        _SHIPPED_WEIGHTS[folder] = [value.numpy() for value in module.model_weights()]
    return _SHIPPED_WEIGHTS[folder]


_MOBILENET_V3_URL = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/"
_EFFICIENTNET_V2_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/"
)

BACKBONES = {
    "mobilenet_v2": Backbone(
        "MobileNetV2",
        224,
        0.713,
        shipped=SHIPPED_MOBILENET_V2,
        rescale_input=True,
    ),
    "mobilenet_v3_small": Backbone(
        "MobileNetV3Small",
        224,
        0.681,
        _MOBILENET_V3_URL,
        WeightsFile(
            "weights_mobilenet_v3_small_224_1.0_float.h5", "8768d4c2e7dee89b9d02b2d03d65d862"
        ),
        WeightsFile(
            "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5",
            "d3e8ec802a04aa4fc771ee12a9a9b836",
        ),
    ),
    "mobilenet_v3_large": Backbone(
        "MobileNetV3Large",
        224,
        0.756,
        _MOBILENET_V3_URL,
        WeightsFile(
            "weights_mobilenet_v3_large_224_1.0_float.h5", "59e551e166be033d707958cf9e29a6a7"
        ),
        WeightsFile(
            "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5",
            "07fb09a5933dd0c8eaafa16978110389",
        ),
    ),
    "efficientnet_v2_b0": Backbone(
        "EfficientNetV2B0",
        224,
        0.787,
        _EFFICIENTNET_V2_URL,
        WeightsFile("efficientnetv2-b0.h5", "21ecbf6da12460d5c40bb2f29ceb2188"),
        WeightsFile("efficientnetv2-b0_notop.h5", "893217f2bb855e2983157299931e43ff"),
    ),
}


def get_backbone(name: str) -> Backbone:
    try:
        return BACKBONES[name]
    except KeyError:
        raise ModelFileError(
            f"Unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}."
        ) from None


def keras_cache_folder() -> str:
    """Where Keras keeps downloads: `$KERAS_HOME`, read now, else Keras' own default."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "models")


def imagenet_weights_path(backbone: Backbone, include_top: bool) -> str:
    """The cached weights file, downloaded first if needed; its MD5 is checked.

    Raises:
        ModelFileError: the file is not cached (or fails the hash check) and cannot be
            downloaded.
    """
    import keras

    weights = backbone.top_weights if include_top else backbone.no_top_weights
    url = backbone.base_url + weights.name
    try:
        # Keras prints its progress on stdout, which belongs to the command's own output.
        with contextlib.redirect_stdout(io.StringIO()):
            return keras.utils.get_file(
                weights.name,
                url,
                cache_subdir="models",
                file_hash=weights.md5,
                cache_dir=os.environ.get("KERAS_HOME"),
            )
    except Exception as error:
        # Keras words a failed download "URL fetch failure on URL: CODE -- REASON".
        reason = str(error).strip().split(" -- ")[-1].splitlines()[0] or type(error).__name__
        raise ModelFileError(
            f"Could not download the ImageNet weights from {url} ({reason}); without "
            f"internet, put that file in {keras_cache_folder()} (the Keras cache; KERAS_HOME "
            "moves it)."
        ) from error
