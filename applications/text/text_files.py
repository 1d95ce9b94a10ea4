"""Reading the UTF-8 text files users hand to apptk, with one-line errors."""

from apptk.applications.errors import DataError


def read_text_file(path: str, what: str = "File") -> str:
    """The whole of a UTF-8 text file.

    Args:
        path: the file.
        what: what the file is, for the message when it is missing (`"Corpus"`).

    Raises:
        DataError: the file is missing, unreadable or not UTF-8.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError as error:
        raise DataError(f"{what} not found: {path}") from error
    except UnicodeDecodeError as error:
        raise DataError(f"{path} is not UTF-8 text ({error.reason}).") from error
    except OSError as error:
        raise DataError(f"Cannot read {path}: {error.strerror}.") from error
