"""A word-level recurrent language model from apptk's own cells (simple RNN, LSTM, GRU)."""

import keras
from keras import ops

from apptk.layers import GRUCell, LSTMCell, SimpleRNNCell

CELLS = {"rnn": SimpleRNNCell, "lstm": LSTMCell, "gru": GRUCell}


@keras.saving.register_keras_serializable(package="apptk")
class RecurrentLanguageModel(keras.Model):
    """Embedding → stacked recurrent layers → next-token logits, trained by BPTT.

    Dropout sits on the non-recurrent connections (between embedding, layers and output) as in
    Zaremba et al. (2014); with `tie_weights` the output projection reuses the embedding matrix
    (Press & Wolf, 2017), through a linear projection when `units != embedding_dim`.

    Args:
        vocabulary_size: number of words, padding id 0 included.
        cell: `"rnn"`, `"lstm"` or `"gru"`.
        embedding_dim: word embedding size.
        units: recurrent state size.
        num_layers: stacked recurrent layers.
        dropout: dropout rate between layers.
        tie_weights: share the embedding with the output projection.

    Call arguments:
        token_ids: `(batch, time)` int ids.

    Returns:
        Logits `(batch, time, vocabulary_size)`.

    Example:

    >>> model = RecurrentLanguageModel(100, cell="gru", embedding_dim=16, units=16)
    >>> model(np.ones((2, 7), "int32")).shape
    (2, 7, 100)
    """

    def __init__(
        self,
        vocabulary_size: int,
        cell: str = "lstm",
        embedding_dim: int = 256,
        units: int = 256,
        num_layers: int = 2,
        dropout: float = 0.3,
        tie_weights: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}.")
        self.vocabulary_size = vocabulary_size
        self.cell = cell
        self.embedding_dim = embedding_dim
        self.units = units
        self.num_layers = num_layers
        self.dropout = dropout
        self.tie_weights = tie_weights
        self.embedding = keras.layers.Embedding(
            vocabulary_size, embedding_dim, mask_zero=True, name="embedding"
        )
        self.recurrent_layers = [
            keras.layers.RNN(
                CELLS[cell](units), return_sequences=True, return_state=True, name=f"{cell}_{i}"
            )
            for i in range(num_layers)
        ]
        self.dropout_layer = keras.layers.Dropout(dropout)
        if tie_weights:
            self.output_projection = (
                keras.layers.Dense(embedding_dim, name="output_projection")
                if units != embedding_dim
                else None
            )
        else:
            self.output_dense = keras.layers.Dense(vocabulary_size, name="output_dense")

    def _logits(self, hidden):
        if not self.tie_weights:
            return self.output_dense(hidden)
        if self.output_projection is not None:
            hidden = self.output_projection(hidden)
        return ops.matmul(hidden, ops.transpose(self.embedding.embeddings))

    def step(self, token_ids, states=None, training=None):
        """Reads `token_ids` from `states` (None: zeros) → `(logits, new_states)`."""
        mask = ops.not_equal(token_ids, 0)
        x = self.dropout_layer(self.embedding(token_ids), training=training)
        new_states = []
        for index, layer in enumerate(self.recurrent_layers):
            initial_state = None if states is None else states[index]
            x, *layer_state = layer(x, initial_state=initial_state, mask=mask, training=training)
            x = self.dropout_layer(x, training=training)
            new_states.append(layer_state)
        return self._logits(x), new_states

    def call(self, token_ids, training=None):
        return self.step(token_ids, training=training)[0]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "cell": self.cell,
                "embedding_dim": self.embedding_dim,
                "units": self.units,
                "num_layers": self.num_layers,
                "dropout": self.dropout,
                "tie_weights": self.tie_weights,
            }
        )
        return config
