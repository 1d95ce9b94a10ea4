"""The shipped models and the downloadable ones, by name: what `apptk models` lists and what
`Translator.load("en_es")` or `--model en_es` loads (KerasHub's presets, kept small).

Kept free of TensorFlow and Keras imports so listing and resolving names stays instant.
"""

import dataclasses
import os

from apptk.applications.errors import ModelFileError
from apptk.applications.run.disk_usage import folder_bytes

_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIPPED_MODELS = os.path.join(_PACKAGE_ROOT, "savedmodels")
TATOEBA = "Tatoeba data, CC-BY 2.0 (attribute www.manythings.org/anki and tatoeba.org)"
GENERAL_EN_ES = (
    TATOEBA + "; fine-tuned on Python docs (CC0), Debian/GNOME/mozilla.org interface text "
    "(GPL, LGPL, MPL-2.0, CC-BY-SA-3.0) and FreeDict (GPL): savedmodels/README.md"
)
KERAS_WEIGHTS = "Apache-2.0 (Keras Applications ImageNet weights; downloaded on first use)"


@dataclasses.dataclass(frozen=True)
class Preset:
    """A model known by name.

    Args:
        name: what users type (`en_es`).
        kind: the pipeline that runs it (`translation`, `next-word`, `fill-mask`, `image`).
        description: one line on what it is.
        licence: the licence of its weights or the data they were trained on.
        folder: a TF Serving version folder under `savedmodels/`, for shipped models.
        backbone: for ImageNet classifiers whose weights Keras downloads: the backbone name.
    """

    name: str
    kind: str
    description: str
    licence: str
    folder: str | None = None
    backbone: str | None = None

    @property
    def path(self) -> str | None:
        return os.path.join(SHIPPED_MODELS, self.folder) if self.folder else None

    def size_bytes(self) -> int | None:
        """The shipped files' size on disk (None for a download)."""
        if not self.path:
            return None
        return folder_bytes(self.path)


PRESETS = {
    preset.name: preset
    for preset in (
        Preset(
            "en_es",
            "translation",
            "English→Spanish Transformer, 2+2 blocks, width 256, 8,000-token vocabularies "
            "(7.7 M parameters)",
            GENERAL_EN_ES,
            folder="en_es/1",
        ),
        Preset(
            "next_word",
            "next-word",
            "2-block Transformer language model (apptk layers), 8,000 words",
            TATOEBA,
            folder="next_word/1",
        ),
        Preset(
            "fill_mask",
            "fill-mask",
            "BERT-style masked LM, 4 encoder blocks, width 192; fine-tuned by text-classifier",
            TATOEBA,
            folder="fill_mask/1",
        ),
        Preset(
            "mobilenet_v2",
            "image",
            "ImageNet MobileNetV2, 1,000 classes, converted from TensorFlow's quantized TFLite "
            "model; shipped, and the backbone `fit image` starts from",
            "Apache-2.0 (TensorFlow's MobileNetV2; ORIGIN.txt and LICENSE beside it)",
            folder="imagenet_mobilenet_v2/1",
            backbone="mobilenet_v2",
        ),
        Preset(
            "mobilenet_v3_large",
            "image",
            "ImageNet MobileNetV3Large, 1,000 classes (75.6% top-1)",
            KERAS_WEIGHTS,
            backbone="mobilenet_v3_large",
        ),
        Preset(
            "mobilenet_v3_small",
            "image",
            "ImageNet MobileNetV3Small, 1,000 classes (68.1% top-1)",
            KERAS_WEIGHTS,
            backbone="mobilenet_v3_small",
        ),
        Preset(
            "efficientnet_v2_b0",
            "image",
            "ImageNet EfficientNetV2-B0, 1,000 classes (78.7% top-1)",
            KERAS_WEIGHTS,
            backbone="efficientnet_v2_b0",
        ),
    )
}
DEFAULT_PRESETS = {
    "translation": "en_es",
    "next-word": "next_word",
    "fill-mask": "fill_mask",
    "image": "mobilenet_v2",
}


def default_preset(kind: str) -> Preset:
    """The model a pipeline loads when none is named."""
    if kind not in DEFAULT_PRESETS:
        raise ModelFileError(f"There is no default {kind} model; name a fitted model folder.")
    return PRESETS[DEFAULT_PRESETS[kind]]


def resolve_model(model: str | None, kind: str) -> Preset | str:
    """What `--model` / `load(model)` names: the default preset for None, an existing path as
    itself, else a preset of that name (an existing path wins over a preset name)."""
    if model is None:
        return default_preset(kind)
    if os.path.exists(model) or model not in PRESETS:
        return model
    preset = PRESETS[model]
    if preset.kind != kind:
        raise ModelFileError(
            f"{model} is a {preset.kind} model, not a {kind} model; `apptk models` lists them."
        )
    return preset
