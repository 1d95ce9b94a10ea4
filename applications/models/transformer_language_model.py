"""A GPT-style decoder-only Transformer language model from apptk's layers."""

import keras
from keras import ops

from apptk.applications.models.transformer_stack import TransformerStack
from apptk.layers import TransformerDecoderBlock


@keras.saving.register_keras_serializable(package="apptk")
class TransformerLanguageModel(TransformerStack):
    """Token and position embedding → causal pre-norm decoder blocks → tied logits.

    Args:
        vocabulary_size: number of words, padding id 0 included.
        max_length: the longest context the model reads.
        hidden_dim: model width.
        num_heads: attention heads per block.
        intermediate_dim: feed-forward inner size.
        num_layers: decoder blocks.
        dropout: dropout rate.

    Call arguments:
        token_ids: `(batch, time)` int ids, `time <= max_length`.

    Returns:
        Logits `(batch, time, vocabulary_size)`.

    Example:

    >>> model = TransformerLanguageModel(100, max_length=16, hidden_dim=32, num_heads=2,
    ...                                  intermediate_dim=64, num_layers=1)
    >>> model(np.ones((2, 7), "int32")).shape
    (2, 7, 100)
    """

    block_class = TransformerDecoderBlock

    def call(self, token_ids, training=None):
        padding_mask = ops.not_equal(token_ids, 0)
        x = self.embedding_dropout(self.embedding(token_ids), training=training)
        for block in self.blocks:
            x = block(x, decoder_padding_mask=padding_mask, training=training)
        return self.embedding.logits(self.final_norm(x))

    def initial_state(self, batch_size: int):
        """An empty key/value cache, `(layers, batch, 2, max_length, heads, head_dim)`, at 0."""
        head_dim = self.hidden_dim // self.num_heads
        cache = ops.zeros(
            (self.num_layers, batch_size, 2, self.max_length, self.num_heads, head_dim)
        )
        return {"cache": cache, "index": ops.convert_to_tensor(0, "int32")}

    def step(self, token_ids, states=None, training=None):
        """Reads `token_ids` after the cached positions → `(logits, new_states)`."""
        if states is None:
            states = self.initial_state(ops.shape(token_ids)[0])
        index = states["index"]
        x = self.embedding(token_ids, start_index=index)
        caches = []
        for layer_index, block in enumerate(self.blocks):
            x, cache = block(
                x,
                self_attention_cache=states["cache"][layer_index],
                self_attention_cache_update_index=index,
                training=training,
            )
            caches.append(cache)
        logits = self.embedding.logits(self.final_norm(x))
        new_index = index + ops.shape(token_ids)[1]
        return logits, {"cache": ops.stack(caches), "index": new_index}
