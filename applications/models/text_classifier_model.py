"""A text classifier on a `TextEncoder`: mean of the token vectors → dropout → softmax."""

import keras
from keras import ops

from apptk.applications.models.text_encoder import TextEncoder


@keras.saving.register_keras_serializable(package="apptk")
class TextClassifierModel(keras.Model):
    """Classifies token sequences with an encoder that may come pre-trained (fine-tuning).

    The sentence vector is the mean of the encoder's vectors over the real tokens (padding
    excluded): masked-LM pre-training trains no sentence-level token such as BERT's [CLS].

    Args:
        encoder: a `TextEncoder`, fresh or pre-trained by masked language modelling.
        num_classes: number of labels.
        dropout: dropout before the output layer.

    Call arguments:
        token_ids: `(batch, time)` int ids, 0 for padding.

    Returns:
        Class probabilities `(batch, num_classes)` in float32.

    Example:

    >>> encoder = TextEncoder(100, max_length=16, hidden_dim=32, num_heads=2,
    ...                       intermediate_dim=64, num_layers=1)
    >>> TextClassifierModel(encoder, num_classes=3)(np.ones((2, 7), "int32")).shape
    (2, 3)
    """

    def __init__(self, encoder: TextEncoder, num_classes: int, dropout: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.num_classes = num_classes
        self.dropout = dropout
        self.pooled_dropout = keras.layers.Dropout(dropout)
        self.output_layer = keras.layers.Dense(
            num_classes, activation="softmax", dtype="float32", name="classes"
        )

    def call(self, token_ids, training=None):
        vectors = self.encoder(token_ids, training=training)  # (batch, time, hidden)
        real = ops.cast(ops.not_equal(token_ids, 0), vectors.dtype)[..., None]
        pooled = ops.sum(vectors * real, axis=1) / ops.maximum(ops.sum(real, axis=1), 1.0)
        return self.output_layer(self.pooled_dropout(pooled, training=training))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "num_classes": self.num_classes,
                "dropout": self.dropout,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        return cls(**config)
