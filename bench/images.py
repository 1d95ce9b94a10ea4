"""Image classification figures on real photos: transfer learning and a CNN from scratch on
cats-vs-dogs and flowers, the shipped classifier's speed and cold start, backbone latency.

    python bench/images.py [--rows ROWS] [--resume] [--epochs N] [--fine-tune-epochs N]
                           [--cnn-epochs N] [--runs N]
    python bench/images.py --backbones              # CPU latency of the candidate backbones

Rows (default: all): `cats_vs_dogs:transfer`, `cats_vs_dogs:cnn`, `flowers:transfer`,
`flowers:cnn`, `inference`, `cold_start`. Data from ../shared/data:
- cats_vs_dogs: `train/` (2,000 photos) fits, `validation/` (2,000) is scored;
- flowers: `flower_photos/` (3,667, five classes) split 80/20 by `fit image`'s own stable
  hash of file names; the held-out 20% is scored.
Each fit row runs `fit_image` into `runs/bench_images/DATASET_ARCH` (checkpoints there, so
`--resume` continues an interrupted row), then `evaluate_image_classifier` on the held-out
photos: accuracy and a confusion-matrix PNG beside the model. Wall time is the training's.
`inference`: the shipped classifier's images per second at batch 1 and 32, decoding included
(median of --runs). `cold_start`: `apptk classify photo.jpg` against
`python -c "import tensorflow"`, medians of --runs runs each, in this process's machine state.

Reference points (TensorFlow tutorials): frozen MobileNetV2 about 0.96 on cats-vs-dogs, 0.98
after fine-tuning; a small CNN from scratch 0.7-0.75. Flowers: about 0.9 transfer, 0.7-0.8 from
scratch. Missing data is reported, never replaced by made-up figures. Asserts nothing.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import keras
import tensorflow as tf

from apptk.applications.image import (
    ImageClassifier,
    ImageConfig,
    evaluate_image_classifier,
    fit_image,
)
from apptk.applications.image.data import scan_image_folder, split_validation
from apptk.applications.models.image_backbones import BACKBONES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data")
RUNS = os.path.join(ROOT, "runs", "bench_images")
PHOTO = os.path.join(DATA, "imagenet_mobilenet_tflite", "photos", "cat.bmp")
ROWS = (
    "cats_vs_dogs:transfer",
    "cats_vs_dogs:cnn",
    "flowers:transfer",
    "flowers:cnn",
    "inference",
    "cold_start",
)
CANDIDATES = {
    name: (BACKBONES[name].constructor, BACKBONES[name].imagenet_top1)
    for name in ("mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_v2_b0")
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


def _linked_split(data, folder: str) -> str:
    """`data`'s images as a labelled folder of symbolic links (made once)."""
    for path, label in zip(data.paths, data.labels):
        target = os.path.join(folder, data.class_names[label], os.path.basename(path))
        if not os.path.exists(target):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.symlink(os.path.abspath(path), target)
    return folder


def dataset_folders(name: str) -> tuple[str, str] | None:
    """`(train folder, held-out folder)` of a data set, None when it is not in ../shared/data."""
    if name == "cats_vs_dogs":
        folder = os.path.join(DATA, "cats_vs_dogs")
        if not os.path.isdir(os.path.join(folder, "validation")):
            return None
        return os.path.join(folder, "train"), os.path.join(folder, "validation")
    folder = os.path.join(DATA, "flower_photos")
    if not os.path.isdir(folder):
        return None
    train, held_out = split_validation(scan_image_folder(folder), 0.2)  # fit image's own split
    links = os.path.join(tempfile.gettempdir(), "apptk_bench_flowers")
    return _linked_split(train, f"{links}/train"), _linked_split(held_out, f"{links}/validation")


def row_config(arch: str, arguments) -> ImageConfig:
    if arch == "transfer":
        return ImageConfig(
            epochs=arguments.epochs, fine_tune_epochs=arguments.fine_tune_epochs, patience=3
        )
    return ImageConfig(arch="cnn", epochs=arguments.cnn_epochs)  # the whole cosine schedule


def fit_row(row: str, arguments) -> None:
    dataset, arch = row.split(":")
    folders = dataset_folders(dataset)
    if folders is None:
        print(f"{row:<22} not run: no {dataset} photos in {DATA}")
        return
    out = os.path.join(RUNS, f"{dataset}_{arch}")
    resume = arguments.resume and os.path.exists(os.path.join(out, "config.json"))
    summary = fit_image(
        folders[0],
        out,
        row_config(arch, arguments),
        validation_folder=folders[1],
        force=not resume,
        resume=resume,
    )
    plot = os.path.join(out, "confusion_matrix.png")
    metrics = evaluate_image_classifier(ImageClassifier.load(out), folders[1], plot_path=plot)
    epochs = f"{summary['epochs']}" + (
        f" + {summary['fine_tune_epochs']} fine-tuning" if "fine_tune_epochs" in summary else ""
    )
    print(
        f"{row:<22} held-out accuracy {metrics['accuracy']:.4f} on {metrics['images']} photos  "
        f"train wall {summary['seconds'] / 60:.1f} min  epochs {epochs}  "
        f"parameters {summary['parameters']:,}  ({plot})"
    )


def inference_row(runs: int) -> None:
    folders = dataset_folders("cats_vs_dogs")
    if folders is None:
        print("inference              not run: no cats_vs_dogs photos")
        return
    classifier = ImageClassifier.load()
    paths = scan_image_folder(folders[1]).paths
    for batch_size in (1, 32):
        batch = paths[:batch_size]
        seconds = median_seconds(lambda batch=batch: classifier(batch, top_k=5), runs)
        print(f"inference  batch {batch_size:>2}: {batch_size / seconds:7.1f} images/s")


def _median_wall(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def cold_start_row(runs: int) -> None:
    apptk = os.path.join(os.path.dirname(sys.executable), "apptk")
    classify = _median_wall([apptk, "classify", PHOTO], runs)
    import_tensorflow = _median_wall([sys.executable, "-c", "import tensorflow"], runs)
    print(
        f"cold start: apptk classify {classify:.2f} s, python -c 'import tensorflow' "
        f"{import_tensorflow:.2f} s, ratio {classify / import_tensorflow:.2f} (medians of {runs})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbones", action="store_true", help="Time the backbones only.")
    parser.add_argument("--runs", type=int, default=5, help="Timed runs per speed figure.")
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--resume", action="store_true", help="Continue interrupted fit rows.")
    parser.add_argument("--epochs", type=int, default=10, help="Transfer: head epochs.")
    parser.add_argument("--fine-tune-epochs", type=int, default=10)
    parser.add_argument("--cnn-epochs", type=int, default=24, help="CNN: cosine schedule length.")
    arguments = parser.parse_args()
    if arguments.backbones:
        time_backbones(arguments.runs)
        return
    for row in arguments.rows.split(","):
        if row not in ROWS:
            parser.error(f"unknown row {row!r}; rows: {', '.join(ROWS)}")
        if ":" in row:
            fit_row(row, arguments)
        elif row == "inference":
            inference_row(arguments.runs)
        else:
            cold_start_row(arguments.runs)


if __name__ == "__main__":
    main()
