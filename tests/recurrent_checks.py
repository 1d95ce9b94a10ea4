"""Checks shared by the tests of apptk's recurrent cells (`SimpleRNNCell`, `LSTMCell`, `GRUCell`).

A cell is always run by `keras.layers.RNN`, and compared with the Keras layer that has the same
weight layout (`keras.layers.SimpleRNN`, `LSTM` or `GRU`), whose constructor takes the same
arguments as the cell. Each cell's test file states which arguments and which Keras layer.
"""

import os
import tempfile

import keras
import numpy as np
from keras import ops
from layer_checks import check_gradients_reach_every_weight


def random_sequences(batch: int, time: int, features: int, seed: int = 0) -> np.ndarray:
    """Inputs in [0.1, 1), so that no real step is all zeros and `keras.layers.Masking` drops none."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.1, 1.0, size=(batch, time, features)).astype("float32")


def _sequence_layer(cell, **kwargs):
    return keras.layers.RNN(cell, return_sequences=True, return_state=True, **kwargs)


def _state_sizes(cell):
    return cell.state_size if isinstance(cell.state_size, (list, tuple)) else [cell.state_size]


def _assert_close(actual, expected, atol):
    actual, expected = ops.convert_to_numpy(actual), ops.convert_to_numpy(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    difference = np.max(np.abs(actual.astype("float64") - expected.astype("float64")))
    assert difference < atol, f"max abs difference {difference} >= {atol}"


def _built_pair(cell_class, init_kwargs, sequences, seed=None):
    """Two `RNN(cell)` layers with identical random weights (and dropout seeds)."""
    first = _sequence_layer(cell_class(**init_kwargs, seed=seed))
    second = _sequence_layer(cell_class(**init_kwargs, seed=seed))
    first.build(sequences.shape)
    second.build(sequences.shape)
    _set_random_weights(first)
    second.set_weights(first.get_weights())
    return first, second


def _set_random_weights(layer, seed=0):
    rng = np.random.default_rng(seed)
    layer.set_weights(
        [rng.normal(scale=0.5, size=w.shape).astype(w.dtype) for w in layer.get_weights()]
    )


def check_matches_keras(
    cell_class,
    keras_layer_class,
    init_kwargs,
    sequences,
    initial_state=None,
    training=False,
    atol=1e-5,
):
    """`RNN(cell)` and the Keras layer give the same sequence and states once given the same weights.

    The weights are random (not the initial ones) so that every bias and gate block matters. With
    `training=True` both must also draw the same dropout masks from the same `seed`.
    """
    ours = _sequence_layer(cell_class(**init_kwargs))
    theirs = keras_layer_class(**init_kwargs, return_sequences=True, return_state=True)
    ours.build(sequences.shape)
    theirs.build(sequences.shape)
    _set_random_weights(theirs)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    ours.set_weights(theirs.get_weights())

    expected = theirs(sequences, initial_state=initial_state, training=training)
    actual = ours(sequences, initial_state=initial_state, training=training)
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected):
        _assert_close(got, want, atol)


def check_initial_state_is_used_and_returned(cell_class, init_kwargs, sequences, split=2):
    """States passed in start the recurrence; states returned continue it exactly."""
    rnn, _ = _built_pair(cell_class, init_kwargs, sequences)
    rng = np.random.default_rng(1)
    batch = sequences.shape[0]
    initial_state = [
        rng.normal(size=(batch, size)).astype("float32") for size in _state_sizes(rnn.cell)
    ]

    outputs, *final_state = rnn(sequences, initial_state=initial_state)
    from_zeros, *_ = rnn(sequences)
    assert not np.allclose(ops.convert_to_numpy(outputs), ops.convert_to_numpy(from_zeros))

    head, *middle_state = rnn(sequences[:, :split], initial_state=initial_state)
    tail, *tail_state = rnn(sequences[:, split:], initial_state=middle_state)
    _assert_close(ops.concatenate([head, tail], axis=1), outputs, 1e-6)
    for got, want in zip(tail_state, final_state):
        _assert_close(got, want, 1e-6)


def check_masked_steps_keep_state(cell_class, init_kwargs, sequences, lengths):
    """A zero-padded batch behind `keras.layers.Masking` ends where each sequence ends alone."""
    inputs = keras.Input(shape=(None, sequences.shape[-1]))
    rnn = keras.layers.RNN(cell_class(**init_kwargs), return_state=True)
    model = keras.Model(inputs, rnn(keras.layers.Masking(mask_value=0.0)(inputs)))
    _set_random_weights(rnn)

    padded = sequences.copy()
    for row, length in enumerate(lengths):
        padded[row, length:] = 0.0
    batch_results = model(padded)
    for row, length in enumerate(lengths):
        alone_results = model(sequences[row : row + 1, :length])
        for from_batch, alone in zip(batch_results, alone_results):
            _assert_close(from_batch[row : row + 1], alone, 1e-6)


def check_dropout_only_in_training(cell_class, init_kwargs, sequences, rates):
    """Dropout changes the outputs in training only; at rate 0 training changes nothing."""
    without_dropout = {**init_kwargs, "dropout": 0.0, "recurrent_dropout": 0.0}
    plain, _ = _built_pair(cell_class, without_dropout, sequences)
    np.testing.assert_array_equal(
        ops.convert_to_numpy(plain(sequences, training=True)[0]),
        ops.convert_to_numpy(plain(sequences, training=False)[0]),
    )

    dropping = _sequence_layer(cell_class(**init_kwargs, **rates, seed=3))
    dropping.build(sequences.shape)
    dropping.set_weights(plain.get_weights())
    inference = dropping(sequences, training=False)[0]
    _assert_close(inference, plain(sequences)[0], 1e-6)
    training = dropping(sequences, training=True)[0]
    assert np.max(np.abs(ops.convert_to_numpy(training - inference))) > 1e-3


def check_dropout_masks_shared_across_steps(cell_class, init_kwargs, sequences, rates, seed=5):
    """`RNN(cell)` in training applies one input mask and one state mask to every step.

    Called step by step outside `RNN`, a cell draws its masks at the first step and keeps them, in
    the same order (inputs, then state) as `RNN` draws them before its loop. Both cells start from
    the same seed, so equal outputs mean `RNN` did not draw new masks at later steps. A second
    call must draw new masks.
    """
    rnn, step_layer = _built_pair(cell_class, {**init_kwargs, **rates}, sequences, seed=seed)
    step_cell = step_layer.cell
    outputs = rnn(sequences, training=True)[0]

    batch = sequences.shape[0]
    states = [ops.zeros((batch, size)) for size in _state_sizes(step_cell)]
    step_outputs = []
    for t in range(sequences.shape[1]):
        output, states = step_cell(sequences[:, t], states, training=True)
        step_outputs.append(output)
    _assert_close(ops.stack(step_outputs, axis=1), outputs, 1e-6)

    next_outputs = rnn(sequences, training=True)[0]
    assert np.max(np.abs(ops.convert_to_numpy(next_outputs - outputs))) > 1e-3


def check_trains_with_dropout(cell_class, init_kwargs, sequences, rates):
    """`model.fit` (a traced train step) with dropout runs and updates every weight."""
    model = keras.Sequential(
        [
            keras.Input(shape=sequences.shape[1:]),
            keras.layers.RNN(cell_class(**init_kwargs, **rates)),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    targets = np.zeros((sequences.shape[0], model.output_shape[-1]), "float32")
    before = model.get_weights()
    history = model.fit(sequences, targets, batch_size=2, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    for old, new in zip(before, model.get_weights()):
        assert np.any(old != new)


def check_saved_model_round_trip(cell_class, init_kwargs, sequences):
    """A `Sequential([Input, RNN(cell)])` saved as `.keras` reloads (safe mode) to the same outputs."""
    model = keras.Sequential(
        [keras.Input(shape=sequences.shape[1:]), keras.layers.RNN(cell_class(**init_kwargs))]
    )
    _set_random_weights(model)
    expected = model(sequences)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        restored = keras.saving.load_model(path, safe_mode=True)
    assert type(restored.layers[-1].cell) is cell_class
    assert restored.layers[-1].cell.get_config() == model.layers[-1].cell.get_config()
    _assert_close(restored(sequences), expected, 1e-6)


def check_mixed_precision_run(cell_class, init_kwargs, sequences):
    """Under `mixed_float16` weights stay float32, the cell computes in float16, close to float32."""
    full_precision, _ = _built_pair(cell_class, init_kwargs, sequences)
    expected = full_precision(sequences)
    keras.config.set_dtype_policy("mixed_float16")
    try:
        mixed = _sequence_layer(cell_class(**init_kwargs))
        mixed.build(sequences.shape)
        mixed.set_weights(full_precision.get_weights())
        actual = mixed(sequences)
    finally:
        keras.config.set_dtype_policy("float32")
    assert mixed.cell.compute_dtype == "float16"
    assert [w.dtype for w in mixed.weights] == ["float32"] * len(mixed.weights)
    for got, want in zip(actual, expected):
        assert keras.backend.standardize_dtype(got.dtype) == "float16"
        _assert_close(got, want, 1e-2)


def check_gradients_reach_weights(cell_class, init_kwargs, sequences):
    """Gradients of every output reach `kernel`, `recurrent_kernel` and `bias`."""
    check_gradients_reach_every_weight(
        lambda **kwargs: _sequence_layer(cell_class(**kwargs)), init_kwargs, sequences, None
    )
    rnn = _sequence_layer(cell_class(**init_kwargs))
    rnn.build(sequences.shape)
    assert [w.name for w in rnn.trainable_weights] == ["kernel", "recurrent_kernel", "bias"]


def check_gradients_match_finite_differences(cell_class, init_kwargs, epsilon=1e-6):
    """Autodiff gradients of a tiny float64 run equal central finite differences."""
    import tensorflow as tf

    sequences = random_sequences(batch=2, time=3, features=2).astype("float64")
    rnn = keras.layers.RNN(
        cell_class(**init_kwargs, dtype="float64"), return_sequences=True, dtype="float64"
    )
    rnn.build(sequences.shape)
    _set_random_weights(rnn)
    probe = np.random.default_rng(2).normal(size=(2, 3, rnn.cell.output_size))

    def loss():
        return ops.sum(rnn(sequences) * probe)

    with tf.GradientTape() as tape:
        value = loss()
    analytic = [ops.convert_to_numpy(g) for g in tape.gradient(value, rnn.trainable_weights)]

    for weight, gradient in zip(rnn.trainable_weights, analytic):
        original = ops.convert_to_numpy(weight)
        numeric = np.zeros_like(original)
        for index in np.ndindex(original.shape):
            for sign in (1.0, -1.0):
                shifted = original.copy()
                shifted[index] += sign * epsilon
                weight.assign(shifted)
                numeric[index] += sign * float(loss()) / (2 * epsilon)
        weight.assign(original)
        np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-7, err_msg=weight.path)
