"""Start-up and exit speed for one-shot prediction commands."""

import os
import sys

_exit_without_teardown = False


def keep_pyplot_out_of_startup() -> None:
    """Stops `import keras` from importing Matplotlib's pyplot in this process.

    Keras imports pyplot when it is installed, for `keras.visualization`, which apptk never
    uses: 0.5 s of every command's start-up, and on the first run after installing, the
    building of Matplotlib's font cache (seconds to tens of seconds where many fonts are
    installed). Keras treats a missing pyplot as absent; `run.plots.pyplot()` imports the
    real one when apptk draws a picture.
    """
    for name in ("matplotlib", "matplotlib.pyplot"):
        sys.modules.setdefault(name, None)


def skip_graph_optimization() -> None:
    """Turns off TensorFlow's graph optimizer (Grappler) for this process.

    A prediction command calls each exported function a few times, so optimizing their graphs
    costs more than it saves. Measured on the shipped translator: the first beam-search call
    takes 0.46 s instead of 0.75 s, and 256 sentences run within 1% of the optimized speed.
    """
    import tensorflow as tf

    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})


def prediction_command() -> None:
    """Marks this run as a prediction: fast start, and no TensorFlow teardown at exit.

    Tearing down TensorFlow's runtime after a loaded SavedModel takes about 0.9 s, a fifth of
    a one-sentence `apptk translate`. Prediction commands write only to the terminal (and a
    closed PNG), so once their output is flushed the process can end at once.
    """
    global _exit_without_teardown
    _exit_without_teardown = True
    skip_graph_optimization()


def exit_now_if_prediction(code) -> None:
    """Ends the process immediately with `code` after a prediction command; else returns."""
    if not _exit_without_teardown:
        return
    status = code if isinstance(code, int) else (0 if code is None else 1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
