"""Text corpora: one sentence (or paragraph) per line of a UTF-8 file, split by a stable hash."""

from apptk.applications.errors import DataError
from apptk.applications.text.splits import split_by_key
from apptk.applications.text.text_files import read_text_file


def read_corpus(path: str) -> list[str]:
    """The non-empty lines of a UTF-8 text file, stripped; an error when there are none."""
    lines = [line.strip() for line in read_text_file(path, what="Corpus").split("\n")]
    lines = [line for line in lines if line]
    if not lines:
        raise DataError(f"{path} holds no text.")
    return lines


def split_corpus(lines: list[str]) -> dict[str, list[str]]:
    """Train/validation/test by a stable hash of each line: a line is held out wherever it is."""
    return split_by_key(lines)


def training_splits(corpus: str) -> dict[str, list[str]]:
    """`split_corpus` of a corpus file, checked to hold training and validation lines."""
    splits = split_corpus(read_corpus(corpus))
    if not splits["train"] or not splits["validation"]:
        raise DataError(f"{corpus} is too small to hold out validation lines; add more text.")
    return splits
