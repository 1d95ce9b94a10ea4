"""What a next-word model is: its kind, configuration, files and Keras model.

Inference, training, evaluation and export all build on this module; it imports none of them.
"""

import dataclasses

from apptk.applications.models.transformer_sizes import derived_sizes

KIND = "next-word"
RECURRENT_CELLS = ("rnn", "lstm", "gru")
ARCHITECTURES = (*RECURRENT_CELLS, "transformer")
VOCABULARY_FILE = "vocabulary.txt"


@dataclasses.dataclass
class NextWordConfig:
    """Hyper-parameters of a next-word model; saved as `config.json` beside its weights.

    `units` sizes the model: the embedding follows it unless `embedding_dim` is given, and a
    Transformer (`cell="transformer"`, width `embedding_dim`) gets a head per 64 dimensions
    and a feed-forward four times as wide unless `num_heads` / `intermediate_dim` are given.
    """

    kind: str = KIND
    cell: str = "lstm"
    vocabulary_size: int = 10_000
    min_count: int = 2
    embedding_dim: int | None = None
    units: int = 256
    num_layers: int = 2
    num_heads: int | None = None
    intermediate_dim: int | None = None
    dropout: float = 0.3
    tie_weights: bool = True
    sequence_length: int = 35
    batch_size: int = 32
    learning_rate: float = 2e-3
    epochs: int = 20
    patience: int = 2
    seed: int = 0

    def __post_init__(self):
        if self.embedding_dim is None:
            self.embedding_dim = self.units
        self.num_heads, self.intermediate_dim = derived_sizes(
            self.embedding_dim, self.num_heads, self.intermediate_dim
        )

    @property
    def context_length(self) -> int | None:
        """The longest context the model reads: a Transformer's window, None for a cell."""
        return self.sequence_length if self.cell == "transformer" else None


def build_language_model(config: NextWordConfig, vocabulary_size: int):
    """The Keras language model of `config`, built (its weights exist)."""
    import keras

    from apptk.applications.models.recurrent_language_model import RecurrentLanguageModel
    from apptk.applications.models.transformer_language_model import TransformerLanguageModel

    if config.cell == "transformer":
        model = TransformerLanguageModel(
            vocabulary_size,
            max_length=config.sequence_length,
            hidden_dim=config.embedding_dim,
            num_heads=config.num_heads,
            intermediate_dim=config.intermediate_dim,
            num_layers=config.num_layers,
            dropout=config.dropout,
        )
    else:
        model = RecurrentLanguageModel(
            vocabulary_size,
            cell=config.cell,
            embedding_dim=config.embedding_dim,
            units=config.units,
            num_layers=config.num_layers,
            dropout=config.dropout,
            tie_weights=config.tie_weights,
        )
    model(keras.ops.ones((1, 2), "int32"))
    return model
