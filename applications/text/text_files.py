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
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError as error:
        raise DataError(f"{what} not found: {path}") from error
    except OSError as error:
        raise DataError(f"Cannot read {path}: {error.strerror}.") from error
    return decode_utf8(data, path)


def decode_utf8(data: bytes, source: str) -> str:
    """`data` decoded as UTF-8; else a `DataError` naming the first bad line of `source`."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise DataError(
            f"Line {line} of {source} is not valid UTF-8 "
            f"(byte 0x{data[error.start]:02x}); nothing was done."
        ) from error
