"""What the Transformer models share: a stack of pre-norm blocks and its final layer norm; and,
for the single-stack models, token and position embedding and the configuration that sizes
them."""

import keras

from apptk.layers import TokenAndPositionEmbedding


def block_stack(block_class, num_layers: int, name: str, **block_arguments) -> list:
    """`num_layers` pre-norm apptk Transformer blocks named `{name}_0`, `{name}_1`, ..."""
    return [
        block_class(**block_arguments, normalize_first=True, name=f"{name}_{index}")
        for index in range(num_layers)
    ]


def final_norm(name: str) -> keras.layers.LayerNormalization:
    """The layer norm after a pre-norm stack (its blocks leave the residual stream unnormed)."""
    return keras.layers.LayerNormalization(epsilon=1e-5, name=name)


class TransformerStack(keras.Model):
    """Base of `TextEncoder` and `TransformerLanguageModel`: builds their layers from one set of
    sizes. Subclasses set `block_class` (an apptk Transformer block), `block_activation`, and
    write `call`.

    Args:
        vocabulary_size: number of tokens, padding id 0 included.
        max_length: the longest sequence the model reads.
        hidden_dim: model width.
        num_heads: attention heads per block.
        intermediate_dim: feed-forward inner size.
        num_layers: blocks.
        dropout: dropout rate.
    """

    block_class = None
    block_activation = "relu"

    def __init__(
        self,
        vocabulary_size: int,
        max_length: int = 64,
        hidden_dim: int = 256,
        num_heads: int = 4,
        intermediate_dim: int = 1024,
        num_layers: int = 2,
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
        self.blocks = block_stack(
            self.block_class,
            num_layers,
            "block",
            num_heads=num_heads,
            intermediate_dim=intermediate_dim,
            dropout=dropout,
            activation=self.block_activation,
        )
        self.final_norm = final_norm("final_norm")

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
