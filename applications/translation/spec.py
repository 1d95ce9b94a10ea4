"""What a translator is: its kind, configuration, files and Keras model.

Inference, training, evaluation and export all build on this module; it imports none of them.
"""

import dataclasses
import os

from apptk.applications.arguments import (
    AVERAGE_LAST,
    CONCATENATED_SHARE,
    KEEP_INITIAL,
    MAX_LENGTH,
    checked_float,
    checked_int,
)
from apptk.applications.errors import DataError
from apptk.applications.models.transformer_sizes import derived_sizes

KIND = "translation"
SOURCE_VOCABULARY_FILE = "source_vocabulary.txt"
TARGET_VOCABULARY_FILE = "target_vocabulary.txt"


@dataclasses.dataclass
class TranslatorConfig:
    """Everything needed to rebuild a translator; saved as `config.json` beside its weights.

    `num_heads` and `intermediate_dim` follow `hidden_dim` unless given (64 dimensions a head,
    a feed-forward four times as wide), so the command line and Python build the same model.
    `concatenated_share` adds that share of extra training pairs, each a few consecutive
    sentence pairs joined (`training_pairs.concatenated_pairs`), so the model learns inputs
    longer than single sentences; raise `max_length` with it. `average_last` averages the
    weights of that many last epochs when training ends and keeps the average if its
    validation loss is lower than the best epoch's (`run/averaging.py`). `init_from` (a
    fitted translator folder, export or preset) starts training from that model's weights and
    vocabularies, so its size fields replace these (`with_sizes_of`); with `new_vocabularies`
    the run learns vocabularies of this config's sizes from its training data instead and
    carries the initial model's token embeddings over to them (`vocabulary_transfer`).
    `keep_initial` (with `init_from`) mixes that share of the initial weights into the trained
    ones when training ends (`run/averaging.keep_initial_weights`): a fine-tuning on narrow
    data then keeps more of what the initial model knew.
    """

    kind: str = KIND
    source_language: str = "en"
    target_language: str = "es"
    max_length: int = 48
    source_vocabulary_size: int = 6000
    target_vocabulary_size: int = 6000
    hidden_dim: int = 256
    num_heads: int | None = None
    intermediate_dim: int | None = None
    num_encoder_layers: int = 2
    num_decoder_layers: int = 2
    dropout: float = 0.1
    label_smoothing: float = 0.1
    peak_learning_rate: float = 1e-3
    warmup_steps: int = 2000
    tokens_per_batch: int = 1024
    epochs: int = 30
    patience: int = 3
    max_pairs: int | None = None
    concatenated_share: float = 0.0
    average_last: int = 0
    init_from: str | None = None
    new_vocabularies: bool = False
    keep_initial: float = 0.0
    seed: int = 0

    def __post_init__(self):
        self.max_length = checked_int(self.max_length, "max_length", MAX_LENGTH)
        self.concatenated_share = checked_float(
            self.concatenated_share, "concatenated_share", CONCATENATED_SHARE
        )
        self.average_last = checked_int(self.average_last, "average_last", AVERAGE_LAST)
        self.keep_initial = checked_float(self.keep_initial, "keep_initial", KEEP_INITIAL)
        if self.keep_initial and not self.init_from:
            raise DataError("keep_initial mixes in the weights of init_from; give init_from.")
        self.num_heads, self.intermediate_dim = derived_sizes(
            self.hidden_dim, self.num_heads, self.intermediate_dim
        )


VOCABULARY_FIELDS = ("source_vocabulary_size", "target_vocabulary_size")
ARCHITECTURE_FIELDS = (
    *VOCABULARY_FIELDS,
    "hidden_dim",
    "num_heads",
    "intermediate_dim",
    "num_encoder_layers",
    "num_decoder_layers",
)


def with_sizes_of(config: TranslatorConfig, initial: dict) -> TranslatorConfig:
    """`config` with the architecture of the model a run starts from (`initial`, its config),
    the vocabulary sizes excepted when the run learns `new_vocabularies`."""
    kept = VOCABULARY_FIELDS if config.new_vocabularies else ()
    sizes = {name: initial[name] for name in ARCHITECTURE_FIELDS if name not in kept}
    return dataclasses.replace(config, **sizes)


def vocabulary_paths(folder: str) -> tuple[str, str]:
    """The source and target vocabulary files of a model folder."""
    return (
        os.path.join(folder, SOURCE_VOCABULARY_FILE),
        os.path.join(folder, TARGET_VOCABULARY_FILE),
    )


def build_model(config: TranslatorConfig, source_size: int, target_size: int):
    """The `TransformerTranslator` of `config`, built (its weights exist)."""
    import keras

    from apptk.applications.models.transformer_translator import TransformerTranslator

    model = TransformerTranslator(
        source_vocabulary_size=source_size,
        target_vocabulary_size=target_size,
        max_length=config.max_length,
        hidden_dim=config.hidden_dim,
        num_heads=config.num_heads,
        intermediate_dim=config.intermediate_dim,
        num_encoder_layers=config.num_encoder_layers,
        num_decoder_layers=config.num_decoder_layers,
        dropout=config.dropout,
    )
    dummy = keras.ops.ones((1, 2), "int32")
    model({"source": dummy, "target": dummy})
    return model
