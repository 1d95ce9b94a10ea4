"""Image classifiers: an ImageNet backbone with a new head, or a small CNN from scratch.

Both take float pixels `(size, size, 3)` in [0, 255] and return class logits. Augmentation
(random flips, rotations and zooms, active only in training; larger zooms for the CNN, which
learns from the photos alone) and rescaling are layers inside them; `image_data.DecodeImages`
in front of them (as in the exported SavedModel) makes a model of raw image bytes.

Each builder returns the classifier and its *explainer*: the same layers with a second output,
the last convolutional feature map, which Grad-CAM weighs by its gradients.
"""

import keras

from apptk.applications.models.image_backbones import Backbone
from apptk.layers import ConvBlock, ResidualSeparableBlock

FEATURES = "features"
CNN_BLOCKS = ("residual", "vgg")


def augmentation(seed: int = 0, zoom: float = 0.1) -> keras.Sequential:
    """Random flips, small rotations and zooms of up to `zoom`: new views each epoch."""
    return keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal", seed=seed),
            keras.layers.RandomRotation(0.1, seed=seed),
            keras.layers.RandomZoom(zoom, seed=seed),
        ],
        name="augmentation",
    )


def _classifier_and_explainer(
    features: keras.Model,
    head: keras.Sequential,
    image_size: int,
    augmenter: keras.Sequential | None,
    features_training: bool | None = None,
) -> tuple[keras.Model, keras.Model]:
    """Joins the feature extractor and the head, with `augmenter` (if any) in front for training.

    The explainer calls the same layers without the augmentation, which inference skips
    anyway, so an export holds no random-number state.
    """
    inputs = keras.Input((image_size, image_size, 3), name="pixels")
    pixels = augmenter(inputs) if augmenter is not None else inputs
    logits = head(features(pixels, training=features_training))
    classifier = keras.Model(inputs, logits, name="image_classifier")
    inputs = keras.Input((image_size, image_size, 3), name="pixels")
    feature_map = features(inputs, training=features_training)
    explainer = keras.Model(inputs, [feature_map, head(feature_map)], name="explainer")
    return classifier, explainer


def build_transfer_classifier(
    backbone: Backbone,
    num_classes: int,
    image_size: int,
    dropout: float = 0.2,
    augment: bool = True,
    imagenet_weights: bool = True,
    seed: int = 0,
) -> tuple[keras.Model, keras.Model]:
    """A frozen ImageNet backbone (layer `"features"`), global pooling and a new dense head.

    The backbone always runs in inference mode, so its batch-norm statistics stay those of
    ImageNet when its top layers are fine-tuned (see `unfreeze_top_layers`).
    """
    # Feature map: (batch, size / 32, size / 32, channels).
    features = backbone.build(include_top=False, image_size=image_size, name=FEATURES)
    if imagenet_weights:
        backbone.load_imagenet_weights(features, include_top=False)
    features.trainable = False
    head = keras.Sequential(
        [
            keras.layers.GlobalAveragePooling2D(name="pooling"),
            keras.layers.Dropout(dropout, name="dropout"),
            keras.layers.Dense(num_classes, name="logits"),
        ],
        name="head",
    )
    augmenter = augmentation(seed) if augment else None
    return _classifier_and_explainer(features, head, image_size, augmenter, features_training=False)


def build_cnn_classifier(
    num_classes: int,
    image_size: int,
    filters: tuple[int, ...] = (32, 64, 128, 256, 512),
    block: str = "residual",
    use_batch_norm: bool = True,
    dense_units: int = 0,
    dropout: float = 0.3,
    augment: bool = True,
    zoom: float = 0.2,
    seed: int = 0,
) -> tuple[keras.Model, keras.Model]:
    """A CNN trained from scratch: convolutional stages, global pooling, dense layers.

    `block="residual"`: a `ConvBlock` stem of `filters[0]`, then a `ResidualSeparableBlock`
    per further width, each halving the size (Chollet's small Xception for little data), and
    a final batch norm and ReLU; these always normalize. `block="vgg"`: a `ConvBlock` per
    width (VGG-style, apptk's first CNN), normalized if `use_batch_norm`. The head has a
    hidden dense layer of `dense_units` unless it is 0.
    """
    if block not in CNN_BLOCKS:
        raise ValueError(f"block must be one of {', '.join(CNN_BLOCKS)}, not {block!r}.")
    # Feature map: (batch, size / 2**stages, size / 2**stages, filters[-1]).
    if block == "vgg":
        stages = [ConvBlock(width, use_batch_norm=use_batch_norm) for width in filters]
    else:
        # 0.9: batch norm statistics that keep up with the weights over short epochs.
        stages = [
            ConvBlock(filters[0], use_batch_norm=True, batch_norm_momentum=0.9),
            *(ResidualSeparableBlock(width, batch_norm_momentum=0.9) for width in filters[1:]),
            keras.layers.BatchNormalization(momentum=0.9, name="batch_norm"),
            keras.layers.ReLU(name="activation"),
        ]
    features = keras.Sequential(
        [keras.layers.Rescaling(1.0 / 255, name="rescaling"), *stages], name=FEATURES
    )
    hidden = (
        [keras.layers.Dense(dense_units, activation="relu", name="hidden")] if dense_units else []
    )
    head = keras.Sequential(
        [
            keras.layers.GlobalAveragePooling2D(name="pooling"),
            *hidden,
            keras.layers.Dropout(dropout, name="dropout"),
            keras.layers.Dense(num_classes, name="logits"),
        ],
        name="head",
    )
    augmenter = augmentation(seed, zoom) if augment else None
    return _classifier_and_explainer(features, head, image_size, augmenter)


def imagenet_classifier(backbone: Backbone, imagenet_weights: bool = True) -> keras.Model:
    """The backbone with its 1000-class ImageNet top, as an explainer (feature map, logits)."""
    network = backbone.build(include_top=True)
    if imagenet_weights:
        backbone.load_imagenet_weights(network, include_top=True)
    # The top's pooling is the last one (squeeze-and-excitation blocks pool too); its input is
    # the last convolutional feature map, (batch, 7, 7, channels).
    pooling = [
        layer for layer in network.layers if isinstance(layer, keras.layers.GlobalAveragePooling2D)
    ][-1]
    return keras.Model(network.input, [pooling.input, network.output], name="explainer")


def unfreeze_top_layers(classifier: keras.Model, fraction: float) -> int:
    """Makes the top `fraction` of the backbone's layers trainable, batch norms excepted.

    Returns:
        How many layers were unfrozen.
    """
    features = classifier.get_layer(FEATURES)
    features.trainable = True
    first_trainable = round(len(features.layers) * (1.0 - fraction))
    unfrozen = 0
    for index, layer in enumerate(features.layers):
        trainable = index >= first_trainable and not isinstance(
            layer, keras.layers.BatchNormalization
        )
        layer.trainable = trainable
        unfrozen += trainable and bool(layer.weights)
    return unfrozen
