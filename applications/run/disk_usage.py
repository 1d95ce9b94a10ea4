"""How many bytes a folder's files take: a shipped model's size, a run's training data.

Kept free of TensorFlow and Keras imports (`presets` uses it to list models instantly).
"""

import os


def folder_bytes(folder: str) -> int:
    """The summed size of every file under `folder`."""
    return sum(
        os.path.getsize(os.path.join(root, name))
        for root, _, names in os.walk(folder)
        for name in names
    )
