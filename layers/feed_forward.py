"""The position-wise feed-forward network of a Transformer block."""

import keras

from apptk.layers.initializers import clone_initializer


@keras.saving.register_keras_serializable(package="apptk")
class FeedForward(keras.layers.Layer):
    """Two dense layers applied to every position: `Dense(hidden)(act(Dense(inner)(x)))`.

    Args:
        intermediate_dim: size of the inner layer.
        activation: activation of the inner layer.
        dropout: dropout rate after the inner activation.
        kernel_initializer: initializer for both kernels; each dense layer gets its own clone
            (see `clone_initializer`).
        **kwargs: standard layer arguments.

    Call arguments:
        inputs: `(batch, seq, hidden_dim)`.
        training: whether dropout is active.

    Example:

    >>> apptk.layers.FeedForward(32)(np.ones((2, 3, 8), "float32")).shape
    (2, 3, 8)

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762), section 3.3
    """

    def __init__(
        self,
        intermediate_dim: int,
        activation="relu",
        dropout: float = 0.0,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.intermediate_dim = intermediate_dim
        self.activation = keras.activations.get(activation)
        self.dropout = dropout
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        policy = self.dtype_policy
        self.inner_dense = keras.layers.Dense(
            intermediate_dim,
            activation=self.activation,
            kernel_initializer=clone_initializer(self.kernel_initializer, "inner_dense"),
            dtype=policy,
            name="inner_dense",
        )
        self.dropout_layer = keras.layers.Dropout(dropout, dtype=policy)
        self.output_dense = None

    def build(self, inputs_shape):
        self.inner_dense.build(inputs_shape)
        self.output_dense = keras.layers.Dense(
            inputs_shape[-1],
            kernel_initializer=clone_initializer(self.kernel_initializer, "output_dense"),
            dtype=self.dtype_policy,
            name="output_dense",
        )
        self.output_dense.build(tuple(inputs_shape[:-1]) + (self.intermediate_dim,))
        self.built = True

    def call(self, inputs, training=None):
        hidden = self.dropout_layer(self.inner_dense(inputs), training=training)
        return self.output_dense(hidden)

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "intermediate_dim": self.intermediate_dim,
                "activation": keras.activations.serialize(self.activation),
                "dropout": self.dropout,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
