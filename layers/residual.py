"""The residual wrapper shared by Transformer blocks."""


def residual_sublayer(inputs, sublayer, norm, dropout, normalize_first: bool, training=None):
    """Applies `sublayer` with dropout, a residual connection and layer normalization.

    Post-norm (`normalize_first=False`): `norm(x + dropout(sublayer(x)))`; pre-norm:
    `x + dropout(sublayer(norm(x)))`.

    Args:
        inputs: the block's running hidden states.
        sublayer: a callable returning a tuple whose first item is the sub-layer's output and
            whose other items (attention weights, caches) are passed back untouched.
        norm: the layer normalization for this sub-layer.
        dropout: the dropout layer applied to the sub-layer's output.
        normalize_first: pre-norm when True.
        training: whether dropout is active.

    Returns:
        `(outputs, extras)` where `extras` is the list of the sub-layer's other results.
    """
    normalized = norm(inputs) if normalize_first else inputs
    outputs, *extras = sublayer(normalized)
    outputs = inputs + dropout(outputs, training=training)
    if not normalize_first:
        outputs = norm(outputs)
    return outputs, extras
