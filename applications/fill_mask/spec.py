"""What a masked language model is: its kind, configuration, files and Keras model.

Inference, training, evaluation and export all build on this module; it imports none of them.
"""

import dataclasses

from apptk.applications.models.transformer_sizes import derived_sizes

KIND = "fill-mask"
VOCABULARY_FILE = "vocabulary.txt"
MASK_TOKEN = "[MASK]"


@dataclasses.dataclass
class FillMaskConfig:
    """Hyper-parameters of a masked language model; saved as `config.json` beside its weights.

    `num_heads` and `intermediate_dim` follow `hidden_dim` unless given (64 dimensions a head,
    a feed-forward four times as wide), so the command line and Python build the same model.
    """

    kind: str = KIND
    vocabulary_size: int = 6000
    max_length: int = 48
    hidden_dim: int = 192
    num_heads: int | None = None
    intermediate_dim: int | None = None
    num_layers: int = 4
    dropout: float = 0.1
    mask_rate: float = 0.15
    batch_size: int = 64
    peak_learning_rate: float = 1e-3
    warmup_steps: int = 1000
    epochs: int = 40
    patience: int = 3
    seed: int = 0

    def __post_init__(self):
        self.num_heads, self.intermediate_dim = derived_sizes(
            self.hidden_dim, self.num_heads, self.intermediate_dim
        )


def build_masked_language_model(config: FillMaskConfig, vocabulary_size: int):
    """The `MaskedLanguageModel` of `config` around a fresh encoder, built."""
    import keras

    from apptk.applications.fill_mask.data import max_predictions
    from apptk.applications.models.masked_language_model import MaskedLanguageModel
    from apptk.applications.models.text_encoder import text_encoder_of

    model = MaskedLanguageModel(text_encoder_of(config, vocabulary_size))
    width = max_predictions(config.max_length, config.mask_rate)
    model(
        {
            "token_ids": keras.ops.ones((1, 4), "int32"),
            "mask_positions": keras.ops.zeros((1, width), "int32"),
        }
    )
    return model
