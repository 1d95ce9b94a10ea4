"""Builds the shipped ImageNet classifier from TensorFlow's quantized MobileNetV2 (run from the
repository root).

    python tools/ship_default_image_classifier.py [--tflite PATH] [--force]

Converts `../shared/data/imagenet_mobilenet_tflite/mobilenet_v2_1.0_224_quant.tflite`
(Apache-2.0, TensorFlow hosted models via google-coral/test_data) with
`tools/convert_mobilenet_v2_tflite.py`, puts the weights into apptk's MobileNetV2 backbone
(pixels in [0, 255], rescaled inside the model) and exports it with `export_image` as
`savedmodels/imagenet_mobilenet_v2/1`: the default of `apptk classify`, and the backbone
`apptk fit image` starts from. The licence and origin are written beside it.
"""

import argparse
import os
import shutil

import convert_mobilenet_v2_tflite as conversion
import numpy as np

from apptk.applications.errors import exits_with_one_line
from apptk.applications.image.classifier import ImageClassifier, ImageModule
from apptk.applications.image.export import export_image
from apptk.applications.image.imagenet_labels import imagenet_labels
from apptk.applications.models.image_backbones import BACKBONES, SHIPPED_MOBILENET_V2
from apptk.applications.models.image_classifiers import imagenet_classifier
from apptk.applications.run.presets import SHIPPED_MODELS

OUT = os.path.join(SHIPPED_MODELS, SHIPPED_MOBILENET_V2)
ORIGIN = """ImageNet MobileNetV2 1.0/224, converted from TensorFlow's quantization-aware-trained TFLite
model mobilenet_v2_1.0_224_quant.tflite (TensorFlow hosted models, as kept in
google-coral/test_data; sha256 7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776)
by tools/convert_mobilenet_v2_tflite.py and tools/ship_default_image_classifier.py: uint8
weights dequantized, batch norm folded into the convolutions (the Keras batch norms are the
identity plus the folded bias), the background class dropped. Labels: the 1,000 ImageNet
classes in model order (applications/image/imagenet_labels.json).

Licence: Apache License 2.0 (the original model); see LICENSE beside this file.
"""


def explainer_with_converted_weights(tflite: str):
    """apptk's ImageNet MobileNetV2 explainer holding the converted weights, copied by layer
    name (apptk's network has a `Rescaling` layer in front, without weights)."""
    converted = conversion.convert(tflite)
    explainer = imagenet_classifier(BACKBONES["mobilenet_v2"], imagenet_weights=False)
    for layer in explainer.layers:
        if layer.weights:
            layer.set_weights(converted.get_layer(layer.name).get_weights())
    return converted, explainer


def check_same_answers(converted, classifier: ImageClassifier) -> None:
    """The export answers as the converted Keras model does on the shared test photos."""
    paths = conversion.shipped_photo_paths()
    photos = conversion.load_photos(paths)
    expected = np.argmax(conversion.keras_probabilities(converted, photos), axis=1)
    labels = classifier.labels
    for path, index in zip(paths, expected):
        answer = classifier([path], top_k=1)[0][0]
        print(f"{os.path.basename(path):>20}  {answer['label']:<24} {answer['probability']:.3f}")
        if answer["label"] != labels[index]:
            raise SystemExit(
                f"{path}: the export says {answer['label']!r}, Keras {labels[index]!r}"
            )


@exits_with_one_line
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tflite", default=conversion.DEFAULT_TFLITE)
    parser.add_argument("--force", action="store_true", help="replace the shipped model")
    args = parser.parse_args()
    converted, explainer = explainer_with_converted_weights(args.tflite)
    module = ImageModule(explainer, imagenet_labels(), BACKBONES["mobilenet_v2"].image_size)
    path = export_image(ImageClassifier(module), OUT, force=args.force)
    folder = os.path.dirname(path)
    with open(os.path.join(folder, "ORIGIN.txt"), "w", encoding="utf-8") as handle:
        handle.write(ORIGIN)
    shutil.copyfile(
        os.path.join(os.path.dirname(args.tflite), "LICENSE"), os.path.join(folder, "LICENSE")
    )
    check_same_answers(converted, ImageClassifier.load(path))
    print(f"Shipped {path}")


if __name__ == "__main__":
    main()
