"""A Transformer decoder block: causal self-attention, cross-attention, feed-forward."""

import keras

from apptk.layers.masking import keras_padding_mask
from apptk.layers.transformer_block import TransformerBlock


@keras.saving.register_keras_serializable(package="apptk")
class TransformerDecoderBlock(TransformerBlock):
    """One decoder block of the Transformer (Vaswani et al., 2017), with a decoding cache.

    Causal multi-head self-attention, then (when built with an encoder sequence)
    cross-attention to the encoder's output, then a position-wise feed-forward network; each
    sub-layer has dropout, a residual connection and layer normalization, after the sum
    (post-norm) or before the sub-layer (`normalize_first=True`, pre-norm). Built without an
    encoder sequence, it is a GPT-style decoder-only block.

    For incremental decoding, pass `self_attention_cache` `(batch, 2, max_length, num_heads,
    head_dim)` and `self_attention_cache_update_index`: the block reads the new token(s) only,
    writes their keys/values into the cache and returns it. `cross_attention_cache` (from
    `compute_cross_attention_cache`) spares re-projecting the encoder output at every step.

    All arguments are keyword-only (keras-hub's `TransformerEncoder` takes `intermediate_dim`
    first, so a positional call could swap the two).

    Args:
        num_heads: number of attention heads; must divide the hidden size.
        intermediate_dim: inner size of the feed-forward network.
        dropout: dropout rate for attention weights and sub-layer outputs.
        activation: activation of the feed-forward network.
        layer_norm_epsilon: epsilon of the layer normalizations.
        normalize_first: pre-norm when True, post-norm when False.
        kernel_initializer: initializer for all kernels; each sub-layer and weight gets its own
            clone (see `clone_initializer`), so a seeded block is reproducible without any two
            kernels starting equal.
        **kwargs: standard layer arguments.

    Call arguments:
        decoder_sequence: `(batch, target_length, hidden_dim)`.
        encoder_sequence: optional `(batch, source_length, encoder_dim)`.
        decoder_padding_mask: optional boolean `(batch, target_length)`; defaults to the Keras
            mask of `decoder_sequence`.
        encoder_padding_mask: optional boolean `(batch, source_length)`; defaults to the Keras
            mask of `encoder_sequence`.
        self_attention_cache: optional self-attention key/value cache.
        self_attention_cache_update_index: position of `decoder_sequence[:, 0]` in the cache.
        cross_attention_cache: optional pre-projected encoder keys/values.
        use_causal_mask: whether self-attention is causal (default True).
        return_attention_scores: also return the cross-attention weights
            `(batch, num_heads, target_length, source_length)` (self-attention weights for a
            decoder-only block).
        training: whether dropout is active.

    Returns:
        The output `(batch, target_length, hidden_dim)`, followed, when asked for, by the
        updated self-attention cache and then the attention weights.

    Example:

    >>> block = apptk.layers.TransformerDecoderBlock(num_heads=2, intermediate_dim=32)
    >>> target = np.random.rand(2, 4, 8).astype("float32")
    >>> source = np.random.rand(2, 6, 8).astype("float32")
    >>> block(target, source).shape
    (2, 4, 8)

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
    """

    def __init__(self, *, num_heads: int, intermediate_dim: int, **kwargs):
        super().__init__(num_heads=num_heads, intermediate_dim=intermediate_dim, **kwargs)
        self.cross_attention = None

    def build(self, decoder_sequence_shape, encoder_sequence_shape=None):
        self.check_hidden_dim(decoder_sequence_shape[-1])
        self.self_attention = self.build_attention(
            "self_attention", decoder_sequence_shape, decoder_sequence_shape
        )
        self.self_attention_norm = self.build_norm("self_attention_norm", decoder_sequence_shape)
        if encoder_sequence_shape is not None:
            self.cross_attention = self.build_attention(
                "cross_attention", decoder_sequence_shape, encoder_sequence_shape
            )
            self.cross_attention_norm = self.build_norm(
                "cross_attention_norm", decoder_sequence_shape
            )
        self.build_feed_forward(decoder_sequence_shape)
        self.built = True

    def compute_cross_attention_cache(self, encoder_sequence):
        """Projects the encoder output once: `(batch, 2, source_length, heads, head_dim)`."""
        return self.cross_attention.compute_cache(encoder_sequence)

    def call(
        self,
        decoder_sequence,
        encoder_sequence=None,
        decoder_padding_mask=None,
        encoder_padding_mask=None,
        self_attention_cache=None,
        self_attention_cache_update_index=None,
        cross_attention_cache=None,
        use_causal_mask: bool = True,
        return_attention_scores: bool = False,
        training=None,
    ):
        if decoder_padding_mask is None:
            decoder_padding_mask = keras_padding_mask(decoder_sequence)
        if encoder_padding_mask is None and encoder_sequence is not None:
            encoder_padding_mask = keras_padding_mask(encoder_sequence)

        def self_attend(x):
            results = self.self_attention(
                x,
                x,
                query_mask=decoder_padding_mask,
                value_mask=decoder_padding_mask,
                use_causal_mask=use_causal_mask,
                return_attention_scores=True,
                cache=self_attention_cache,
                cache_update_index=self_attention_cache_update_index,
                training=training,
            )
            return results

        x, self_extras = self.residual(
            decoder_sequence, self_attend, self.self_attention_norm, training
        )
        scores = self_extras[0]
        new_cache = self_extras[1] if self_attention_cache is not None else None

        if self.cross_attention is not None:

            def cross_attend(y):
                return self.cross_attention(
                    y,
                    encoder_sequence,
                    query_mask=decoder_padding_mask,
                    value_mask=encoder_padding_mask,
                    return_attention_scores=True,
                    cache=cross_attention_cache,
                    training=training,
                )

            x, cross_extras = self.residual(x, cross_attend, self.cross_attention_norm, training)
            scores = cross_extras[0]

        x = self.feed_forward_residual(x, training)
        results = [x]
        if new_cache is not None:
            results.append(new_cache)
        if return_attention_scores:
            results.append(scores)
        return results[0] if len(results) == 1 else tuple(results)
