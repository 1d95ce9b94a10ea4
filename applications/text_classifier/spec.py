"""What a text classifier is: its kind, configuration, files and Keras model.

Inference, training and evaluation all build on this module; it imports none of them.
"""

import dataclasses

KIND = "text-classifier"
VOCABULARY_FILE = "vocabulary.txt"


@dataclasses.dataclass
class TextClassifierConfig:
    """Hyper-parameters of a text classifier; saved as `config.json` beside its weights.

    The encoder fields are copied from the pre-trained encoder when there is one.
    """

    kind: str = KIND
    labels: list[str] = dataclasses.field(default_factory=list)
    pretrained: bool = True
    max_length: int = 48
    hidden_dim: int = 192
    num_heads: int = 3
    intermediate_dim: int = 768
    num_layers: int = 4
    dropout: float = 0.1
    learning_rate: float | None = None  # 1e-4 to fine-tune, 5e-4 from scratch
    batch_size: int = 32
    epochs: int = 10
    patience: int = 3
    seed: int = 0

    def resolved_learning_rate(self) -> float:
        if self.learning_rate is not None:
            return self.learning_rate
        return 1e-4 if self.pretrained else 5e-4

    def with_encoder_sizes(self, encoder) -> "TextClassifierConfig":
        """This configuration with the sizes of a (pre-trained) `TextEncoder`."""
        return dataclasses.replace(
            self,
            max_length=encoder.max_length,
            hidden_dim=encoder.hidden_dim,
            num_heads=encoder.num_heads,
            intermediate_dim=encoder.intermediate_dim,
            num_layers=encoder.num_layers,
            dropout=encoder.dropout,
        )


def build_classifier(config: TextClassifierConfig, vocabulary_size: int):
    """The classifier around a fresh encoder of the configured size, built."""
    import keras

    from apptk.applications.models.text_classifier_model import TextClassifierModel
    from apptk.applications.models.text_encoder import text_encoder_of

    encoder = text_encoder_of(config, vocabulary_size)
    model = TextClassifierModel(encoder, len(config.labels), dropout=config.dropout)
    model(keras.ops.ones((1, 4), "int32"))
    return model
