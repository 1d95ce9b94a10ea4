"""Deterministic train/validation/test splits from a stable hash of each example's key."""

import zlib

SPLITS = ("train", "validation", "test")


def stable_split(key: str, validation_percent: int = 5, test_percent: int = 5) -> str:
    """The split of an example, from a CRC-32 of its normalised key.

    The same key always lands in the same split, whatever else the data holds, so examples
    sharing a key (every translation of one sentence) are never divided across splits, and
    adding data never moves old examples.
    """
    bucket = zlib.crc32(key.strip().lower().encode("utf-8")) % 100
    if bucket < test_percent:
        return "test"
    if bucket < test_percent + validation_percent:
        return "validation"
    return "train"
