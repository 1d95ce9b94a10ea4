"""Pictures people would rather look at than read: attention maps, confusion matrices, heat maps."""

import sys

import numpy as np

from apptk.applications.run.atomic_files import save_figure_atomically


def pyplot():
    """Matplotlib's pyplot on the file-only Agg backend, imported when first needed.

    The `apptk` command keeps Matplotlib out of its start-up (`cli.fast_start`) by marking
    it absent in `sys.modules`; the mark is lifted here, where a picture is really drawn.
    """
    for name in ("matplotlib", "matplotlib.pyplot"):
        if name in sys.modules and sys.modules[name] is None:
            del sys.modules[name]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_attention_map(
    source_tokens: list[str],
    target_tokens: list[str],
    weights: np.ndarray,
    path: str,
    title: str = "Cross-attention (mean over heads)",
) -> str:
    """Draws `weights` (target × source) as a heat map with the tokens on the axes."""
    plt = pyplot()
    height = max(3.0, 0.35 * len(target_tokens) + 1.5)
    width = max(4.0, 0.45 * len(source_tokens) + 2.0)
    figure, axis = plt.subplots(figsize=(width, height))
    image = axis.imshow(weights, cmap="viridis", aspect="auto", vmin=0.0)
    axis.set_xticks(range(len(source_tokens)), source_tokens, rotation=60, ha="right")
    axis.set_yticks(range(len(target_tokens)), target_tokens)
    axis.set_xlabel("source tokens")
    axis.set_ylabel("generated tokens")
    axis.set_title(title)
    figure.colorbar(image, ax=axis, fraction=0.046)
    figure.tight_layout()
    return save_figure_atomically(figure, path, dpi=110)


def plot_confusion_matrix(labels: list[str], counts: np.ndarray, path: str) -> str:
    """Draws a confusion matrix (rows: true class, columns: predicted) with its counts."""
    plt = pyplot()
    side = max(4.0, 0.5 * len(labels) + 2.5)
    figure, axis = plt.subplots(figsize=(side + 1.0, side))
    image = axis.imshow(counts, cmap="Blues", vmin=0)
    axis.set_xticks(range(len(labels)), labels, rotation=60, ha="right")
    axis.set_yticks(range(len(labels)), labels)
    axis.set_xlabel("predicted class")
    axis.set_ylabel("true class")
    axis.set_title("Confusion matrix")
    if len(labels) <= 30:
        threshold = counts.max() / 2 if counts.size else 0
        for row, column in np.ndindex(counts.shape):
            color = "white" if counts[row, column] > threshold else "black"
            axis.text(column, row, str(counts[row, column]), ha="center", va="center", color=color)
    figure.colorbar(image, ax=axis, fraction=0.046)
    figure.tight_layout()
    return save_figure_atomically(figure, path, dpi=110)


def plot_grad_cam(photo: np.ndarray, heat_map: np.ndarray, title: str, path: str) -> str:
    """Draws a Grad-CAM heat map (any grid, stretched over the photo) on top of the photo."""
    plt = pyplot()
    height, width = photo.shape[:2]
    inches_per_pixel = 6.0 / max(height, width)
    figure, axis = plt.subplots(figsize=(width * inches_per_pixel, height * inches_per_pixel + 0.4))
    axis.imshow(photo)
    axis.imshow(
        heat_map,
        cmap="jet",
        alpha=0.45,
        vmin=0.0,
        vmax=1.0,
        extent=(-0.5, width - 0.5, height - 0.5, -0.5),
        interpolation="bilinear",
    )
    axis.set_title(title)
    axis.axis("off")
    figure.tight_layout()
    return save_figure_atomically(figure, path, dpi=110)
