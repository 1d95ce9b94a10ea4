"""Convolution, optional batch norm, activation, max pooling and dropout."""

import keras


@keras.saving.register_keras_serializable(package="apptk")
class ConvBlock(keras.layers.Layer):
    """Convolution, optional batch norm, activation, max pooling and dropout.

    The basic stage of a VGG-style image classifier (Simonyan and Zisserman, 2015): a
    `Conv2D` (`conv`), an optional `BatchNormalization` (`batch_norm`, Ioffe and Szegedy, 2015),
    the activation, a `MaxPooling2D` (`pooling`) and an optional `Dropout` (`dropout_layer`).
    With batch norm the convolution has no bias, since the normalization's offset replaces it.
    Inputs are channels-last images.

    Args:
        filters: int. The number of convolution filters.
        kernel_size: int or tuple of 2 ints. The convolution window.
        pool_size: int, tuple of 2 ints, or None. The max-pooling window; None or 0 skips
            pooling.
        use_batch_norm: bool. Whether to normalize the convolution's outputs.
        activation: str or callable. The activation after the (normalized) convolution.
        padding: `"same"` or `"valid"`. The convolution's padding.
        dropout: float. The dropout rate after pooling; 0 skips dropout.
        batch_norm_momentum: float. The momentum of the batch norm's moving statistics; 0.9
            follows them more closely when an epoch has few steps.
        **kwargs: other keyword arguments passed to `keras.layers.Layer`, such as `name` and
            `dtype`.

    Call arguments:
        inputs: a tensor of shape `(batch, height, width, channels)`.
        training: bool. Whether batch norm and dropout run in training mode.

    Example:

    ```python
    images = keras.random.uniform((2, 32, 32, 3))
    block = ConvBlock(16, use_batch_norm=True, dropout=0.25)
    features = block(images)  # (2, 16, 16, 16)
    ```

    References:
        - [Simonyan and Zisserman, 2015](https://arxiv.org/abs/1409.1556)
        - [Ioffe and Szegedy, 2015](https://arxiv.org/abs/1502.03167)
    """

    def __init__(
        self,
        filters: int,
        kernel_size=3,
        pool_size=2,
        use_batch_norm: bool = False,
        activation="relu",
        padding: str = "same",
        dropout: float = 0.0,
        batch_norm_momentum: float = 0.99,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.use_batch_norm = use_batch_norm
        self.activation = keras.activations.get(activation)
        self.padding = padding
        self.dropout = dropout
        self.batch_norm_momentum = batch_norm_momentum
        self.conv = keras.layers.Conv2D(
            filters,
            kernel_size,
            padding=padding,
            use_bias=not use_batch_norm,
            dtype=self.dtype_policy,
            name="conv",
        )
        self.batch_norm = (
            keras.layers.BatchNormalization(
                momentum=batch_norm_momentum, dtype=self.dtype_policy, name="batch_norm"
            )
            if use_batch_norm
            else None
        )
        self.pooling = (
            keras.layers.MaxPooling2D(pool_size, dtype=self.dtype_policy, name="pooling")
            if pool_size
            else None
        )
        self.dropout_layer = (
            keras.layers.Dropout(dropout, dtype=self.dtype_policy, name="dropout")
            if dropout
            else None
        )

    def build(self, input_shape):
        self.conv.build(input_shape)
        features_shape = self.conv.compute_output_shape(input_shape)
        if self.batch_norm is not None:
            self.batch_norm.build(features_shape)

    def call(self, inputs, training=None):
        features = self.conv(inputs)
        if self.batch_norm is not None:
            features = self.batch_norm(features, training=training)
        features = self.activation(features)
        if self.pooling is not None:
            features = self.pooling(features)
        if self.dropout_layer is not None:
            features = self.dropout_layer(features, training=training)
        return features

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "pool_size": self.pool_size,
                "use_batch_norm": self.use_batch_norm,
                "activation": keras.activations.serialize(self.activation),
                "padding": self.padding,
                "dropout": self.dropout,
                "batch_norm_momentum": self.batch_norm_momentum,
            }
        )
        return config

    def compute_output_shape(self, input_shape):
        output_shape = self.conv.compute_output_shape(input_shape)
        if self.pooling is not None:
            output_shape = self.pooling.compute_output_shape(output_shape)
        return output_shape
