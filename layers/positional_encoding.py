"""Fixed sinusoidal positional encoding."""

import keras
from keras import ops

from apptk.layers.position_range import check_positions_fit


@keras.saving.register_keras_serializable(package="apptk")
class PositionalEncoding(keras.layers.Layer):
    """Fixed sinusoidal positional encoding.

    Computes the encoding of Vaswani et al. (2017) for each position of the input sequence,
    interleaving sines and cosines over the feature axis:
    `PE[pos, 2i] = sin(pos / base ** (2i / d))` and `PE[pos, 2i + 1] = cos(pos / base ** (2i / d))`,
    where `d` is the size of the last input axis (an odd `d` ends on a sine). The encoding has no
    weights; it is computed in float32 on the fly and returned in the layer's compute dtype. By
    default it is added to the inputs; with `add_to_inputs=False` the layer returns the encoding
    itself, broadcast to the inputs' shape. Masks pass through unchanged.

    Args:
        max_length: int. The longest sequence the layer accepts; longer inputs raise a
            `ValueError` when their length and `start_index` are known while tracing.
        add_to_inputs: bool. Whether to return `inputs + encoding` (True) or the encoding alone.
        base: float. The wavelength base; wavelengths range from `2 * pi` to `base * 2 * pi`.
        **kwargs: other keyword arguments passed to `keras.layers.Layer`, such as `name` and
            `dtype`.

    Call arguments:
        inputs: a tensor of shape `(batch, sequence_length, d)`.
        start_index: int or scalar integer tensor. The position of the first input step, e.g.
            the current step when decoding one token at a time. Defaults to 0.

    Example:

    ```python
    tokens = keras.random.uniform((2, 10, 16))
    encoded = PositionalEncoding(max_length=64)(tokens)  # (2, 10, 16)
    # One decoding step at position 7 sees the same encoding as step 7 of the full sequence.
    step = PositionalEncoding(max_length=64)(tokens[:, 7:8], start_index=7)
    ```

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
    """

    def __init__(
        self,
        max_length: int = 2048,
        add_to_inputs: bool = True,
        base: float = 10000.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.add_to_inputs = add_to_inputs
        self.base = base
        self.supports_masking = True

    def call(self, inputs, start_index=0):
        check_positions_fit("PositionalEncoding", start_index, inputs.shape[-2], self.max_length)
        shape = ops.shape(inputs)
        feature_size = shape[-1]
        positions = ops.arange(shape[-2], dtype="float32") + ops.cast(start_index, "float32")
        channels = ops.arange(feature_size, dtype="int32")
        even_channels = ops.cast(channels - channels % 2, "float32")
        inverse_frequencies = ops.power(
            ops.cast(self.base, "float32"), -even_channels / ops.cast(feature_size, "float32")
        )
        angles = positions[:, None] * inverse_frequencies[None, :]  # (sequence, d)
        encoding = ops.where(channels % 2 == 0, ops.sin(angles), ops.cos(angles))
        encoding = ops.cast(encoding, self.compute_dtype)
        if self.add_to_inputs:
            return inputs + encoding
        return ops.broadcast_to(encoding, shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "max_length": self.max_length,
                "add_to_inputs": self.add_to_inputs,
                "base": self.base,
            }
        )
        return config
