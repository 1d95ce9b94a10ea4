"""The masked-language-model head on a `TextEncoder` (BERT's pre-training objective)."""

import keras
from keras import ops

from apptk.applications.models.text_encoder import TextEncoder


@keras.saving.register_keras_serializable(package="apptk")
class MaskedLanguageModel(keras.Model):
    """Predicts the original tokens at chosen positions of a (masked) token sequence.

    The encoder reads the whole sequence; only the vectors at `mask_positions` go through
    the head (dense + GELU + layer norm, then the tied token embedding and a bias, as in
    BERT), so the vocabulary projection costs a few positions per sentence, not all.

    Args:
        encoder: a `TextEncoder`.

    Call arguments:
        inputs: a dict with `token_ids` `(batch, time)` (masked input, 0 = padding) and
            `mask_positions` `(batch, predictions)` int indices into time (padded
            predictions may point anywhere; their labels are 0 and the loss skips them).

    Returns:
        Logits `(batch, predictions, vocabulary_size)` in float32.

    Example:

    >>> encoder = TextEncoder(100, max_length=16, hidden_dim=32, num_heads=2,
    ...                       intermediate_dim=64, num_layers=1)
    >>> model = MaskedLanguageModel(encoder)
    >>> model({"token_ids": np.ones((2, 7), "int32"),
    ...        "mask_positions": np.zeros((2, 3), "int32")}).shape
    (2, 3, 100)
    """

    def __init__(self, encoder: TextEncoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.transform = keras.layers.Dense(
            encoder.hidden_dim, activation="gelu", name="head_transform"
        )
        self.head_norm = keras.layers.LayerNormalization(epsilon=1e-5, name="head_norm")

    def build(self, input_shape):
        # The head is built here, not on the first call, so that loading a `.keras` file
        # (which builds the model, then restores weights) restores the head's weights too.
        vectors_shape = (None, None, self.encoder.hidden_dim)
        self.transform.build(vectors_shape)
        self.head_norm.build(vectors_shape)
        self.output_bias = self.add_weight(
            shape=(self.encoder.vocabulary_size,), initializer="zeros", name="output_bias"
        )
        self.built = True

    def call(self, inputs, training=None):
        sequence = self.encoder(inputs["token_ids"], training=training)
        positions = ops.cast(inputs["mask_positions"], "int32")
        chosen = ops.take_along_axis(sequence, positions[..., None], axis=1)  # (b, p, hidden)
        chosen = self.head_norm(self.transform(chosen))
        logits = self.encoder.embedding.logits(ops.cast(chosen, "float32"))
        return logits + ops.cast(self.output_bias, "float32")

    def get_config(self):
        config = super().get_config()
        config["encoder"] = keras.saving.serialize_keras_object(self.encoder)
        return config

    @classmethod
    def from_config(cls, config):
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        return cls(**config)
