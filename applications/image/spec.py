"""What an image classifier is: its kind, configuration, files and Keras models.

Inference, training, evaluation and export all build on this module; it imports none of them.
"""

import dataclasses
import os
from typing import ClassVar

from apptk.applications.errors import ModelFileError
from apptk.applications.models.image_backbones import DEFAULT_BACKBONE

KIND = "image"
ARCHITECTURES = ("transfer", "cnn")
LABELS_FILE = "labels.txt"
FINE_TUNE_FOLDER = "fine_tune"
DEFAULT_IMAGE_SIZES = {"transfer": 224, "cnn": 160}


@dataclasses.dataclass
class ImageConfig:
    """Hyper-parameters of an image classifier; saved as `config.json` beside its weights.

    `image_size` follows `arch` unless given: 224 (the backbones' own size) for transfer
    learning, 160 for the CNN trained from scratch; so does the early-stopping `patience`:
    3 epochs, and for the CNN all its `epochs`, since its learning rate decays to 0 at the
    last one (the best epoch is kept either way).

    The CNN (`arch="cnn"`, see `build_cnn_classifier`) has stages of `filters` channels,
    `cnn_block` `"residual"` (a stem and residual separable-convolution blocks) or `"vgg"` (a
    `ConvBlock` each, `use_batch_norm` or not), and a hidden dense layer of `dense_units`
    unless 0. It trains with AdamW (`weight_decay`) and a learning rate that rises linearly
    to `learning_rate` over `warmup_epochs`, then follows a cosine down to 0 at `epochs`.
    """

    kind: str = KIND
    arch: str = "transfer"
    backbone: str = DEFAULT_BACKBONE
    image_size: int | None = None
    filters: tuple[int, ...] = (32, 64, 128, 256, 512)
    cnn_block: str = "residual"
    use_batch_norm: bool = True
    dense_units: int = 0
    dropout: float = 0.3
    augment: bool = True
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 0.05
    warmup_epochs: int = 2
    epochs: int = 10
    patience: int | None = None
    fine_tune_epochs: int = 10
    fine_tune_fraction: float = 0.3
    fine_tune_learning_rate: float = 1e-5
    validation_split: float = 0.2
    seed: int = 0

    # Folders fitted before the residual CNN have no `cnn_block`, `weight_decay` or
    # `warmup_epochs` in their config.json: they hold the VGG-style CNN trained by Adam.
    LEGACY_DEFAULTS: ClassVar[dict] = {"cnn_block": "vgg", "weight_decay": 0.0, "warmup_epochs": 0}

    def __post_init__(self):
        if self.image_size is None:
            self.image_size = DEFAULT_IMAGE_SIZES.get(self.arch, 224)
        if self.patience is None:
            self.patience = self.epochs if self.arch == "cnn" else 3

    def training_phases(self) -> dict[str, str]:
        """Each training phase's sub-folder and the field holding its epochs (`TrainingRun`):
        transfer learning adds fine-tuning to the head's training."""
        phases = {"": "epochs"}
        if self.arch == "transfer" and self.fine_tune_epochs > 0:
            phases[FINE_TUNE_FOLDER] = "fine_tune_epochs"
        return phases


def read_labels(folder: str) -> list[str]:
    """The class names of a fitted folder, by class index."""
    path = os.path.join(folder, LABELS_FILE)
    try:
        with open(path, encoding="utf-8") as handle:
            return [line.rstrip("\n") for line in handle if line.strip()]
    except OSError as error:
        raise ModelFileError(f"Cannot read the class names in {path}: {error}.") from error


def build_image_classifier(config: ImageConfig, num_classes: int, imagenet_weights: bool = True):
    """`(classifier, explainer)` of `config` (see `models.image_classifiers`)."""
    from apptk.applications.models.image_backbones import get_backbone
    from apptk.applications.models.image_classifiers import (
        build_cnn_classifier,
        build_transfer_classifier,
    )

    if config.arch == "cnn":
        return build_cnn_classifier(
            num_classes,
            config.image_size,
            filters=tuple(config.filters),
            block=config.cnn_block,
            use_batch_norm=config.use_batch_norm,
            dense_units=config.dense_units,
            dropout=config.dropout,
            augment=config.augment,
            seed=config.seed,
        )
    return build_transfer_classifier(
        get_backbone(config.backbone),
        num_classes,
        config.image_size,
        dropout=config.dropout,
        augment=config.augment,
        imagenet_weights=imagenet_weights,
        seed=config.seed,
    )
