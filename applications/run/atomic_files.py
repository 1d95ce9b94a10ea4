"""Writing files so that nothing is ever half-written: a temporary name, then a rename.

Every file a run or an export produces goes through here. Content is prepared in memory
first (weights included: h5py, writing straight to a full disk, leaves a truncated file and
can crash the process), then written to a temporary file beside the target, flushed to disk
and renamed over it. A failed write removes the temporary file, leaves the old file as it was
and raises `OutputWriteError` naming the path.

Kept free of top-level Keras imports so loading an exported model stays quick.
"""

import io
import json
import os
import tempfile

from apptk.applications.errors import OutputWriteError


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()
FILE_MODE = 0o666 & ~_UMASK
FOLDER_MODE = 0o777 & ~_UMASK


def make_folder(path: str) -> None:
    """`os.makedirs(path, exist_ok=True)`, with a failure said as `OutputWriteError`."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise OutputWriteError.from_os_error(error, path) from error


def write_bytes_atomically(data: bytes, path: str) -> None:
    """Writes `data` to `path` through a temporary file in the same folder."""
    folder = os.path.dirname(os.path.abspath(path))
    make_folder(folder)
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".part")
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, FILE_MODE)  # mkstemp makes 0600; use what the umask gives others
        os.replace(temporary, path)
    except OSError as error:
        if temporary is not None and os.path.exists(temporary):
            os.remove(temporary)
        raise OutputWriteError.from_os_error(error, path) from error


def write_text_atomically(text: str, path: str) -> None:
    write_bytes_atomically(text.encode("utf-8"), path)


def write_json_atomically(data, path: str) -> None:
    write_text_atomically(json.dumps(data, indent=2, ensure_ascii=False) + "\n", path)


def weights_bytes(model) -> bytes:
    """`model`'s weights as the bytes of a Keras `.weights.h5` file, made in memory.

    Keras' `save_weights` only writes to a path; its own H5 store also writes to a
    `BytesIO`, which keeps h5py away from the disk.
    """
    from keras.src.saving import saving_lib

    buffer = io.BytesIO()
    store = saving_lib.H5IOStore(buffer, mode="w")
    saving_lib._save_state(
        model, weights_store=store, assets_store=None, inner_path="", visited_saveables=set()
    )
    store.close()
    return buffer.getvalue()


def save_weights_atomically(model, path: str) -> None:
    """Saves `model`'s weights as `path` (a `.weights.h5` file), never half-written."""
    write_bytes_atomically(weights_bytes(model), path)


def save_figure_atomically(figure, path: str, dpi: int = 100) -> str:
    """Saves a pyplot `figure` as the PNG `path`, never half-written, and closes it."""
    import matplotlib.pyplot as plt

    try:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi)
        write_bytes_atomically(buffer.getvalue(), path)
    finally:
        plt.close(figure)
    return path
