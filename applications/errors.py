"""Errors a user can fix, raised by the pipelines and shown by the CLI as one line."""

import errno
import functools
import sys
from typing import ClassVar


def first_line(error: BaseException) -> str:
    """The first line of `error`'s message, or its type's name when it has none."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


class ApptkError(Exception):
    """Base class: the message says what was wrong and what to do."""


class DataError(ApptkError):
    """Input data is missing, unreadable or malformed."""


class ModelFileError(ApptkError):
    """A model folder or file is missing, corrupt or of another kind."""


class OutputExistsError(ApptkError):
    """The output path exists and `force` was not given."""


class OutputWriteError(ApptkError):
    """A file or folder could not be written: a full disk, a read-only place, no permission."""

    REASONS: ClassVar[dict[int, str]] = {
        errno.ENOSPC: "no space left on device while writing {path}",
        errno.EDQUOT: "disk quota exceeded while writing {path}",
        errno.EROFS: "cannot write {path}: read-only file system",
        errno.EACCES: "cannot write {path}: permission denied",
        errno.EPERM: "cannot write {path}: operation not permitted",
        errno.ENOENT: "cannot write {path}: its folder does not exist",
        errno.ENOTDIR: "cannot write {path}: a part of the path is a file, not a folder",
        errno.EEXIST: "cannot write {path}: a file stands where a folder should be",
    }

    @classmethod
    def from_os_error(cls, error: OSError, path: str) -> "OutputWriteError":
        template = cls.REASONS.get(error.errno, "cannot write {path}: {reason}")
        return cls(template.format(path=path, reason=error.strerror or error))


class RunFinishedError(ApptkError):
    """`resume` found the run already finished: there is nothing to train."""


def exits_with_one_line(main):
    """Wraps a script's `main` so that an `ApptkError` ends it as the CLI would: one line on
    stderr (`Error: ...`, exit 1), or for a finished run its message and exit 0; no traceback.

    Examples:
        >>> @exits_with_one_line
        ... def main():
        ...     raise DataError("no pairs in data.tsv")
    """

    @functools.wraps(main)
    def run(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except RunFinishedError as finished:
            print(finished, file=sys.stderr)
            raise SystemExit(0) from None
        except ApptkError as error:
            raise SystemExit(f"Error: {first_line(error)}") from None

    return run
