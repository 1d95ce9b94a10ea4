"""A BERT-style bidirectional Transformer encoder over WordPiece ids, from apptk's layers."""

import keras
from keras import ops

from apptk.applications.models.transformer_stack import TransformerStack
from apptk.layers import TransformerEncoderBlock


@keras.saving.register_keras_serializable(package="apptk")
class TextEncoder(TransformerStack):
    """Token and position embedding → pre-norm encoder blocks → final layer norm.

    The body shared by the masked language model (pre-training) and the text classifier
    (fine-tuning): every position attends to every other real token (no causal mask), as in
    BERT (Devlin et al., 2019); padding (id 0) is masked out.

    Args:
        vocabulary_size: WordPiece vocabulary size, reserved tokens included.
        max_length: the longest token sequence the encoder reads.
        hidden_dim: model width.
        num_heads: attention heads per block.
        intermediate_dim: feed-forward inner size.
        num_layers: encoder blocks.
        dropout: dropout rate.

    Call arguments:
        token_ids: `(batch, time)` int ids, 0 for padding, `time <= max_length`.

    Returns:
        Contextual vectors `(batch, time, hidden_dim)`.

    Example:

    >>> encoder = TextEncoder(100, max_length=16, hidden_dim=32, num_heads=2,
    ...                       intermediate_dim=64, num_layers=1)
    >>> encoder(np.ones((2, 7), "int32")).shape
    (2, 7, 32)

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805)
    """

    block_class = TransformerEncoderBlock
    block_activation = "gelu"

    def call(self, token_ids, training=None):
        padding_mask = ops.not_equal(token_ids, 0)
        x = self.embedding_dropout(self.embedding(token_ids), training=training)
        for block in self.blocks:
            x = block(x, padding_mask=padding_mask, training=training)
        return self.final_norm(x)


def text_encoder_of(config, vocabulary_size: int, name: str = "encoder") -> TextEncoder:
    """The `TextEncoder` sized by any configuration that has `max_length`, `hidden_dim`,
    `num_heads`, `intermediate_dim`, `num_layers` and `dropout` (fill-mask, text classifier)."""
    return TextEncoder(
        vocabulary_size,
        max_length=config.max_length,
        hidden_dim=config.hidden_dim,
        num_heads=config.num_heads,
        intermediate_dim=config.intermediate_dim,
        num_layers=config.num_layers,
        dropout=config.dropout,
        name=name,
    )
