"""The Tatoeba/ManyThings English–Spanish sentence pairs: download, parse, split."""

import dataclasses
import os
import zipfile

from apptk.applications.errors import DataError, first_line
from apptk.applications.text.splits import split_by_key
from apptk.applications.text.text_files import decode_utf8, read_text_file

SPA_ENG_URL = "http://storage.googleapis.com/download.tensorflow.org/data/spa-eng.zip"
MEMBER_NAME = "spa-eng/spa.txt"


@dataclasses.dataclass(frozen=True)
class SentencePair:
    english: str
    spanish: str


def download_pairs_file() -> str:
    """Downloads `spa-eng.zip` once into the Keras cache (~/.keras/datasets) and returns it."""
    import keras

    try:
        return keras.utils.get_file("spa-eng.zip", origin=SPA_ENG_URL, cache_subdir="datasets")
    except Exception as error:  # Keras wraps URL, HTTP and socket errors in plain Exception
        reason = first_line(error)
        raise DataError(
            f"Without --data, the Tatoeba pairs are downloaded from {SPA_ENG_URL}, which "
            f"failed ({reason}); pass --data FILE (English<TAB>Spanish lines, or the zip) "
            "to work offline."
        ) from error


def _read_text(path: str) -> str:
    """The pairs text of a .txt file, or of the pairs member of a .zip."""
    if not (os.path.exists(path) and zipfile.is_zipfile(path)):
        return read_text_file(path, what="Data file")
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith(".txt") and "about" not in n]
            name = MEMBER_NAME if MEMBER_NAME in names else (names[0] if names else None)
            if name is None:
                raise DataError(f"{path} holds no .txt pairs file.")
            data = archive.read(name)
    except (zipfile.BadZipFile, OSError) as error:
        raise DataError(f"Cannot read {path}: {error}") from error
    return decode_utf8(data, f"{name} in {path}")


def parse_pairs(text: str, source: str = "<text>") -> list[SentencePair]:
    """Parses `English<TAB>Spanish[<TAB>attribution]` lines; blank lines are skipped.

    Raises:
        DataError: naming the first malformed line.
    """
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        columns = line.split("\t")
        if len(columns) not in (2, 3) or not columns[0].strip() or not columns[1].strip():
            raise DataError(
                f"{source}, line {number}: expected 'English<TAB>Spanish[<TAB>attribution]', "
                f"got {line[:60]!r}."
            )
        pairs.append(SentencePair(columns[0].strip(), columns[1].strip()))
    if not pairs:
        raise DataError(f"{source} holds no sentence pairs.")
    return pairs


def load_pairs(path: str | None = None) -> list[SentencePair]:
    """Loads the pairs from `path` (a .txt or .zip), downloading the public file when None."""
    path = path or download_pairs_file()
    return parse_pairs(_read_text(path), source=path)


def split_pairs(pairs: list[SentencePair]) -> dict[str, list[SentencePair]]:
    """Splits pairs into train/validation/test by English source sentence, so every
    translation of a sentence lands in the same split (see `stable_split`)."""
    return split_by_key(pairs, key=lambda pair: pair.english)


def group_references(pairs: list[SentencePair]) -> tuple[list[str], list[list[str]]]:
    """Groups pairs by English sentence: `(sources, references)` with every known translation."""
    references: dict[str, list[str]] = {}
    for pair in pairs:
        references.setdefault(pair.english, []).append(pair.spanish)
    return list(references), list(references.values())


def write_english_corpus(path: str, pairs_file: str | None = None) -> str:
    """Writes the distinct English sentences of the pairs, one per line: a text corpus."""
    sentences = dict.fromkeys(pair.english for pair in load_pairs(pairs_file))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(sentences) + "\n")
    return path
