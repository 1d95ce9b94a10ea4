"""Carrying a translator's token embeddings over to new vocabularies (fine-tuning on new text).

A model fine-tuned on text its vocabulary never saw spells the new words out in many short
pieces, and a character it never saw (a parenthesis, a dash) becomes `[UNK]`, losing the
whole word. Vocabularies learned from the new text fix both, and the old model's knowledge
comes along: a token both vocabularies hold keeps its row; a new token starts as the mean of
the rows of the pieces the old vocabulary spells it with; a token the old vocabulary cannot
spell at all keeps its freshly initialised row.
"""

import numpy as np

CONTINUATION = "##"


def old_pieces(token: str, old_index: dict[str, int]) -> list[int]:
    """The ids of the old vocabulary's pieces spelling `token`, longest match first as
    WordPiece tokenizes, or `[]` when it cannot spell it.

    Example:

    >>> old_pieces("##pital", {"##pit": 7, "##al": 9})
    [7, 9]
    """
    text = token.removeprefix(CONTINUATION)
    inside_word = token.startswith(CONTINUATION)
    ids, start = [], 0
    while start < len(text):
        for end in range(len(text), start, -1):
            piece = (CONTINUATION if inside_word or start else "") + text[start:end]
            if piece in old_index:
                ids.append(old_index[piece])
                start = end
                break
        else:
            return []
    return ids


def transferred_rows(
    old_rows: np.ndarray, old_vocabulary: list[str], new_vocabulary: list[str], fresh_rows
) -> tuple[np.ndarray, dict[str, int]]:
    """An embedding table for `new_vocabulary` built from one for `old_vocabulary`.

    Args:
        old_rows: `(len(old_vocabulary), dim)` the old model's embeddings.
        old_vocabulary: its tokens, in row order.
        new_vocabulary: the new tokens.
        fresh_rows: `(len(new_vocabulary), dim)` freshly initialised rows, kept where the
            old vocabulary cannot spell a token.

    Returns:
        The new table and how many rows were `{"copied", "composed", "fresh"}`.
    """
    old_index = {token: row for row, token in enumerate(old_vocabulary)}
    old_rows = np.asarray(old_rows, np.float32)  # an export stores them in float16
    rows = np.array(fresh_rows, dtype=np.float32, copy=True)
    counts = {"copied": 0, "composed": 0, "fresh": 0}
    for row, token in enumerate(new_vocabulary):
        if token in old_index:
            rows[row] = old_rows[old_index[token]]
            counts["copied"] += 1
        elif pieces := old_pieces(token, old_index):
            rows[row] = old_rows[pieces].mean(axis=0)
            counts["composed"] += 1
        else:
            counts["fresh"] += 1
    return rows, counts
