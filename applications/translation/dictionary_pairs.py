"""Word and phrase pairs from a dictd dictionary, such as FreeDict's English–Spanish one
(Debian's `dict-freedict-eng-spa`: `/usr/share/dictd/freedict-eng-spa.index`, GPL-2.0+).

A dictd dictionary is two files. `NAME.index` has one line per headword,
`headword<TAB>offset<TAB>length`, the numbers in dictd's base64 (digits `A-Z a-z 0-9 + /`, most
significant first); `NAME.dict`, or `NAME.dict.dz` (dictzip, which gzip reads), holds the
entries' text at those places. A FreeDict entry reads

    arrest /ərest/
    1. arresto, detención
    2. arrestar, detener

the headword as written and its pronunciation, then one line of translations or numbered
senses, alternatives separated by commas. Each sense gives one pair: the headword and the
sense's first alternative, the one the dictionary lists first. Entries the conversion into
dictd damaged are left out where it shows: a pronunciation much longer than its headword (the
entry lost words: "the /ðneðəlændz/ → Holanda") and capitalised words glued together
("LosPaísesBajos"); lower-case glued words ("entodaspartes") cannot be told from long words
and stay.
"""

import gzip
import os
import re

from apptk.applications.errors import DataError
from apptk.applications.text.tatoeba_pairs import SentencePair

_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_SENSE_NUMBER = re.compile(r"^\d+\.\s*")
_GLUED = re.compile(r"[a-záéíóúñü][A-ZÁÉÍÓÚÑ]")


def is_dictionary(path: str) -> bool:
    """Whether `path` names a dictd dictionary (its `.index`, `.dict` or `.dict.dz` file)."""
    return path.endswith((".index", ".dict", ".dict.dz"))


def dictionary_pairs(path: str) -> list[SentencePair]:
    """The `(English, Spanish)` pairs of the dictd dictionary `path` names.

    Raises:
        DataError: a file is missing or unreadable, or the index does not fit the entries.
    """
    index_path, text = _read_dictionary(path)
    pairs = []
    for number, line in enumerate(_index_lines(index_path), start=1):
        fields = line.split("\t")
        if len(fields) != 3:
            raise DataError(f"Line {number} of {index_path} is not headword<TAB>offset<TAB>length.")
        headword, offset, length = fields
        if headword.startswith(("00database", "00-database")):
            continue
        start, size = _number(offset, index_path, number), _number(length, index_path, number)
        if start + size > len(text):
            raise DataError(f"Line {number} of {index_path} points past the end of its entries.")
        pairs += _entry_pairs(text[start : start + size].decode("utf-8", errors="replace"))
    return list(dict.fromkeys(pairs))


def _read_dictionary(path: str) -> tuple[str, bytes]:
    base = re.sub(r"\.(index|dict|dict\.dz)$", "", path)
    index_path = base + ".index"
    for entries_path in (base + ".dict.dz", base + ".dict"):
        if os.path.exists(entries_path):
            break
    else:
        raise DataError(f"{path}: no {base}.dict.dz or {base}.dict beside it (a dictd dictionary).")
    try:
        opener = gzip.open if entries_path.endswith(".dz") else open
        with opener(entries_path, "rb") as handle:
            return index_path, handle.read()
    except (OSError, EOFError) as error:
        raise DataError(f"Cannot read {entries_path}: {error}.") from error


def _index_lines(index_path: str) -> list[str]:
    try:
        with open(index_path, encoding="utf-8") as handle:
            return [line.rstrip("\n") for line in handle if line.strip()]
    except FileNotFoundError:
        raise DataError(f"{index_path}: file not found (a dictd dictionary's index).") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"Cannot read {index_path}: {error}.") from error


def _number(digits: str, index_path: str, line_number: int) -> int:
    value = 0
    for digit in digits:
        position = _DIGITS.find(digit)
        if position < 0:
            raise DataError(f"Line {line_number} of {index_path}: {digits!r} is not dictd base64.")
        value = value * 64 + position
    return value


def _entry_pairs(entry: str) -> list[SentencePair]:
    lines = [line.strip() for line in entry.strip().splitlines() if line.strip()]
    if len(lines) < 2:
        return []
    headword, _, pronunciation = lines[0].partition(" /")
    if len(pronunciation.rstrip("/")) > 1.5 * len(headword) + 3:
        return []
    pairs = []
    for sense in lines[1:]:
        first = _SENSE_NUMBER.sub("", sense).split(",")[0].strip()
        if first and not _GLUED.search(first):
            pairs.append(SentencePair(headword.strip(), first))
    return pairs
