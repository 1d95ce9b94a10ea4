"""Image classification figures: backbone speed, cats-vs-dogs accuracy, inference speed.

    python bench/images.py --backbones              # CPU latency of the candidate backbones
    python bench/images.py [--epochs N] [--fine-tune-epochs N] [--cnn-epochs N] [--rows ...]

`--backbones` times each `keras.applications` candidate at 224×224 with random weights
(weights do not change speed) at batch 1 and 32, the median of several runs, beside its
published ImageNet top-1 accuracy: the figures behind apptk's default backbone.

Otherwise the benchmark reads the TensorFlow tutorial's cats-vs-dogs split (2000 training,
1000 validation photos: `cats_and_dogs_filtered/{train,validation}/{cats,dogs}`, or the zip it
comes in) from ../shared/data, and prints for each row the validation accuracy and wall time
of `apptk fit image` (rows `transfer`, `cnn`), and (row `inference`) the default ImageNet
classifier's images per second at batch 1 and 32 on the validation JPEGs, decoding included.
Transfer learning and the default classifier need the ImageNet weights in the Keras cache.
Missing data or weights are reported, never replaced by made-up figures. Asserts nothing.

Reference points (TensorFlow tutorials): MobileNetV2 transfer learning after fine-tuning
about 0.97-0.98 validation accuracy; a small CNN from scratch roughly 0.7-0.8.
"""

import argparse
import os
import statistics
import tempfile
import time
import zipfile

import keras
import tensorflow as tf

from apptk.applications.errors import ModelFileError
from apptk.applications.image import ImageClassifier, ImageConfig, fit_image
from apptk.applications.image.data import scan_image_folder
from apptk.applications.models.image_backbones import BACKBONES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data")
SPLIT = "cats_and_dogs_filtered"
# MobileNetV2 is timed for comparison only: Keras publishes no hash for its weights files.
CANDIDATES = {
    "mobilenet_v3_small": ("MobileNetV3Small", BACKBONES["mobilenet_v3_small"].imagenet_top1),
    "mobilenet_v3_large": ("MobileNetV3Large", BACKBONES["mobilenet_v3_large"].imagenet_top1),
    "efficientnet_v2_b0": ("EfficientNetV2B0", BACKBONES["efficientnet_v2_b0"].imagenet_top1),
    "mobilenet_v2": ("MobileNetV2", 0.713),
}


def median_seconds(function, runs: int) -> float:
    function()  # trace and warm up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def time_backbones(runs: int) -> None:
    print("backbone            params  ImageNet top-1  ms/image b1  ms/image b32")
    for name, (constructor, top1) in CANDIDATES.items():
        model = getattr(keras.applications, constructor)(weights=None)
        predict = tf.function(lambda images, model=model: model(images, training=False))
        latencies = []
        for batch in (1, 32):
            images = tf.random.uniform((batch, 224, 224, 3), 0, 255)
            seconds = median_seconds(lambda p=predict, x=images: p(x).numpy(), runs)
            latencies.append(1000 * seconds / batch)
        print(
            f"{name:<18} {model.count_params() / 1e6:5.1f} M  {top1:14.3f}  "
            f"{latencies[0]:11.1f}  {latencies[1]:12.1f}"
        )


def cats_and_dogs() -> str | None:
    """The folder holding `train/` and `validation/`, extracting the zip if needed."""
    folder = os.path.join(DATA, SPLIT)
    if os.path.isdir(os.path.join(folder, "train")):
        return folder
    archive = os.path.join(DATA, f"{SPLIT}.zip")
    if not os.path.exists(archive):
        return None
    extracted = os.path.join(tempfile.gettempdir(), "apptk_bench_images")
    if not os.path.isdir(os.path.join(extracted, SPLIT, "train")):
        with zipfile.ZipFile(archive) as handle:
            handle.extractall(extracted)
    return os.path.join(extracted, SPLIT)


def fit_row(name: str, folder: str, config: ImageConfig) -> None:
    out = tempfile.mkdtemp(prefix=f"apptk_bench_{name}_")
    try:
        summary = fit_image(
            os.path.join(folder, "train"),
            out,
            config,
            validation_folder=os.path.join(folder, "validation"),
            force=True,
        )
    except ModelFileError as error:
        print(f"{name:<10} not run: {error}")
        return
    print(
        f"{name:<10} val accuracy {summary['best_val_accuracy']:.4f}  "
        f"wall {summary['seconds'] / 60:.1f} min  epochs {summary['epochs']}"
        f"{' + ' + str(summary['fine_tune_epochs']) if 'fine_tune_epochs' in summary else ''}  "
        f"parameters {summary['parameters']:,}  (model in {out})"
    )


def inference_row(folder: str, runs: int) -> None:
    try:
        classifier = ImageClassifier.load()
    except ModelFileError as error:
        print(f"inference  not run: {error}")
        return
    paths = scan_image_folder(os.path.join(folder, "validation")).paths
    for batch_size in (1, 32):
        batch = paths[:batch_size]
        seconds = median_seconds(lambda batch=batch: classifier(batch, top_k=5), runs)
        print(f"inference  batch {batch_size:>2}: {batch_size / seconds:7.1f} images/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbones", action="store_true", help="Time the backbones only.")
    parser.add_argument("--runs", type=int, default=10, help="Timed runs per figure.")
    parser.add_argument("--rows", default="transfer,cnn,inference")
    parser.add_argument("--epochs", type=int, default=10, help="Transfer: head epochs.")
    parser.add_argument("--fine-tune-epochs", type=int, default=10)
    parser.add_argument("--cnn-epochs", type=int, default=50)
    arguments = parser.parse_args()
    if arguments.backbones:
        time_backbones(arguments.runs)
        return
    folder = cats_and_dogs()
    if folder is None:
        print(
            f"No cats-vs-dogs data in {DATA} ({SPLIT}/ or {SPLIT}.zip): the accuracy, wall "
            "time and inference figures wait for it."
        )
        return
    rows = arguments.rows.split(",")
    if "transfer" in rows:
        config = ImageConfig(
            epochs=arguments.epochs, fine_tune_epochs=arguments.fine_tune_epochs, patience=3
        )
        fit_row("transfer", folder, config)
    if "cnn" in rows:
        config = ImageConfig(arch="cnn", image_size=160, epochs=arguments.cnn_epochs, patience=8)
        fit_row("cnn", folder, config)
    if "inference" in rows:
        inference_row(folder, arguments.runs)


if __name__ == "__main__":
    main()
