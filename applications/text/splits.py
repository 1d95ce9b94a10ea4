"""Deterministic train/validation/test splits from a stable hash of each example's key."""

import zlib

SPLITS = ("train", "validation", "test")


def stable_bucket(key: str) -> int:
    """A bucket in 0..99 from a CRC-32 of `key`: the same key always gets the same bucket."""
    return zlib.crc32(key.encode("utf-8")) % 100


def stable_split(key: str, validation_percent: int = 5, test_percent: int = 5) -> str:
    """The split of an example, from the bucket of its normalised key.

    The same key always lands in the same split, whatever else the data holds, so examples
    sharing a key (every translation of one sentence) are never divided across splits, and
    adding data never moves old examples.
    """
    bucket = stable_bucket(key.strip().lower())
    if bucket < test_percent:
        return "test"
    if bucket < test_percent + validation_percent:
        return "validation"
    return "train"


def split_by_key(examples, key=lambda example: example) -> dict[str, list]:
    """Examples grouped into train/validation/test by `stable_split` of `key(example)`."""
    splits = {name: [] for name in SPLITS}
    for example in examples:
        splits[stable_split(key(example))].append(example)
    return splits
