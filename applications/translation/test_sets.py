"""Public translation test sets: scored by `apptk evaluate translate --test`, never trained on.

A file is a known test set when its name says so or its bytes are those of the published
file; `fit translate` refuses such a file, so a test set cannot leak into training.
"""

import hashlib
import os

from apptk.applications.errors import DataError

# name → SHA-256 of the file as distributed in apptk's offline data (see the README).
TEST_SETS = {
    "tico19": "1748ea1ef5f7b09c4397f6ac8d63c8357c1facf6070108f5581e012312cfcf65",
}


def _sha256(path: str) -> str | None:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def known_test_set(path: str) -> str | None:
    """The name of the test set `path` holds, or None."""
    stem = os.path.basename(path).lower().replace("-", "").replace("_", "")
    for name in TEST_SETS:
        if name in stem:
            return name
    digest = _sha256(path) if os.path.isfile(path) else None
    return next((name for name, known in TEST_SETS.items() if known == digest), None)


def refuse_test_set(path: str) -> None:
    """Raises `DataError` when `path` is a known test set: training on it would make every
    score measured on it meaningless."""
    name = known_test_set(path)
    if name is not None:
        raise DataError(
            f"{path} is the {name} test set; it is for `apptk evaluate translate --test`, "
            "never for training."
        )
