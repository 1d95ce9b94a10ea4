"""Photos in: decoding and resizing, labelled folders, validation splits, tf.data pipelines.

A labelled folder follows the `keras.utils.image_dataset_from_directory` convention: one
sub-folder per class, named after it, holding that class's JPEG, PNG, GIF or BMP files
(nested folders too). Class indices follow the sorted folder names.
"""

import dataclasses
import glob
import os
import warnings

import keras
import tensorflow as tf

from apptk.applications.errors import DataError
from apptk.applications.text.splits import stable_bucket

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp")
FORMATS = "JPEG, PNG, GIF or BMP"
# Decoded training images are kept in memory (uint8) up to this size, else decoded each epoch.
CACHE_LIMIT_BYTES = 2 * 1024**3


def decode_image(data: tf.Tensor, image_size: int) -> tf.Tensor:
    """Encoded image bytes → float32 pixels `(image_size, image_size, 3)` in [0, 255].

    Grayscale becomes RGB, an alpha channel is dropped, an animated GIF gives its first frame,
    and any size is resized (with antialiasing, so huge photos shrink cleanly) to the square.
    """
    image = tf.io.decode_image(data, channels=3, expand_animations=False)
    image.set_shape([None, None, 3])
    return tf.image.resize(image, [image_size, image_size], antialias=True)


@keras.saving.register_keras_serializable(package="apptk")
class DecodeImages(keras.layers.Layer):
    """Decodes a batch of encoded images and resizes them, inside the model.

    TensorFlow-only (it runs `tf.io.decode_image`), which lets a model or SavedModel take the
    bytes of JPEG, PNG, GIF or BMP files directly.

    Args:
        image_size: int. The side of the square pixel arrays produced.

    Call arguments:
        images: a string tensor of shape `(batch,)`, each entry the bytes of an image file.

    Example:

    ```python
    data = tf.io.encode_png(tf.zeros((40, 60, 3), "uint8"))
    DecodeImages(32)(tf.stack([data, data]))  # (2, 32, 32, 3), float32
    ```
    """

    def __init__(self, image_size: int, **kwargs):
        super().__init__(**kwargs)
        self.image_size = image_size

    def call(self, images):
        return tf.map_fn(
            lambda data: decode_image(data, self.image_size),
            images,
            fn_output_signature=tf.TensorSpec([self.image_size, self.image_size, 3], tf.float32),
        )

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.image_size, self.image_size, 3)

    def get_config(self):
        return {**super().get_config(), "image_size": self.image_size}


def describe_decode_error(error: Exception) -> str:
    """A short reason for an image that TensorFlow could not decode."""
    message = str(error)
    if "Input is empty" in message:
        return "the file is empty"
    if "Unknown image file format" in message:
        return f"not a {FORMATS} image"
    return "the image data is corrupt or truncated"


@dataclasses.dataclass
class ImageFolder:
    """The images of a labelled folder: paths, class indices, and the class names."""

    class_names: list[str]
    paths: list[str]
    labels: list[int]

    def subset(self, indices) -> "ImageFolder":
        indices = list(indices)
        return ImageFolder(
            self.class_names, [self.paths[i] for i in indices], [self.labels[i] for i in indices]
        )


def _is_hidden(name: str) -> bool:
    return name.startswith((".", "__"))


def _files_under(folder: str) -> list[str]:
    found = []
    for root, folders, files in os.walk(folder, followlinks=True):
        folders[:] = sorted(name for name in folders if not _is_hidden(name))
        found += [os.path.join(root, name) for name in sorted(files) if not _is_hidden(name)]
    return found


def is_image_file(path: str) -> bool:
    return path.lower().endswith(IMAGE_EXTENSIONS)


def scan_image_folder(folder: str, class_names: list[str] | None = None) -> ImageFolder:
    """Lists a labelled folder's images; files of other types are skipped with a warning.

    Args:
        folder: the folder with one sub-folder per class.
        class_names: the classes a model knows (validation and test folders); the folder's
            classes must be among them, and indices follow this list. None: the folder's own
            sorted classes, at least two, none empty (training folders).

    Raises:
        DataError: the folder is missing, has no class sub-folders, too few classes, an empty
            class, or a class the model does not know.
    """
    if not os.path.isdir(folder):
        raise DataError(f"Image folder not found: {folder}")
    entries = sorted(name for name in os.listdir(folder) if not _is_hidden(name))
    classes = [name for name in entries if os.path.isdir(os.path.join(folder, name))]
    if not classes:
        loose = [name for name in entries if is_image_file(name)]
        found = f"holds {len(loose)} images but" if loose else "has"
        raise DataError(
            f"{folder} {found} no class sub-folders; put each class's images in "
            f"{os.path.join(folder, 'CLASS_NAME')}/."
        )
    if class_names is None:
        if len(classes) < 2:
            raise DataError(
                f"{folder} has one class sub-folder ({classes[0]}); a classifier needs at "
                "least two classes."
            )
        class_names = classes
    unknown = [name for name in classes if name not in class_names]
    if unknown:
        raise DataError(
            f"{os.path.join(folder, unknown[0])} is not a class of the model "
            f"({', '.join(class_names[:10])}{', ...' if len(class_names) > 10 else ''})."
        )
    paths, labels, skipped = [], [], []
    for name in classes:
        files = _files_under(os.path.join(folder, name))
        images = [path for path in files if is_image_file(path)]
        skipped += [path for path in files if not is_image_file(path)]
        if not images:
            raise DataError(
                f"{os.path.join(folder, name)} holds no {FORMATS} images; add some or remove "
                "the folder."
            )
        paths += images
        labels += [class_names.index(name)] * len(images)
    if skipped:
        examples = ", ".join(os.path.relpath(path, folder) for path in skipped[:3])
        warnings.warn(
            f"Skipped {len(skipped)} files in {folder} that are not {FORMATS} images "
            f"({examples}{', ...' if len(skipped) > 3 else ''}).",
            stacklevel=2,
        )
    return ImageFolder(list(class_names), paths, labels)


