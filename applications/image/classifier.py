"""Image classification: photos in, labels and probabilities out.

Example:

>>> from apptk.applications.image import ImageClassifier
>>> classifier = ImageClassifier.load()  # the shipped ImageNet MobileNetV2; or a fitted folder
>>> classifier(["photo.jpg"], top_k=2)
[[{'label': 'tabby cat', 'probability': 0.62}, {'label': 'tiger cat', 'probability': 0.21}]]
>>> classifier.explain("photo.jpg", plot_path="grad_cam.png")["label"]
'tabby cat'
"""

import concurrent.futures
import os
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from apptk.applications.arguments import BATCH_SIZE, TOP_K, checked_int
from apptk.applications.errors import DataError
from apptk.applications.image.data import (
    DecodeImages,
    decode_image,
    describe_decode_error,
    read_photo,
)
from apptk.applications.image.grad_cam import grad_cam
from apptk.applications.image.spec import (
    KIND,
    ImageConfig,
    build_image_classifier,
    read_labels,
)
from apptk.applications.models.image_backbones import DEFAULT_BACKBONE, get_backbone
from apptk.applications.run import model_folder
from apptk.applications.run.loading import load_module

DEFAULT_TOP_K = 5
IMAGE_BYTES = tf.TensorSpec([None], tf.string, name="image_bytes")
PIXELS = tf.TensorSpec([None, None, None, 3], tf.float32, name="pixels")
ONE_IMAGE_PIXELS = tf.TensorSpec([None, None, 3], tf.float32, name="pixels")
SCALAR_INT = tf.TensorSpec([], tf.int32)

_decode = tf.function(decode_image, reduce_retracing=True)


class ImageModule(tf.Module):
    """The classification graph: decode, resize, classify, pick the top labels; Grad-CAM.

    Args:
        explainer: a model of pixels → `(feature_map, logits)` (see `image_models`).
        labels: the class names, by index.
        image_size: the side of the square pixels the explainer takes.
    """

    def __init__(self, explainer, labels: list[str], image_size: int):
        super().__init__(name="image_classifier")
        self.explainer = explainer
        self.decode = DecodeImages(image_size, name="decode")
        self.labels = tf.Variable(labels, trainable=False, name="labels")
        self.image_size = tf.Variable(image_size, trainable=False, name="image_size")

    @tf.function(input_signature=[PIXELS, SCALAR_INT])
    def predict_pixels(self, pixels, top_k):
        """Top-k `labels`, `probabilities` and class `indices`, each `[batch, k]`."""
        _, logits = self.explainer(pixels, training=False)
        probabilities = tf.nn.softmax(tf.cast(logits, tf.float32))
        top = tf.math.top_k(probabilities, k=tf.minimum(top_k, tf.shape(probabilities)[-1]))
        return {
            "labels": tf.gather(self.labels, top.indices),
            "probabilities": top.values,
            "indices": top.indices,
        }

    @tf.function(input_signature=[IMAGE_BYTES, SCALAR_INT])
    def predict(self, image_bytes, top_k):
        """`predict_pixels` of encoded JPEG, PNG, GIF or BMP files."""
        return self.predict_pixels(self.decode(image_bytes), top_k)

    @tf.function(input_signature=[IMAGE_BYTES])
    def serve(self, image_bytes):
        result = self.predict(image_bytes, tf.constant(DEFAULT_TOP_K))
        return {"labels": result["labels"], "probabilities": result["probabilities"]}

    @tf.function(input_signature=[ONE_IMAGE_PIXELS, SCALAR_INT])
    def explain(self, pixels, class_index):
        """The Grad-CAM `heat_map` of one image for one class, over the feature grid."""
        return {"heat_map": grad_cam(self.explainer, pixels, class_index)}

    @tf.function(input_signature=[])
    def model_weights(self):
        """The explainer's weights in `explainer.weights` order, to rebuild it in Keras (the
        shipped ImageNet classifier is also the backbone `fit image` starts from)."""
        return [tf.identity(weight.value) for weight in self.explainer.weights]


def module_from_folder(folder: str) -> ImageModule:
    """Rebuilds the classification graph from a fitted model folder."""
    config = model_folder.read_config(folder, ImageConfig)
    labels = read_labels(folder)
    classifier, explainer = build_image_classifier(config, len(labels), imagenet_weights=False)
    model_folder.load_fitted_weights(classifier, folder)
    return ImageModule(explainer, labels, config.image_size)


def imagenet_module(backbone_name: str = DEFAULT_BACKBONE) -> ImageModule:
    """The ImageNet classifier of a backbone, its weights from the Keras cache."""
    from apptk.applications.image.imagenet_labels import imagenet_labels
    from apptk.applications.models.image_classifiers import imagenet_classifier

    backbone = get_backbone(backbone_name)
    return ImageModule(imagenet_classifier(backbone), imagenet_labels(), backbone.image_size)


