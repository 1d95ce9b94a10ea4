"""Keep TensorFlow's start-up chatter out of the user's terminal."""

import logging
import os
import sys
import warnings


def silence_tensorflow_logging() -> None:
    """Silences TensorFlow's Python logs and library warnings for this process."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", module="keras")
    warnings.filterwarnings("ignore", module="tensorflow")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    for name in ("tensorflow", "absl", "h5py"):
        logging.getLogger(name).setLevel(logging.ERROR)


def silence_native_stderr() -> None:
    """Sends file descriptor 2 (TensorFlow's C++ logs) to /dev/null.

    TensorFlow's C++ start-up messages (oneDNN, CUDA probing) are written through absl
    before `TF_CPP_MIN_LOG_LEVEL` is read, so only the descriptor can hide them. Python's
    `sys.stderr`, where apptk's own warnings and errors go, keeps the original terminal.
    """
    try:
        sys.stderr.flush()
        terminal = os.dup(2)
    except (OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stderr = os.fdopen(terminal, "w", buffering=1, encoding="utf-8", errors="replace")
