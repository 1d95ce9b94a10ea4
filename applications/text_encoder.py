"""A BERT-style bidirectional Transformer encoder over WordPiece ids, from apptk's layers."""

import keras
from keras import ops

from apptk.layers import TokenAndPositionEmbedding, TransformerEncoderBlock


@keras.saving.register_keras_serializable(package="apptk")
class TextEncoder(keras.Model):
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

    def __init__(
        self,
        vocabulary_size: int,
        max_length: int = 64,
        hidden_dim: int = 256,
        num_heads: int = 4,
        intermediate_dim: int = 1024,
        num_layers: int = 4,
        dropout: float = 0.1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.max_length = max_length
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.num_layers = num_layers
        self.dropout = dropout
        self.embedding = TokenAndPositionEmbedding(
            vocabulary_size,
            max_length,
            hidden_dim,
            embeddings_initializer=keras.initializers.RandomNormal(stddev=0.02),
            name="embedding",
        )
        self.embedding_dropout = keras.layers.Dropout(dropout)
        self.blocks = [
            TransformerEncoderBlock(
                num_heads,
                intermediate_dim,
                dropout=dropout,
                activation="gelu",
                normalize_first=True,
                name=f"block_{i}",
            )
            for i in range(num_layers)
        ]
        self.final_norm = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")

    def call(self, token_ids, training=None):
        padding_mask = ops.not_equal(token_ids, 0)
        x = self.embedding_dropout(self.embedding(token_ids), training=training)
        for block in self.blocks:
            x = block(x, padding_mask=padding_mask, training=training)
        return self.final_norm(x)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "max_length": self.max_length,
                "hidden_dim": self.hidden_dim,
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "num_layers": self.num_layers,
                "dropout": self.dropout,
            }
        )
        return config
