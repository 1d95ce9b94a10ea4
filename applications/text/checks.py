"""The checks every text pipeline applies to what users give it, with one set of messages."""

from apptk.applications.errors import DataError

# The longest text a pipeline accepts in one call, in characters.
MAX_CHARACTERS = 10_000


def checked_text(text: str, hint: str) -> str:
    """`text`, once it is known to be a non-blank string of at most `MAX_CHARACTERS`.

    Args:
        text: what the user gave.
        hint: what to give instead of an empty text, e.g. "give a few words to continue".

    Raises:
        DataError: the text is not a string, is empty or blank, or is too long.
    """
    if not isinstance(text, str):
        raise DataError(f"Expected a text, got {type(text).__name__}.")
    _check_utf8(text)
    if not text.strip():
        raise DataError(f"The text is empty; {hint}.")
    if len(text) > MAX_CHARACTERS:
        raise DataError(
            f"The text is {len(text):,} characters long; the limit is {MAX_CHARACTERS:,}."
        )
    return text


def _check_utf8(text: str) -> None:
    """Rejects a text holding bytes that were not UTF-8: Python keeps them as lone surrogates
    (command-line arguments, `surrogateescape` streams), which TensorFlow cannot take."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise DataError(
            f"The text is not valid UTF-8 (at character {error.start + 1}); nothing was done."
        ) from error


def checked_texts(texts: str | list[str], hint: str) -> list[str]:
    """`checked_text` of each text; a single string counts as a list of one. Every text is
    checked before any is used, and a bad one is named by its position."""
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, (list, tuple)):
        texts = list(texts) if hasattr(texts, "__iter__") else [texts]
    if not texts:
        raise DataError(f"No texts given; {hint}.")
    checked = []
    for number, text in enumerate(texts, start=1):
        try:
            checked.append(checked_text(text, hint))
        except DataError as error:
            if len(texts) == 1:
                raise
            raise DataError(f"Text {number} of {len(texts)}: {error}") from error
    return checked
