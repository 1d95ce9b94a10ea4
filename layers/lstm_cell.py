"""Long short-term memory (LSTM) cell."""

import keras
from keras import ops

from apptk.layers.recurrent_cell import RecurrentCell


@keras.saving.register_keras_serializable(package="apptk")
class LSTMCell(RecurrentCell):
    """Long short-term memory cell: one step of an LSTM.

    The cell keeps an output state `h` and a cell state `c`. From the input `x_t` and `h_{t-1}` it
    computes the input gate `i = recurrent_activation(x_t W_i + h_{t-1} U_i + b_i)`, the forget
    gate `f` and the output gate `o` alike, and the candidate
    `g = activation(x_t W_c + h_{t-1} U_c + b_c)`; then `c_t = f * c_{t-1} + i * g` and
    `h_t = o * activation(c_t)` (Hochreiter and Schmidhuber, 1997, with the forget gate of Gers et
    al., 2000). The four gates are packed in the order `i, f, c, o`: `kernel` has shape
    `(input_dim, 4 * units)`, `recurrent_kernel` `(units, 4 * units)` and `bias` `(4 * units,)`, the
    layout of `keras.layers.LSTMCell`, so weights copy across with `set_weights`. The cell computes
    one step; `keras.layers.RNN(cell)` runs it over a sequence, with masking (a masked step keeps
    both previous states), `initial_state=[h, c]`, `return_state` and `go_backwards`. With
    `dropout` or `recurrent_dropout`, one mask for `x_t` and one for `h_{t-1}` are drawn per
    sequence and reused at every step and by every gate (Gal and Ghahramani, 2016); the cell state
    is never dropped.

    Args:
        units: int. Size of the output and of each state.
        activation: activation of the candidate and of the cell state on output. Defaults to
            `"tanh"`.
        recurrent_activation: activation of the gates `i`, `f` and `o`. Defaults to `"sigmoid"`.
        use_bias: bool. Whether to add the bias `b`.
        kernel_initializer: initializer for `W`.
        recurrent_initializer: initializer for `U`.
        bias_initializer: initializer for `b`.
        unit_forget_bias: bool. Whether to initialise the forget gate's bias to ones instead of
            with `bias_initializer`, so the cell remembers by default (Jozefowicz et al., 2015).
        dropout: float in `[0, 1)`. Fraction of the input features dropped during training.
        recurrent_dropout: float in `[0, 1)`. Fraction of the units of `h_{t-1}` dropped during
            training before they enter the gates.
        seed: int or None. Seed for the dropout masks.
        **kwargs: other keyword arguments passed to `keras.layers.Layer`, such as `name` and
            `dtype`.

    Call arguments:
        inputs: a tensor of shape `(batch, input_dim)`, the input at one time step.
        states: the list `[h_{t-1}, c_{t-1}]`, each of shape `(batch, units)`.
        training: bool. Whether to apply dropout. Defaults to False.

    Returns the output `h_t` and the new states `[h_t, c_t]`.

    Example:

    ```python
    sequences = np.random.uniform(size=(2, 5, 3))
    rnn = keras.layers.RNN(apptk.layers.LSTMCell(8), return_state=True)
    output, h, c = rnn(sequences)  # each (2, 8); output equals h
    ```

    References:
        - [Hochreiter and Schmidhuber, 1997](https://doi.org/10.1162/neco.1997.9.8.1735)
        - [Gers et al., 2000](https://doi.org/10.1162/089976600300015015)
        - [Jozefowicz et al., 2015](https://proceedings.mlr.press/v37/jozefowicz15.html)
        - [Gal and Ghahramani, 2016](https://arxiv.org/abs/1512.05287)
    """

    def __init__(
        self,
        units: int,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias: bool = True,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(
            units,
            gates=4,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            **kwargs,
        )
        self.recurrent_activation = keras.activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias
        self.state_size = [units, units]

    def initialize_bias(self, shape, dtype=None):
        bias = super().initialize_bias(shape, dtype=dtype)
        if not self.unit_forget_bias:
            return bias
        # One draw for all four gates, so a seeded initializer does not repeat b_i in b_c.
        b_i, _, b_c, b_o = ops.split(bias, 4)
        return ops.concatenate([b_i, ops.ones_like(b_i), b_c, b_o])

    def call(self, inputs, states, training=False):
        h_prev, c_prev = states
        x, h_prev = self.dropped(inputs, h_prev, training)

        z = ops.matmul(x, self.kernel) + ops.matmul(h_prev, self.recurrent_kernel)
        if self.use_bias:
            z = z + self.bias
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = f * c_prev + i * self.activation(z_c)
        o = self.recurrent_activation(z_o)
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias,
            }
        )
        return config
