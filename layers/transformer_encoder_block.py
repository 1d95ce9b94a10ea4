"""A Transformer encoder block: self-attention and feed-forward, each with a residual."""

import keras

from apptk.layers.masking import keras_padding_mask
from apptk.layers.transformer_block import TransformerBlock


@keras.saving.register_keras_serializable(package="apptk")
class TransformerEncoderBlock(TransformerBlock):
    """One encoder block of the Transformer (Vaswani et al., 2017).

    Bidirectional multi-head self-attention followed by a position-wise feed-forward
    network, each wrapped in dropout, a residual connection and layer normalization. With
    `normalize_first=False` (post-norm, the paper's layout) the norm follows each residual
    sum; with `normalize_first=True` (pre-norm, as in GPT-2) it precedes each sub-layer,
    which trains more stably for deep stacks.

    All arguments are keyword-only (keras-hub's `TransformerEncoder` takes `intermediate_dim`
    first, so a positional call could swap the two).

    Args:
        num_heads: number of attention heads; must divide the input's last dimension.
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
        inputs: `(batch, seq, hidden_dim)`.
        padding_mask: optional boolean `(batch, seq)`, True for real tokens; defaults to the
            Keras mask propagated on `inputs`.
        attention_mask: optional boolean `(batch, seq, seq)`.
        return_attention_scores: also return the self-attention weights
            `(batch, num_heads, seq, seq)`.
        training: whether dropout is active.

    Example:

    >>> block = apptk.layers.TransformerEncoderBlock(num_heads=2, intermediate_dim=32)
    >>> block(np.random.rand(2, 5, 8).astype("float32")).shape
    (2, 5, 8)

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
        - [Xiong et al., 2020, on pre-norm](https://arxiv.org/abs/2002.04745)
    """

    def build(self, inputs_shape):
        self.check_hidden_dim(inputs_shape[-1])
        self.self_attention = self.build_attention("self_attention", inputs_shape, inputs_shape)
        self.attention_norm = self.build_norm("attention_norm", inputs_shape)
        self.build_feed_forward(inputs_shape)
        self.built = True

    def call(
        self,
        inputs,
        padding_mask=None,
        attention_mask=None,
        return_attention_scores: bool = False,
        training=None,
    ):
        if padding_mask is None:
            padding_mask = keras_padding_mask(inputs)

        def attend(x):
            return self.self_attention(
                x,
                x,
                query_mask=padding_mask,
                value_mask=padding_mask,
                attention_mask=attention_mask,
                return_attention_scores=True,
                training=training,
            )

        x, (scores,) = self.residual(inputs, attend, self.attention_norm, training)
        x = self.feed_forward_residual(x, training)
        return (x, scores) if return_attention_scores else x
