"""The sizes a Transformer derives from its width unless told otherwise."""

HEAD_DIM = 64
FEED_FORWARD_RATIO = 4


def derived_sizes(width: int, num_heads: int | None, intermediate_dim: int | None):
    """`(num_heads, intermediate_dim)`: as given, else a head per 64 dimensions (at least one)
    and a feed-forward four times as wide, as in BERT and GPT-2."""
    if num_heads is None:
        num_heads = max(1, width // HEAD_DIM)
    if intermediate_dim is None:
        intermediate_dim = FEED_FORWARD_RATIO * width
    return num_heads, intermediate_dim
