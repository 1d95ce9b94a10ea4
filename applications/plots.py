"""Pictures people would rather look at than read: attention maps, confusion matrices."""

import numpy as np


def _pyplot():
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
    plt = _pyplot()
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
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
