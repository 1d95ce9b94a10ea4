"""Errors a user can fix, raised by the pipelines and shown by the CLI as one line."""


class ApptkError(Exception):
    """Base class: the message says what was wrong and what to do."""


class DataError(ApptkError):
    """Input data is missing, unreadable or malformed."""


class ModelFileError(ApptkError):
    """A model folder or file is missing, corrupt or of another kind."""


class OutputExistsError(ApptkError):
    """The output path exists and `force` was not given."""
