"""The sentence pairs a translator trains on: one or several files, each with a weight.

`FILE:WEIGHT` repeats a file's training pairs WEIGHT times (oversampling a small clean file
beside a large one); its validation and test pairs count once. Every file is split by the same
stable hash of the English sentence, so a sentence found in two files lands in one split.
A dictd dictionary (`freedict-eng-spa.index`) counts as a file of word and phrase pairs.
Known test sets are refused (`test_sets.refuse_test_set`).
"""

import os
import random
import re

from apptk.applications.errors import DataError
from apptk.applications.text.splits import split_by_key
from apptk.applications.text.tatoeba_pairs import SentencePair, load_pairs
from apptk.applications.translation.dictionary_pairs import dictionary_pairs, is_dictionary
from apptk.applications.translation.test_sets import refuse_test_set


def weighted_source(spec: str) -> tuple[str, int]:
    """`FILE` or `FILE:WEIGHT` as `(path, weight)`; an existing path wins over the suffix."""
    path, _, weight = spec.rpartition(":")
    if os.path.exists(spec) or not path or not weight.isdigit():
        return spec, 1
    if int(weight) < 1:
        raise DataError(f"{spec}: a file's weight must be a whole number of at least 1.")
    return path, int(weight)


def training_sources(data: str | list[str] | None) -> list[tuple[str | None, int]]:
    """`data` (see `training_pair_splits`) as `[(path, weight)]`; None is the download."""
    specs = [data] if data is None or isinstance(data, str) else list(data)
    return [weighted_source(spec) if spec else (None, 1) for spec in specs]


def _pairs_of(path: str | None) -> list[SentencePair]:
    """A pairs file's pairs, or a dictd dictionary's word and phrase pairs."""
    if path and is_dictionary(path):
        return dictionary_pairs(path)
    return load_pairs(path)


def training_pair_splits(
    data: str | list[str] | None, max_pairs: int | None = None
) -> dict[str, list[SentencePair]]:
    """Train/validation/test pairs of `data` (None: the public Tatoeba file), training pairs
    repeated by their file's weight; `max_pairs` keeps the first pairs across the files."""
    tagged = []
    for path, weight in training_sources(data):
        if path:
            refuse_test_set(path)
        tagged += [(pair, weight) for pair in _pairs_of(path)]
    if max_pairs:
        tagged = tagged[:max_pairs]
    splits = split_by_key(tagged, key=lambda item: item[0].english)
    return {
        name: [pair for pair, weight in items for _ in range(weight if name == "train" else 1)]
        for name, items in splits.items()
    }


_SENTENCE_END = re.compile(r"[.!?…]['\"»”]?$")


def concatenated_pairs(
    pairs: list[SentencePair], share: float, seed: int = 0
) -> list[SentencePair]:
    """`share × len(pairs)` extra pairs, each 2 to 4 consecutive whole-sentence pairs joined
    (English with English, Spanish with Spanish), so a model trained on single sentences also
    sees the multi-sentence inputs of ordinary text. Word and phrase pairs (a dictionary's) are
    never joined: only pairs whose English ends a sentence."""
    sentences = [pair for pair in pairs if _SENTENCE_END.search(pair.english)]
    generator = random.Random(seed)
    joined = []
    for _ in range(int(share * len(pairs)) if len(sentences) > 1 else 0):
        size = generator.randint(2, min(4, len(sentences)))
        start = generator.randrange(len(sentences) - size + 1)
        run = sentences[start : start + size]
        joined.append(
            SentencePair(" ".join(p.english for p in run), " ".join(p.spanish for p in run))
        )
    return joined


def mixed_training_pairs(
    pairs: list[SentencePair], concatenated_share: float, seed: int = 0
) -> list[SentencePair]:
    """`pairs` and `concatenated_share × len(pairs)` joined pairs, in one seeded random order.

    The files come one after another, and the dataset's shuffle buffer is far smaller than a
    file, so without this an epoch would train on one file at a time and end on the last.
    """
    mixed = pairs + concatenated_pairs(pairs, concatenated_share, seed)
    random.Random(seed).shuffle(mixed)
    return mixed
