"""Shared by the CLI tests: run `apptk` in-process and check its one-line errors.

Not a test module (pytest collects only `test_*.py`).
"""

from click.testing import CliRunner

from apptk.cli.main import apptk


def invoke(*args: str, input: str | None = None):
    """`apptk ARGS` through Click's runner; a traceback in the output fails the test."""
    result = CliRunner().invoke(apptk, list(args), input=input)
    assert "Traceback" not in result.output
    return result


def error_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("Error:")]


def assert_one_line_error(result, exit_code: int, *fragments: str) -> None:
    """Exit `exit_code` with one `Error:` line holding every fragment; for 1 (not a usage
    error) that line is all of stderr."""
    assert result.exit_code == exit_code, result.output
    [message] = error_lines(result)
    for fragment in fragments:
        assert fragment in message, message
    if exit_code == 1:
        assert result.stderr.strip() == message
