"""What Transformer encoder and decoder blocks share: arguments, sub-layers, residuals."""

import keras

from apptk.layers.feed_forward import FeedForward
from apptk.layers.initializers import clone_initializer
from apptk.layers.multi_head_attention import MultiHeadAttention


class TransformerBlock(keras.layers.Layer):
    """Base of the encoder and decoder blocks; subclasses build their attentions and `call`.

    Every argument is keyword-only: keras-hub's `TransformerEncoder` takes `intermediate_dim`
    before `num_heads`, and keywords keep code written for either from swapping the two.

    Args:
        num_heads: number of attention heads; must divide the hidden size.
        intermediate_dim: inner size of the feed-forward network.
        dropout: dropout rate for attention weights and sub-layer outputs.
        activation: activation of the feed-forward network.
        layer_norm_epsilon: epsilon of the layer normalizations.
        normalize_first: pre-norm when True, post-norm when False.
        kernel_initializer: initializer for all kernels; each sub-layer gets its own clone (see
            `clone_initializer`).
        **kwargs: standard layer arguments.
    """

    def __init__(
        self,
        *,
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

    def check_hidden_dim(self, hidden_dim: int) -> None:
        if hidden_dim % self.num_heads:
            raise ValueError(
                f"num_heads={self.num_heads} must divide the hidden size {hidden_dim}."
            )

    def build_attention(self, name: str, query_shape, value_shape) -> MultiHeadAttention:
        attention = MultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=query_shape[-1] // self.num_heads,
            dropout=self.dropout,
            kernel_initializer=clone_initializer(self.kernel_initializer, name),
            dtype=self.dtype_policy,
            name=name,
        )
        attention.build(query_shape, value_shape)
        return attention

    def build_norm(self, name: str, shape) -> keras.layers.LayerNormalization:
        norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name
        )
        norm.build(shape)
        return norm

    def build_feed_forward(self, shape) -> None:
        """The feed-forward sub-layer, its norm and the residual dropout, built last."""
        self.feed_forward = FeedForward(
            self.intermediate_dim,
            activation=self.activation,
            dropout=self.dropout,
            kernel_initializer=clone_initializer(self.kernel_initializer, "feed_forward"),
            dtype=self.dtype_policy,
            name="feed_forward",
        )
        self.feed_forward.build(shape)
        self.feed_forward_norm = self.build_norm("feed_forward_norm", shape)
        self.output_dropout = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)

    def residual(self, inputs, sublayer, norm, training):
        """Applies `sublayer` with dropout, a residual connection and layer normalization.

        Post-norm: `norm(x + dropout(sublayer(x)))`; pre-norm: `x + dropout(sublayer(norm(x)))`.
        `sublayer` returns a tuple whose first item is its output; the other items (attention
        weights, caches) come back as a list.
        """
        normalized = norm(inputs) if self.normalize_first else inputs
        outputs, *extras = sublayer(normalized)
        outputs = inputs + self.output_dropout(outputs, training=training)
        if not self.normalize_first:
            outputs = norm(outputs)
        return outputs, extras

    def feed_forward_residual(self, inputs, training):
        outputs, _ = self.residual(
            inputs,
            lambda x: (self.feed_forward(x, training=training),),
            self.feed_forward_norm,
            training,
        )
        return outputs

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