def split_validation(data: ImageFolder, fraction: float) -> tuple[ImageFolder, ImageFolder]:
    """Holds out about `fraction` of each class by a stable hash of the file name.

    A file stays on its side whatever else the folder holds, so adding photos never moves old
    ones between training and validation.
    """
    percent = round(fraction * 100)
    held_out = [stable_bucket(os.path.basename(path)) < percent for path in data.paths]
    train = data.subset(i for i, held in enumerate(held_out) if not held)
    validation = data.subset(i for i, held in enumerate(held_out) if held)
    missing = sorted(set(range(len(data.class_names))) - set(train.labels))
    if missing or not validation.paths:
        raise DataError(
            "Too few images to hold out a validation split "
            f"({len(data.paths)} images); add images or pass a separate validation folder."
        )
    return train, validation


def drop_unreadable(data: ImageFolder) -> ImageFolder:
    """Leaves out, with a warning, image files that do not decode (corrupt, truncated, other)."""
    indices = tf.data.Dataset.from_tensor_slices((tf.range(len(data.paths)), data.paths))
    indices = indices.map(
        lambda index, path: (
            index,
            tf.shape(tf.io.decode_image(tf.io.read_file(path), expand_animations=False)),
        ),
        num_parallel_calls=tf.data.AUTOTUNE,
    ).ignore_errors()
    readable = sorted(int(index) for index, _ in indices)
    if len(readable) < len(data.paths):
        unreadable = sorted(set(range(len(data.paths))) - set(readable))
        examples = ", ".join(data.paths[i] for i in unreadable[:3])
        warnings.warn(
            f"Skipped {len(unreadable)} files that do not decode as images "
            f"({examples}{', ...' if len(unreadable) > 3 else ''}).",
            stacklevel=2,
        )
    return data.subset(readable)


def image_dataset(
    data: ImageFolder, image_size: int, batch_size: int, shuffle: bool, seed: int = 0
) -> tf.data.Dataset:
    """`(pixels, label)` batches: decoded and resized once (kept in memory when they fit)."""

    def load(path, label):
        pixels = decode_image(tf.io.read_file(path), image_size)
        return tf.cast(tf.round(tf.clip_by_value(pixels, 0, 255)), tf.uint8), label

    dataset = tf.data.Dataset.from_tensor_slices((data.paths, data.labels))
    dataset = dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    if len(data.paths) * image_size * image_size * 3 <= CACHE_LIMIT_BYTES:
        dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(len(data.paths), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.map(lambda pixels, label: (tf.cast(pixels, tf.float32), label))
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def expand_image_paths(arguments: list[str]) -> tuple[list[str], list[dict]]:
    """Files, folders (their images, recursively) and glob patterns → image paths.

    Returns:
        The paths in order, without repeats; and `{"file", "error"}` for each argument that
        names no image.
    """
    paths, problems, seen = [], [], set()
    for argument in arguments:
        if os.path.isdir(argument):
            found = [path for path in _files_under(argument) if is_image_file(path)]
            problem = f"the folder holds no {FORMATS} images"
        elif os.path.exists(argument):
            found = [argument]
        else:
            found = sorted(path for path in glob.glob(argument) if os.path.isfile(path))
            problem = "file not found"
        if not found:
            problems.append({"file": argument, "error": f"{argument}: {problem}."})
        paths += [path for path in found if path not in seen]
        seen.update(found)
    return paths, problems


def read_photo(path: str, max_side: int = 768) -> tf.Tensor:
    """A photo for display: uint8 RGB, its aspect ratio kept, at most `max_side` pixels wide."""
    with open(path, "rb") as handle:
        image = tf.io.decode_image(handle.read(), channels=3, expand_animations=False)
    height, width = int(image.shape[0]), int(image.shape[1])
    scale = min(1.0, max_side / max(height, width))
    if scale < 1.0:
        size = [max(1, round(height * scale)), max(1, round(width * scale))]
        image = tf.cast(tf.image.resize(image, size, antialias=True), tf.uint8)
    return image
