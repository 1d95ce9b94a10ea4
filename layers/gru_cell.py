"""Gated recurrent unit (GRU) cell."""

import keras
from keras import ops

from apptk.layers.recurrent_cell import RecurrentCell


@keras.saving.register_keras_serializable(package="apptk")
class GRUCell(RecurrentCell):
    """Gated recurrent unit cell: one step of a GRU.

    From the input `x_t` and the previous state `h_{t-1}` the cell computes the update gate
    `z = recurrent_activation(x_t W_z + h_{t-1} U_z + b_z)`, the reset gate `r` alike, the
    candidate `h~ = activation(x_t W_h + r * (h_{t-1} U_h + b'_h) + b_h)` and the new state
    `h_t = z * h_{t-1} + (1 - z) * h~` (Cho et al., 2014). By default (`reset_after=True`, the
    cuDNN convention) the reset gate applies after the recurrent product and the recurrent
    products have their own bias `b'`; with `reset_after=False` it applies before, as in the
    paper: `h~ = activation(x_t W_h + (r * h_{t-1}) U_h + b_h)`. The gates are packed in the order
    `z, r, h`: `kernel` has shape `(input_dim, 3 * units)`, `recurrent_kernel`
    `(units, 3 * units)` and `bias` `(2, 3 * units)` (input bias, then recurrent bias), or
    `(3 * units,)` with `reset_after=False`, the layout of `keras.layers.GRUCell`, so weights copy
    across with `set_weights`. The cell computes one step; `keras.layers.RNN(cell)` runs it over a
    sequence, with masking (a masked step keeps the previous state), `initial_state`,
    `return_state` and `go_backwards`. With `dropout` or `recurrent_dropout`, one mask for `x_t`
    and one for `h_{t-1}` are drawn per sequence and reused at every step and by every gate (Gal
    and Ghahramani, 2016); the `z * h_{t-1}` term always sees the undropped state.

    Args:
        units: int. Size of the output and of the state.
        activation: activation of the candidate `h~`. Defaults to `"tanh"`.
        recurrent_activation: activation of the gates `z` and `r`. Defaults to `"sigmoid"`.
        use_bias: bool. Whether to add the biases.
        kernel_initializer: initializer for `W`.
        recurrent_initializer: initializer for `U`.
        bias_initializer: initializer for the biases.
        reset_after: bool. Whether the reset gate applies after the recurrent product (True, the
            Keras and cuDNN default) or before it (False).
        dropout: float in `[0, 1)`. Fraction of the input features dropped during training.
        recurrent_dropout: float in `[0, 1)`. Fraction of the units of `h_{t-1}` dropped during
            training before they enter the gates and the candidate.
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
    rnn = keras.layers.RNN(apptk.layers.GRUCell(8), return_sequences=True)
    outputs = rnn(sequences)  # (2, 5, 8)
    ```

    References:
        - [Cho et al., 2014](https://arxiv.org/abs/1406.1078)
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
        reset_after: bool = True,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(
            units,
            gates=3,
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
        self.reset_after = reset_after
        self.state_size = units

    def bias_shape(self) -> tuple:
        # reset_after keeps separate input and recurrent biases, as Keras' GRU does.
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def call(self, inputs, states, training=False):
        states_are_list = isinstance(states, (list, tuple))
        h_prev = states[0] if states_are_list else states
        x, h_prev_dropped = self.dropped(inputs, h_prev, training)

        x_projected = ops.matmul(x, self.kernel)
        if self.use_bias:
            x_projected = x_projected + (self.bias[0] if self.reset_after else self.bias)
        x_z, x_r, x_h = ops.split(x_projected, 3, axis=-1)

        if self.reset_after:
            h_projected = ops.matmul(h_prev_dropped, self.recurrent_kernel)
            if self.use_bias:
                h_projected = h_projected + self.bias[1]
            h_z, h_r, h_h = ops.split(h_projected, 3, axis=-1)
            z = self.recurrent_activation(x_z + h_z)
            r = self.recurrent_activation(x_r + h_r)
            candidate = self.activation(x_h + r * h_h)
        else:
            h_z_r = ops.matmul(h_prev_dropped, self.recurrent_kernel[:, : 2 * self.units])
            h_z, h_r = ops.split(h_z_r, 2, axis=-1)
            z = self.recurrent_activation(x_z + h_z)
            r = self.recurrent_activation(x_r + h_r)
            reset_h = r * h_prev_dropped
            candidate = self.activation(
                x_h + ops.matmul(reset_h, self.recurrent_kernel[:, 2 * self.units :])
            )

        h = z * h_prev + (1 - z) * candidate
        return h, [h] if states_are_list else h

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
                "reset_after": self.reset_after,
            }
        )
        return config
