"""Reading the padding mask Keras attaches to tensors."""


def keras_padding_mask(tensor):
    """Returns the boolean padding mask Keras propagated onto `tensor`, or None.

    Keras attaches masks produced by `Embedding(mask_zero=True)`, `Masking` or
    `TokenAndPositionEmbedding` to the tensors it returns; blocks that take an explicit
    `padding_mask` argument fall back to it.
    """
    return getattr(tensor, "_keras_mask", None)
