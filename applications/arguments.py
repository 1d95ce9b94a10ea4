"""The numbers the Python API takes, with their allowed ranges, checked in one place.

The command line declares its Click ranges from the same bounds, so `apptk` and the API
accept exactly the same values.
"""

import math
import numbers

from apptk.applications.errors import DataError

BEAM_SIZE = (1, 16)
TOP_K = (1, 1000)
SAMPLING_TOP_K = (0, None)  # 0: no limit
LENGTH = (1, 500)
TEMPERATURE = (0.0, 10.0)
TOP_P = (0.0, 1.0)
SEED = (0, 2**31 - 1)  # TensorFlow's stateless seeds are int32
BATCH_SIZE = (1, 4096)
MAX_LENGTH = (8, 512)  # word pieces a translator reads and writes
CONCATENATED_SHARE = (0.0, 10.0)
AVERAGE_LAST = (0, 100)  # epochs whose weights are averaged when training ends
KEEP_INITIAL = (0.0, 0.95)  # share of a fine-tuned model's initial weights mixed back in


def _range_text(bounds) -> str:
    low, high = bounds
    if high is None:
        return f"at least {low}"
    return f"between {low} and {high}"


def checked_int(value, name: str, bounds: tuple) -> int:
    """`value` as an int, once it is an integer within `bounds` (`(low, high or None)`)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise DataError(f"{name} must be an integer {_range_text(bounds)}; got {value!r}.")
    return int(_within(value, name, bounds))


def checked_float(value, name: str, bounds: tuple) -> float:
    """`value` as a float, once it is a number within `bounds`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise DataError(f"{name} must be a number {_range_text(bounds)}; got {value!r}.")
    return float(_within(value, name, bounds))


def _within(value, name: str, bounds: tuple):
    low, high = bounds
    if value < low or (high is not None and value > high):
        raise DataError(f"{name} must be {_range_text(bounds)}; got {value}.")
    return value
