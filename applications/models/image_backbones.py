"""The ImageNet backbones apptk offers, and their weights through Keras' download cache.

Each backbone is a `keras.applications` model. Its ImageNet weights are fetched the way
`keras.applications` fetches them, with `keras.utils.get_file` into the Keras cache
(`$KERAS_HOME/models`, by default `~/.keras/models`), under the same file names and MD5
hashes as in `keras/src/applications/`; so a file Keras downloaded once serves apptk too,
and a machine without internet works once the file is put there.

The default, MobileNetV3Large (75.6% ImageNet top-1), is the knee of the accuracy/CPU-time
curve that `bench/images.py --backbones` measures: about as fast as MobileNetV2 (71.3%) at
batch 1 and faster at batch 32; twice the time of MobileNetV3Small (68.1%) for a quarter
fewer errors; a quarter to a third less time than EfficientNetV2B0, whose 78.7% costs more
per image than it adds.
"""

import contextlib
import dataclasses
import io
import os

from apptk.applications.errors import ModelFileError

DEFAULT_BACKBONE = "mobilenet_v3_large"


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
        imagenet_top1: its published ImageNet top-1 accuracy (Keras documentation).
        base_url: where Keras downloads its weights from.
        top_weights, no_top_weights: the weights with and without the 1000-class top.
    """

    constructor: str
    image_size: int
    imagenet_top1: float
    base_url: str
    top_weights: WeightsFile
    no_top_weights: WeightsFile

    def build(
        self, include_top: bool, image_size: int | None = None, name: str | None = None
    ) -> "keras.Model":  # noqa: F821 - Keras is imported when a model is built
        """The network with random weights; top models output ImageNet logits.

        Pixels go in as floats in [0, 255]: each of these models rescales them itself.
        """
        import keras

        size = image_size or self.image_size
        options = {"classifier_activation": None} if include_top else {}
        if name:
            options["name"] = name
        return getattr(keras.applications, self.constructor)(
            include_top=include_top, weights=None, input_shape=(size, size, 3), **options
        )

    def load_imagenet_weights(self, model, include_top: bool) -> None:
        model.load_weights(imagenet_weights_path(self, include_top))


_MOBILENET_V3_URL = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/"
_EFFICIENTNET_V2_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/"
)

BACKBONES = {
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
