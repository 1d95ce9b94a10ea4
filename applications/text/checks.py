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
    if not text.strip():
        raise DataError(f"The text is empty; {hint}.")
    if len(text) > MAX_CHARACTERS:
        raise DataError(
            f"The text is {len(text):,} characters long; the limit is {MAX_CHARACTERS:,}."
        )
    return text


def checked_texts(texts: str | list[str], hint: str) -> list[str]:
    """`checked_text` of each text; a single string counts as a list of one."""
    if isinstance(texts, str):
        texts = [texts]
    texts = list(texts)
    if not texts:
        raise DataError(f"No texts given; {hint}.")
    return [checked_text(text, hint) for text in texts]
