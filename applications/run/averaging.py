"""Averaging the weights of a run's last epochs: the mean of a few nearby points of the
descent is often a better model than any one of them (Vaswani et al. 2017 average the last
checkpoints of their Transformers; Izmailov et al. 2018, "Averaging Weights Leads to Wider
Optima and Better Generalization"), and blending a fine-tuned model with the one it started
from (Wortsman et al. 2022, "Robust fine-tuning of zero-shot models": the weight-space mix
keeps much of what the initial model knew beyond the fine-tuning data)."""

import os
import warnings

import numpy as np

from apptk.applications.errors import DataError
from apptk.applications.run.checkpoints import recent_weight_files


def averaged_weights(model, paths: list[str]) -> list[np.ndarray]:
    """The element-wise mean of every floating-point variable of `model` over the weight
    files `paths`; other variables (counters) keep the last file's value."""
    total = None
    for path in paths:
        model.load_weights(path)
        values = [np.asarray(weight.numpy(), dtype=np.float64) for weight in model.weights]
        total = values if total is None else [a + b for a, b in zip(total, values)]
    return [
        (mean / len(paths)).astype(last.dtype) if np.issubdtype(last.dtype, np.floating) else last
        for mean, last in zip(total, (weight.numpy() for weight in model.weights))
    ]


def average_recent_weights(model, folder: str, validation, best_loss: float | None) -> dict:
    """Tries the average of the epochs kept in `folder` against the model's current weights
    (the best epoch's), keeping whichever has the lower validation loss.

    Returns:
        `{"averaged_epochs": n, "averaged_val_loss": loss, "kept": "average" | "best"}`, or
        `{}` when fewer than two epochs were kept.
    """
    paths = recent_weight_files(folder)
    if len(paths) < 2:
        return {}
    best = [weight.numpy() for weight in model.weights]
    for weight, value in zip(model.weights, averaged_weights(model, paths)):
        weight.assign(value)
    loss = float(model.evaluate(validation, verbose=0, return_dict=True)["loss"])
    kept = "average" if best_loss is None or loss < best_loss else "best"
    if kept == "best":
        for weight, value in zip(model.weights, best):
            weight.assign(value)
    return {"averaged_epochs": len(paths), "averaged_val_loss": loss, "kept": kept}


def blended_weights(model, path: str, share: float) -> list[np.ndarray]:
    """`(1 - share) × the model's weights + share × the weights in `path`` for every
    floating-point variable; other variables keep the model's value. The model keeps its
    weights."""
    current = [weight.numpy() for weight in model.weights]
    with warnings.catch_warnings():
        # Weights saved before the first step hold no optimizer state, which is not needed.
        warnings.filterwarnings("ignore", "Skipping variable loading for optimizer")
        model.load_weights(path)
    other = [weight.numpy() for weight in model.weights]
    for weight, value in zip(model.weights, current):
        weight.assign(value)
    return [
        ((1.0 - share) * mine.astype(np.float64) + share * theirs).astype(mine.dtype)
        if np.issubdtype(mine.dtype, np.floating)
        else mine
        for mine, theirs in zip(current, other)
    ]


def keep_initial_weights(model, initial_path: str, share: float, validation=None) -> dict:
    """Mixes `share` of the run's initial weights (`initial_path`, saved when fine-tuning
    started) back into the trained model.

    Returns:
        `{"kept_initial": share}`, with `"blended_val_loss"` when `validation` is given.
    """
    if not os.path.exists(initial_path):
        raise DataError(
            f"keep_initial needs the run's initial weights, and {initial_path} is missing; "
            "train the run again without --resume."
        )
    for weight, value in zip(model.weights, blended_weights(model, initial_path, share)):
        weight.assign(value)
    summary = {"kept_initial": share}
    if validation is not None:
        loss = model.evaluate(validation, verbose=0, return_dict=True)["loss"]
        summary["blended_val_loss"] = float(loss)
    return summary