class ImageClassifier:
    """Classification and Grad-CAM over a fitted folder, a SavedModel or ImageNet (default)."""

    def __init__(self, module):
        self.module = module
        self.image_size = int(module.image_size.numpy())
        self.labels = [label.decode("utf-8") for label in module.labels.numpy()]

    @classmethod
    def load(cls, model: str | None = None) -> "ImageClassifier":
        """The default ImageNet classifier when `model` is None, else a preset name (`apptk
        models`: the ImageNet backbones), a fitted model folder or an exported SavedModel."""
        module = load_module(
            model,
            KIND,
            module_from_folder,
            required_function="predict_pixels",
            from_preset=lambda preset: imagenet_module(preset.backbone),
        )
        return cls(module)

    def read(self, image: str | bytes) -> tf.Tensor:
        """The pixels the model takes, from an image file's path or bytes.

        Raises:
            DataError: naming the file, when it is missing or does not decode as an image.
        """
        name = image if isinstance(image, str) else "image"
        if isinstance(image, str):
            try:
                with open(image, "rb") as handle:
                    image = handle.read()
            except FileNotFoundError:
                raise DataError(f"{name}: file not found.") from None
            except OSError as error:
                raise DataError(f"{name}: cannot read it ({error.strerror}).") from None
        try:
            return _decode(tf.constant(image), self.image_size)
        except tf.errors.InvalidArgumentError as error:
            raise DataError(f"{name}: {describe_decode_error(error)}.") from None

    def _read_or_error(self, image):
        try:
            return self.read(image)
        except DataError as error:
            return error

    def _classify(self, images, top_k, batch_size, on_batch) -> list:
        """Each image's predictions, or the `DataError` saying why it could not be read."""
        top_k = checked_int(top_k, "top_k", TOP_K)
        batch_size = checked_int(batch_size, "batch_size", BATCH_SIZE)
        results = []
        with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            for start in range(0, len(images), batch_size):
                batch = list(pool.map(self._read_or_error, images[start : start + batch_size]))
                readable = [pixels for pixels in batch if not isinstance(pixels, DataError)]
                predictions = iter(self._predict(readable, top_k) if readable else [])
                results += [
                    item if isinstance(item, DataError) else next(predictions) for item in batch
                ]
                if on_batch:
                    on_batch(len(batch))
        return results

    def _predict(self, pixels: list[tf.Tensor], top_k: int) -> list[list[dict]]:
        result = self.module.predict_pixels(tf.stack(pixels), tf.constant(top_k))
        return [
            [
                {"label": label.decode("utf-8"), "probability": round(float(probability), 4)}
                for label, probability in zip(labels, probabilities)
            ]
            for labels, probabilities in zip(
                result["labels"].numpy(), result["probabilities"].numpy()
            )
        ]

    def __call__(
        self,
        images: list[str | bytes],
        top_k: int = DEFAULT_TOP_K,
        batch_size: int = 32,
        on_batch: Callable[[int], None] | None = None,
    ) -> list[list[dict]]:
        """For each image (path or bytes), the `top_k` likeliest `{"label", "probability"}`.

        Raises:
            DataError: an image is missing or does not decode (see `classify_files` to get
                the other images' answers anyway).
        """
        if isinstance(images, str | bytes):
            images = [images]
        results = self._classify(list(images), top_k, batch_size, on_batch)
        for result in results:
            if isinstance(result, DataError):
                raise result
        return results

    def classify_files(
        self,
        paths: list[str],
        top_k: int = DEFAULT_TOP_K,
        batch_size: int = 32,
        on_batch: Callable[[int], None] | None = None,
    ) -> list[dict]:
        """Classifies files in batches; one unreadable file does not stop the others.

        Returns:
            For each path, `{"file", "predictions"}`, or `{"file", "error"}` with a sentence
            saying what is wrong with the file.
        """
        results = self._classify(list(paths), top_k, batch_size, on_batch)
        return [
            {"file": path, "error": str(result)}
            if isinstance(result, DataError)
            else {"file": path, "predictions": result}
            for path, result in zip(paths, results)
        ]

    def explain(
        self, image: str | bytes, class_index: int | None = None, plot_path: str | None = None
    ) -> dict:
        """Grad-CAM for one image: where the evidence for a class (default: the top one) lies.

        Returns:
            `{"label", "probability", "heat_map"}`, the heat map a `(height, width)` array
            over the model's feature grid with maximum 1. With `plot_path` (and `image` a
            path), the photo with the heat map over it is drawn into that PNG.
        """
        if plot_path and not isinstance(image, str):
            raise DataError("Drawing Grad-CAM needs the image's file path.")
        pixels = self.read(image)
        result = self.module.predict_pixels(pixels[None], tf.constant(len(self.labels)))
        indices = result["indices"].numpy()[0].tolist()
        if class_index is None:
            class_index = indices[0]
        if not 0 <= class_index < len(self.labels):
            raise DataError(f"class_index must be between 0 and {len(self.labels) - 1}.")
        heat_map = self.module.explain(pixels, tf.constant(class_index))["heat_map"].numpy()
        explanation = {
            "label": self.labels[class_index],
            "probability": round(float(result["probabilities"][0, indices.index(class_index)]), 4),
            "heat_map": np.asarray(heat_map),
        }
        if plot_path:
            from apptk.applications.run.plots import plot_grad_cam

            title = f"{explanation['label']} ({explanation['probability']:.2f})"
            plot_grad_cam(read_photo(image).numpy(), heat_map, title, plot_path)
        return explanation
