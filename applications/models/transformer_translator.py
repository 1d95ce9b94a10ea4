"""The encoder-decoder Transformer behind the translator, built from `apptk.layers`."""

import keras
from keras import ops

from apptk.applications.models.transformer_stack import block_stack, final_norm
from apptk.layers import TokenAndPositionEmbedding, TransformerDecoderBlock, TransformerEncoderBlock


@keras.saving.register_keras_serializable(package="apptk")
class TransformerTranslator(keras.Model):
    """A pre-norm Transformer encoder-decoder with tied target embeddings.

    Source and target token ids go through their own `TokenAndPositionEmbedding`
    (sinusoidal positions, padding id 0 masked), a stack of encoder and decoder blocks, and
    the decoder's output is projected onto the target vocabulary with the transposed target
    embedding matrix (weight tying, Press & Wolf 2017).

    Args:
        source_vocabulary_size: size of the source WordPiece vocabulary.
        target_vocabulary_size: size of the target WordPiece vocabulary.
        max_length: the longest token sequence on either side.
        hidden_dim: model width.
        num_heads: attention heads per block.
        intermediate_dim: feed-forward inner size.
        num_encoder_layers: encoder blocks.
        num_decoder_layers: decoder blocks.
        dropout: dropout rate everywhere.
        embedding_storage_dtype: optional dtype of the two token tables (`"float16"` halves
            their share of an exported model's size).

    Call arguments:
        inputs: dict with `source` `(batch, source_length)` and `target` `(batch,
            target_length)` int ids (the target starts with `[START]`).

    Returns:
        Logits `(batch, target_length, target_vocabulary_size)`.

    Example:

    >>> model = TransformerTranslator(100, 120, max_length=16, hidden_dim=32, num_heads=2,
    ...                               intermediate_dim=64)
    >>> model({"source": np.ones((2, 5)), "target": np.ones((2, 4))}).shape
    (2, 4, 120)
    """

    def __init__(
        self,
        source_vocabulary_size: int,
        target_vocabulary_size: int,
        max_length: int = 64,
        hidden_dim: int = 256,
        num_heads: int = 4,
        intermediate_dim: int = 1024,
        num_encoder_layers: int = 2,
        num_decoder_layers: int = 2,
        dropout: float = 0.1,
        embedding_storage_dtype: str | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.embedding_storage_dtype = embedding_storage_dtype
        self.source_vocabulary_size = source_vocabulary_size
        self.target_vocabulary_size = target_vocabulary_size
        self.max_length = max_length
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.num_encoder_layers = num_encoder_layers
        self.num_decoder_layers = num_decoder_layers
        self.dropout = dropout

        def embedding(vocabulary_size, name):
            return TokenAndPositionEmbedding(
                vocabulary_size,
                max_length,
                hidden_dim,
                position_encoding="sinusoidal",
                scale_embeddings=True,
                embeddings_initializer=keras.initializers.RandomNormal(stddev=hidden_dim**-0.5),
                token_embedding_dtype=embedding_storage_dtype,
                name=name,
            )

        block_sizes = {
            "num_heads": num_heads,
            "intermediate_dim": intermediate_dim,
            "dropout": dropout,
        }
        self.source_embedding = embedding(source_vocabulary_size, "source_embedding")
        self.target_embedding = embedding(target_vocabulary_size, "target_embedding")
        self.embedding_dropout = keras.layers.Dropout(dropout)
        self.encoder_blocks = block_stack(
            TransformerEncoderBlock, num_encoder_layers, "encoder_block", **block_sizes
        )
        self.decoder_blocks = block_stack(
            TransformerDecoderBlock, num_decoder_layers, "decoder_block", **block_sizes
        )
        self.encoder_norm = final_norm("encoder_norm")
        self.decoder_norm = final_norm("decoder_norm")

    def encode(self, source_ids, training=None):
        """Source ids → `(encoder_output (batch, source_length, hidden), source_mask)`."""
        source_mask = ops.not_equal(source_ids, 0)
        x = self.embedding_dropout(self.source_embedding(source_ids), training=training)
        for block in self.encoder_blocks:
            x = block(x, padding_mask=source_mask, training=training)
        return self.encoder_norm(x), source_mask

    def decode(
        self, target_ids, encoder_output, source_mask, training=None, return_attention=False
    ):
        """Teacher-forced decoding of whole target sequences → logits (and last attention)."""
        target_mask = ops.not_equal(target_ids, 0)
        x = self.embedding_dropout(self.target_embedding(target_ids), training=training)
        attention = None
        for block in self.decoder_blocks:
            x, attention = block(
                x,
                encoder_output,
                decoder_padding_mask=target_mask,
                encoder_padding_mask=source_mask,
                return_attention_scores=True,
                training=training,
            )
        logits = self.target_embedding.logits(self.decoder_norm(x))
        return (logits, attention) if return_attention else logits

    def call(self, inputs, training=None):
        encoder_output, source_mask = self.encode(inputs["source"], training=training)
        return self.decode(inputs["target"], encoder_output, source_mask, training=training)

    def initial_cache(self, encoder_output, max_length: int):
        """Empty self-attention caches and projected cross-attention caches for decoding.

        Returns:
            `(self_caches, cross_caches)`, each `(layers, batch, 2, length, heads, head_dim)`.
        """
        batch = ops.shape(encoder_output)[0]
        head_dim = self.hidden_dim // self.num_heads
        self_caches = ops.zeros(
            (self.num_decoder_layers, batch, 2, max_length, self.num_heads, head_dim),
            dtype=encoder_output.dtype,
        )
        cross_caches = ops.stack(
            [block.compute_cross_attention_cache(encoder_output) for block in self.decoder_blocks]
        )
        return self_caches, cross_caches

    def decode_step(self, token_ids, index, self_caches, cross_caches, source_mask):
        """One decoding step over the caches.

        Args:
            token_ids: `(batch, 1)` the tokens at position `index`.
            index: scalar position.
            self_caches: `(layers, batch, 2, length, heads, head_dim)`.
            cross_caches: `(layers, batch, 2, source_length, heads, head_dim)`.
            source_mask: `(batch, source_length)`.

        Returns:
            `(logits (batch, vocabulary), updated self_caches)`.
        """
        x = self.target_embedding(token_ids, start_index=index)
        updated = []
        for layer_index, block in enumerate(self.decoder_blocks):
            x, cache = block(
                x,
                encoder_padding_mask=source_mask,
                self_attention_cache=self_caches[layer_index],
                self_attention_cache_update_index=index,
                cross_attention_cache=cross_caches[layer_index],
            )
            updated.append(cache)
        logits = self.target_embedding.logits(self.decoder_norm(x))
        return logits[:, 0, :], ops.stack(updated)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "source_vocabulary_size": self.source_vocabulary_size,
                "target_vocabulary_size": self.target_vocabulary_size,
                "max_length": self.max_length,
                "hidden_dim": self.hidden_dim,
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "num_encoder_layers": self.num_encoder_layers,
                "num_decoder_layers": self.num_decoder_layers,
                "dropout": self.dropout,
                "embedding_storage_dtype": self.embedding_storage_dtype,
            }
        )
        return config

    def with_half_precision_embeddings(self) -> "TransformerTranslator":
        """A copy of this model whose token tables are stored as float16 (for export)."""
        compact = TransformerTranslator.from_config(
            {**self.get_config(), "embedding_storage_dtype": "float16"}
        )
        dummy = ops.ones((1, 2), "int32")
        compact({"source": dummy, "target": dummy})
        compact.set_weights(self.get_weights())
        return compact
