"""The check both position layers make: the positions asked for exist."""


def check_positions_fit(layer_name: str, start_index, sequence_length, max_length: int) -> None:
    """Raises a `ValueError` when positions `start_index ... start_index + sequence_length - 1`
    go past `max_length` (checked only when both are known Python ints, as in eager calls and
    while tracing with static shapes)."""
    if (
        isinstance(sequence_length, int)
        and isinstance(start_index, int)
        and start_index + sequence_length > max_length
    ):
        raise ValueError(
            f"{layer_name} got positions {start_index} to "
            f"{start_index + sequence_length - 1}, beyond max_length={max_length}. "
            "Shorten the input or raise max_length."
        )
