"""Fully connected (Elman) recurrent cell."""

import keras
from keras import ops

from apptk.layers.recurrent_cell import RecurrentCell


@keras.saving.register_keras_serializable(package="apptk")
class SimpleRNNCell(RecurrentCell):
    """Fully connected recurrent cell: one step of an Elman network.

    At each time step the cell mixes the input `x_t` with its previous state `h_{t-1}`:
    `h_t = activation(x_t W + h_{t-1} U + b)`, and returns `h_t` both as its output and as its new
    state (Elman, 1990). `W` is `kernel` of shape `(input_dim, units)`, `U` is `recurrent_kernel`
    of shape `(units, units)` and `b` is `bias` of shape `(units,)`, the layout of
    `keras.layers.SimpleRNNCell`, so weights copy across with `set_weights`. The cell computes one
    step; `keras.layers.RNN(cell)` runs it over a sequence, with masking (a masked step keeps the
    previous state), `initial_state`, `return_state` and `go_backwards`. With `dropout` or
    `recurrent_dropout`, one mask for `x_t` and one for `h_{t-1}` are drawn per sequence and reused
    at every step (Gal and Ghahramani, 2016).

    Args:
        units: int. Size of the output and of the state.
        activation: activation applied to the new state. Defaults to `"tanh"`; `None` is linear.
        use_bias: bool. Whether to add the bias `b`.
        kernel_initializer: initializer for `W`.
        recurrent_initializer: initializer for `U`.
        bias_initializer: initializer for `b`.
        dropout: float in `[0, 1)`. Fraction of the input features dropped during training.
        recurrent_dropout: float in `[0, 1)`. Fraction of the state units dropped during
            training before they enter `h_{t-1} U`.
        seed: int or None. Seed for the dropout masks.
        **kwargs: other keyword arguments passed to `keras.layers.Layer`, such as `name` and
            `dtype`.

    Call arguments:
        inputs: a tensor of shape `(batch, input_dim)`, the input at one time step.
        states: a list holding the previous state `h_{t-1}`, of shape `(batch, units)`.
        training: bool. Whether to apply dropout. Defaults to False.

    Returns the output `h_t` and the new states `[h_t]`.

    Example:

    ```python
    sequences = np.random.uniform(size=(2, 5, 3))
    rnn = keras.layers.RNN(apptk.layers.SimpleRNNCell(8), return_state=True)
    output, state = rnn(sequences)  # both (2, 8), equal
    ```

    References:
        - [Elman, 1990. Finding structure in time](https://doi.org/10.1207/s15516709cog1402_1)
        - [Gal and Ghahramani, 2016](https://arxiv.org/abs/1512.05287)
    """

    def __init__(
        self,
        units: int,
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
        super().__init__(
            units,
            gates=1,
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
        self.state_size = units

    def call(self, inputs, states, training=False):
        states_are_list = isinstance(states, (list, tuple))
        h_prev = states[0] if states_are_list else states
        x, h_prev = self.dropped(inputs, h_prev, training)

        h = ops.matmul(x, self.kernel) + ops.matmul(h_prev, self.recurrent_kernel)
        if self.use_bias:
            h = h + self.bias
        h = self.activation(h)
        return h, [h] if states_are_list else h
