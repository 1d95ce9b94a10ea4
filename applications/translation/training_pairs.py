"""The sentence pairs a translator trains on: one or several files, each with a weight.

`FILE:WEIGHT` repeats a file's training pairs WEIGHT times (oversampling a small clean file
beside a large one); its validation and test pairs count once. Every file is split by the same
stable hash of the English sentence, so a sentence found in two files lands in one split.
Known test sets are refused (`test_sets.refuse_test_set`).
"""

import os

from apptk.applications.errors import DataError
from apptk.applications.text.splits import split_by_key
from apptk.applications.text.tatoeba_pairs import SentencePair, load_pairs
from apptk.applications.translation.test_sets import refuse_test_set


def weighted_source(spec: str) -> tuple[str, int]:
    """`FILE` or `FILE:WEIGHT` as `(path, weight)`; an existing path wins over the suffix."""
    path, _, weight = spec.rpartition(":")
    if os.path.exists(spec) or not path or not weight.isdigit():
        return spec, 1
    if int(weight) < 1:
        raise DataError(f"{spec}: a file's weight must be a whole number of at least 1.")
    return path, int(weight)


def training_pair_splits(
    data: str | list[str] | None, max_pairs: int | None = None
) -> dict[str, list[SentencePair]]:
    """Train/validation/test pairs of `data` (None: the public Tatoeba file), training pairs
    repeated by their file's weight; `max_pairs` keeps the first pairs across the files."""
    specs = [data] if data is None or isinstance(data, str) else list(data)
    tagged = []
    for spec in specs:
        path, weight = weighted_source(spec) if spec else (None, 1)
        if path:
            refuse_test_set(path)
        tagged += [(pair, weight) for pair in load_pairs(path)]
    if max_pairs:
        tagged = tagged[:max_pairs]
    splits = split_by_key(tagged, key=lambda item: item[0].english)
    return {
        name: [pair for pair, weight in items for _ in range(weight if name == "train" else 1)]
        for name, items in splits.items()
    }
