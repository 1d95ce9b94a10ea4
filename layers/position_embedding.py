"""Learned position embedding."""

import keras
from keras import ops

from apptk.layers.position_range import check_positions_fit


@keras.saving.register_keras_serializable(package="apptk")
class PositionEmbedding(keras.layers.Layer):
    """Learned position embedding.

    Learns one vector per position, as in BERT and GPT, in a weight `embeddings` of shape
    `(max_length, d)` where `d` is the size of the last input axis. The layer returns the rows
    for positions `start_index` to `start_index + sequence_length - 1`, broadcast to the inputs'
    shape, so it is usually added to a token embedding. The inputs only give the shape; their
    values are ignored. Masks pass through unchanged.

    Args:
        max_length: int. The number of positions learned, i.e. the longest sequence accepted.
        initializer: str or `keras.initializers.Initializer`. Initializer of `embeddings`.
        **kwargs: other keyword arguments passed to `keras.layers.Layer`, such as `name` and
            `dtype`.

    Call arguments:
        inputs: a tensor of shape `(batch, sequence_length, d)`.
        start_index: int or scalar integer tensor. The position of the first input step, e.g.
            the current step when decoding one token at a time. Defaults to 0.

    Example:

    ```python
    token_vectors = keras.random.uniform((2, 10, 16))
    positions = PositionEmbedding(max_length=64)(token_vectors)  # (2, 10, 16)
    outputs = token_vectors + positions
    ```

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805)
        - [Radford et al., 2019](https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf)
    """

    def __init__(self, max_length: int, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.initializer = keras.initializers.get(initializer)
        self.supports_masking = True

    def build(self, input_shape):
        feature_size = input_shape[-1]
        if feature_size is None:
            raise ValueError(
                "PositionEmbedding needs a known last input dimension; got input shape "
                f"{input_shape}."
            )
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(self.max_length, feature_size),
            initializer=self.initializer,
            trainable=True,
        )

    def call(self, inputs, start_index=0):
        check_positions_fit("PositionEmbedding", start_index, inputs.shape[-2], self.max_length)
        shape = ops.shape(inputs)
        embeddings = ops.cast(self.embeddings, self.compute_dtype)
        positions = ops.slice(
            embeddings, (ops.cast(start_index, "int32"), 0), (shape[-2], shape[-1])
        )  # (sequence, d)
        return ops.broadcast_to(positions, shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "max_length": self.max_length,
                "initializer": keras.initializers.serialize(self.initializer),
            }
        )
        return config
