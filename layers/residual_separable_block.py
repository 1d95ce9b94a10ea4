"""Two pre-activated separable convolutions and max pooling, plus a projected shortcut."""

import keras


@keras.saving.register_keras_serializable(package="apptk")
class ResidualSeparableBlock(keras.layers.Layer):
    """Two pre-activated separable convolutions and max pooling, plus a projected shortcut.

    The stage of the small Xception-like network that Chollet trains from scratch on 2,000
    cats-vs-dogs photos (Deep Learning with Python, 2nd ed., section 9.3; Keras' "image
    classification from scratch" example): batch norm (`batch_norm_1`), the activation, a
    depthwise-separable convolution (`conv_1`, Chollet, 2017), the same again (`batch_norm_2`,
    `conv_2`), then a 3x3 max pooling of stride `strides` (`pooling`). The shortcut, the
    residual connection of He et al. (2016), brings the inputs to the pooled size by average
    pooling (`shortcut_pooling`), then to `filters` channels by a 1x1 convolution
    (`shortcut`): the "ResNet-D" shortcut of He et al. (2019), which, unlike a strided 1x1
    convolution, sees every input pixel. The output is their sum, not activated: the next
    block (or the network's head) normalizes it first.

    Separable convolutions need far fewer weights and operations than full ones, which
    matters when a model learns from a few thousand photos on a CPU. The convolutions have
    no bias: each output goes into a batch norm (this block's second, or the next block's
    first), whose offset replaces it. Inputs are channels-last images.

    Args:
        filters: int. The output channels of both convolutions and of the shortcut.
        kernel_size: int or tuple of 2 ints. The separable convolutions' window.
        strides: int. The stride of both poolings; 1 keeps the size (no pooling).
        activation: str or callable. The activation before each convolution.
        batch_norm_momentum: float. The momentum of the batch norms' moving statistics; 0.9
            follows them more closely when an epoch has few steps.
        **kwargs: other keyword arguments passed to `keras.layers.Layer`, such as `name` and
            `dtype`.

    Call arguments:
        inputs: a tensor of shape `(batch, height, width, channels)`.
        training: bool. Whether batch norm runs in training mode.

    Example:

    ```python
    images = keras.random.uniform((2, 32, 32, 16))
    block = ResidualSeparableBlock(32)
    features = block(images)  # (2, 16, 16, 32)
    ```

    References:
        - [Chollet, 2017](https://arxiv.org/abs/1610.02357)
        - [He et al., 2016](https://arxiv.org/abs/1603.05027)
        - [He et al., 2019](https://arxiv.org/abs/1812.01187)
        - [Keras example](https://keras.io/examples/vision/image_classification_from_scratch/)
    """

    def __init__(
        self,
        filters: int,
        kernel_size=3,
        strides: int = 2,
        activation="relu",
        batch_norm_momentum: float = 0.99,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.activation = keras.activations.get(activation)
        self.batch_norm_momentum = batch_norm_momentum
        self.batch_norm_1 = self._batch_norm("batch_norm_1")
        self.conv_1 = self._separable_conv("conv_1")
        self.batch_norm_2 = self._batch_norm("batch_norm_2")
        self.conv_2 = self._separable_conv("conv_2")
        self.pooling = (
            keras.layers.MaxPooling2D(
                3, strides=strides, padding="same", dtype=self.dtype_policy, name="pooling"
            )
            if strides > 1
            else None
        )
        self.shortcut_pooling = (
            keras.layers.AveragePooling2D(
                strides, padding="same", dtype=self.dtype_policy, name="shortcut_pooling"
            )
            if strides > 1
            else None
        )
        self.shortcut = keras.layers.Conv2D(
            filters, 1, use_bias=False, dtype=self.dtype_policy, name="shortcut"
        )

    def _batch_norm(self, name: str) -> keras.layers.BatchNormalization:
        return keras.layers.BatchNormalization(
            momentum=self.batch_norm_momentum, dtype=self.dtype_policy, name=name
        )

    def _separable_conv(self, name: str) -> keras.layers.SeparableConv2D:
        return keras.layers.SeparableConv2D(
            self.filters,
            self.kernel_size,
            padding="same",
            use_bias=False,
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, input_shape):
        self.batch_norm_1.build(input_shape)
        self.conv_1.build(input_shape)
        features_shape = self.conv_1.compute_output_shape(input_shape)
        self.batch_norm_2.build(features_shape)
        self.conv_2.build(features_shape)
        self.shortcut.build(input_shape)

    def call(self, inputs, training=None):
        features = self.conv_1(self.activation(self.batch_norm_1(inputs, training=training)))
        features = self.conv_2(self.activation(self.batch_norm_2(features, training=training)))
        shortcut = inputs
        if self.pooling is not None:
            features = self.pooling(features)
            shortcut = self.shortcut_pooling(shortcut)
        return features + self.shortcut(shortcut)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "activation": keras.activations.serialize(self.activation),
                "batch_norm_momentum": self.batch_norm_momentum,
            }
        )
        return config

    def compute_output_shape(self, input_shape):
        if self.pooling is not None:
            input_shape = self.pooling.compute_output_shape(input_shape)
        return self.shortcut.compute_output_shape(input_shape)
