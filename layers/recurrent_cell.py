"""What the simple RNN, LSTM and GRU cells share: arguments, weights, dropout, config."""

import keras

# `keras.layers.RNN` draws the dropout masks of cells that inherit this mixin once before its time
# loop and clears them after it, so every step of a sequence shares one mask. Keras does not export
# the mixin publicly; its own SimpleRNNCell, LSTMCell and GRUCell rely on it the same way.
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

from apptk.layers.initializers import clone_initializer


class RecurrentCell(keras.layers.Layer, DropoutRNNCell):
    """Base of apptk's recurrent cells; subclasses write `call` from their equations.

    Holds the arguments every cell takes, creates `kernel (input_dim, gates * units)`,
    `recurrent_kernel (units, gates * units)` and `bias` in Keras' own layouts, and applies
    the per-sequence input and recurrent dropout masks. Each weight gets its own clone of its
    initializer (see `clone_initializer`), so one seeded initializer passed for all three does
    not start them equal.

    Args:
        units: size of the output and of each state.
        gates: how many blocks of `units` the kernels hold (1 simple RNN, 3 GRU, 4 LSTM).
        activation: the cell's main activation.
        use_bias: whether to add a bias.
        kernel_initializer: initializer for the input kernel.
        recurrent_initializer: initializer for the recurrent kernel.
        bias_initializer: initializer for the bias.
        dropout: fraction of the input features dropped during training.
        recurrent_dropout: fraction of the previous output dropped during training.
        seed: seed for the dropout masks.
        **kwargs: standard layer arguments.
    """

    def __init__(
        self,
        units: int,
        gates: int,
        activation="tanh",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        name = type(self).__name__
        if units <= 0:
            raise ValueError(f"{name} needs a positive number of units, got {units}.")
        if not (0.0 <= dropout < 1.0 and 0.0 <= recurrent_dropout < 1.0):
            raise ValueError(
                f"{name} dropout rates must lie in [0, 1), got dropout={dropout} and "
                f"recurrent_dropout={recurrent_dropout}."
            )
        self.units = units
        self.gates = gates
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.output_size = units

    def bias_shape(self) -> tuple:
        return (self.gates * self.units,)

    def initialize_bias(self, shape, dtype=None):
        return clone_initializer(self.bias_initializer, "bias")(shape, dtype=dtype)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.gates * self.units),
            initializer=clone_initializer(self.kernel_initializer, "kernel"),
            name="kernel",
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.gates * self.units),
            initializer=clone_initializer(self.recurrent_initializer, "recurrent_kernel"),
            name="recurrent_kernel",
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=self.bias_shape(), initializer=self.initialize_bias, name="bias"
            )

    def dropped(self, inputs, previous_output, training):
        """`(inputs, previous_output)` with this sequence's dropout masks applied in training."""
        if training and self.dropout > 0:
            inputs = inputs * self.get_dropout_mask(inputs)
        if training and self.recurrent_dropout > 0:
            previous_output = previous_output * self.get_recurrent_dropout_mask(previous_output)
        return inputs, previous_output

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": keras.activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed,
            }
        )
        return config
