"""A Transformer encoder block: self-attention and feed-forward, each with a residual."""

import keras

from apptk.layers.feed_forward import FeedForward
from apptk.layers.masking import keras_padding_mask
from apptk.layers.multi_head_attention import MultiHeadAttention
from apptk.layers.residual import residual_sublayer


@keras.saving.register_keras_serializable(package="apptk")
class TransformerEncoderBlock(keras.layers.Layer):
    """One encoder block of the Transformer (Vaswani et al., 2017).

    Bidirectional multi-head self-attention followed by a position-wise feed-forward
    network, each wrapped in dropout, a residual connection and layer normalization. With
    `normalize_first=False` (post-norm, the paper's layout) the norm follows each residual
    sum; with `normalize_first=True` (pre-norm, as in GPT-2) it precedes each sub-layer,
    which trains more stably for deep stacks.

    Args:
        num_heads: number of attention heads; must divide the input's last dimension.
        intermediate_dim: inner size of the feed-forward network.
        dropout: dropout rate for attention weights and sub-layer outputs.
        activation: activation of the feed-forward network.
        layer_norm_epsilon: epsilon of the layer normalizations.
        normalize_first: pre-norm when True, post-norm when False.
        kernel_initializer: initializer for all kernels.
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

    def __init__(
        self,
        num_heads: int,
        intermediate_dim: int,
        dropout: float = 0.0,
        activation="relu",
        layer_norm_epsilon: float = 1e-5,
        normalize_first: bool = False,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.activation = keras.activations.get(activation)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.normalize_first = normalize_first
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, inputs_shape):
        hidden_dim = inputs_shape[-1]
        if hidden_dim % self.num_heads:
            raise ValueError(
                f"num_heads={self.num_heads} must divide the hidden size {hidden_dim}."
            )
        policy = self.dtype_policy
        self.self_attention = MultiHeadAttention(
            self.num_heads,
            hidden_dim // self.num_heads,
            dropout=self.dropout,
            kernel_initializer=self.kernel_initializer,
            dtype=policy,
            name="self_attention",
        )
        self.self_attention.build(inputs_shape, inputs_shape)
        self.attention_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=policy, name="attention_norm"
        )
        self.attention_norm.build(inputs_shape)
        self.feed_forward = FeedForward(
            self.intermediate_dim,
            activation=self.activation,
            dropout=self.dropout,
            kernel_initializer=self.kernel_initializer,
            dtype=policy,
            name="feed_forward",
        )
        self.feed_forward.build(inputs_shape)
        self.feed_forward_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=policy, name="feed_forward_norm"
        )
        self.feed_forward_norm.build(inputs_shape)
        self.output_dropout = keras.layers.Dropout(self.dropout, dtype=policy)
        self.built = True

    def _residual_call(self, inputs, sublayer, norm, training):
        return residual_sublayer(
            inputs, sublayer, norm, self.output_dropout, self.normalize_first, training
        )

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

        x, (scores,) = self._residual_call(inputs, attend, self.attention_norm, training)
        x, _ = self._residual_call(
            x,
            lambda y: (self.feed_forward(y, training=training),),
            self.feed_forward_norm,
            training,
        )
        return (x, scores) if return_attention_scores else x

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "dropout": self.dropout,
                "activation": keras.activations.serialize(self.activation),
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "normalize_first": self.normalize_first,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
