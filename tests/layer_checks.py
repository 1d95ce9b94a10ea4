"""Common checks every apptk layer must pass, in the spirit of KerasHub's `run_layer_test`.

Each layer's own test file calls `run_layer_checks` with its constructor arguments and example
input, then states only what is particular to that layer.
"""

import os
import tempfile

import keras
import numpy as np
from keras import ops


def _as_list(outputs):
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _call(layer, input_data, call_kwargs, training=None):
    extra = dict(call_kwargs or {})
    if training is not None:
        extra["training"] = training
    if isinstance(input_data, dict):
        return layer(**input_data, **extra)
    return layer(input_data, **extra)


def _symbolic_inputs(input_data):
    def spec(array):
        array = np.asarray(array)
        return keras.Input(shape=array.shape[1:], dtype=str(array.dtype))

    if isinstance(input_data, dict):
        return {name: spec(value) for name, value in input_data.items()}
    return spec(input_data)


def check_config_round_trip(layer_class, init_kwargs):
    layer = layer_class(**init_kwargs)
    config = layer.get_config()
    for name, value in init_kwargs.items():
        assert name in config, f"get_config() lacks constructor argument {name!r}"
        if not isinstance(value, (keras.layers.Layer, keras.initializers.Initializer)):
            assert config[name] == value, f"{name}: {config[name]!r} != {value!r}"
    rebuilt = layer_class.from_config(config)
    assert rebuilt.get_config() == config
    serialized = keras.saving.serialize_keras_object(layer)
    revived = keras.saving.deserialize_keras_object(serialized)
    assert type(revived) is layer_class


def check_saved_model_round_trip(layer_class, init_kwargs, input_data, call_kwargs):
    inputs = _symbolic_inputs(input_data)
    outputs = _call(layer_class(**init_kwargs), inputs, call_kwargs)
    model = keras.Model(inputs, outputs)
    expected = _as_list(model(input_data))
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        restored = keras.saving.load_model(path, safe_mode=True)
    actual = _as_list(restored(input_data))
    assert len(actual) == len(expected)
    for want, got in zip(expected, actual):
        np.testing.assert_allclose(ops.convert_to_numpy(got), ops.convert_to_numpy(want), atol=1e-6)


def check_mixed_precision(layer_class, init_kwargs, input_data, call_kwargs):
    keras.config.set_dtype_policy("mixed_float16")
    try:
        layer = layer_class(**init_kwargs)
        outputs = _as_list(_call(layer, input_data, call_kwargs))
        assert layer.compute_dtype == "float16"
        for output in outputs:
            dtype = keras.backend.standardize_dtype(output.dtype)
            if "float" in dtype:
                assert dtype == "float16", dtype
                assert np.all(np.isfinite(ops.convert_to_numpy(ops.cast(output, "float32"))))
        for weight in layer.weights:
            assert weight.dtype == "float32", f"{weight.path} stored as {weight.dtype}"
    finally:
        keras.config.set_dtype_policy("float32")


def check_gradients_reach_every_weight(layer_class, init_kwargs, input_data, call_kwargs):
    import tensorflow as tf

    layer = layer_class(**init_kwargs)
    _call(layer, input_data, call_kwargs)
    with tf.GradientTape() as tape:
        outputs = _as_list(_call(layer, input_data, call_kwargs, training=True))
        loss = sum(
            ops.sum(ops.square(ops.cast(output, "float32")))
            for output in outputs
            if "float" in keras.backend.standardize_dtype(output.dtype)
        )
    gradients = tape.gradient(loss, layer.trainable_weights)
    assert layer.trainable_weights, "layer has no trainable weights"
    for weight, gradient in zip(layer.trainable_weights, gradients):
        assert gradient is not None, f"no gradient reaches {weight.path}"
        assert np.any(ops.convert_to_numpy(gradient) != 0), f"zero gradient for {weight.path}"


def run_layer_checks(
    layer_class,
    init_kwargs,
    input_data,
    expected_output_shape,
    call_kwargs=None,
    expect_trainable_weights=True,
    check_mixed=True,
):
    """Runs the checks common to every layer.

    Args:
        layer_class: the layer's class.
        init_kwargs: constructor arguments.
        input_data: a numpy array, or a dict of arrays passed as keyword arguments to `call`.
        expected_output_shape: a shape tuple, or a list of them for layers with several outputs.
        call_kwargs: extra non-tensor keyword arguments for `call`.
        expect_trainable_weights: whether to check that gradients reach every weight.
        check_mixed: whether to run under the `mixed_float16` policy.
    """
    layer = layer_class(**init_kwargs)
    outputs = _as_list(_call(layer, input_data, call_kwargs))
    expected_shapes = (
        expected_output_shape
        if isinstance(expected_output_shape, list)
        else [expected_output_shape]
    )
    assert [tuple(output.shape) for output in outputs] == [tuple(s) for s in expected_shapes]
    check_config_round_trip(layer_class, init_kwargs)
    check_saved_model_round_trip(layer_class, init_kwargs, input_data, call_kwargs)
    if check_mixed:
        check_mixed_precision(layer_class, init_kwargs, input_data, call_kwargs)
    if expect_trainable_weights:
        check_gradients_reach_every_weight(layer_class, init_kwargs, input_data, call_kwargs)


def check_gradients_reach_weights(
    layer_class, init_kwargs, input_data, call_kwargs=None, zero_gradient_suffixes=()
):
    """Checks gradients like `check_gradients_reach_every_weight`, allowing for weights whose
    gradient is zero in exact arithmetic.

    Dot-product attention's key bias adds the same `q . b` to every score of a query row,
    which softmax ignores, so its gradient is zero up to round-off; a check that it is
    non-zero would pass or fail on noise. Weights whose path ends with one of
    `zero_gradient_suffixes` must still be connected (a gradient, not None), and that
    gradient must be negligible; every other weight needs a non-zero gradient. The loss is a
    fixed random projection of the outputs, which, unlike a sum of squares, a final layer
    normalization does not nearly cancel.
    """
    import tensorflow as tf

    layer = layer_class(**init_kwargs)
    outputs = _as_list(_call(layer, input_data, call_kwargs))
    projections = [
        np.random.default_rng(0).standard_normal(tuple(output.shape)).astype("float32")
        for output in outputs
    ]
    with tf.GradientTape() as tape:
        outputs = _as_list(_call(layer, input_data, call_kwargs, training=True))
        loss = sum(
            ops.sum(ops.cast(output, "float32") * projection)
            for output, projection in zip(outputs, projections)
            if "float" in str(output.dtype)
        )
    assert layer.trainable_weights, "layer has no trainable weights"
    gradients = tape.gradient(loss, layer.trainable_weights)
    largest = max(
        float(np.max(np.abs(ops.convert_to_numpy(g)))) for g in gradients if g is not None
    )
    for weight, gradient in zip(layer.trainable_weights, gradients):
        assert gradient is not None, f"no gradient reaches {weight.path}"
        size = float(np.max(np.abs(ops.convert_to_numpy(gradient))))
        if weight.path.endswith(tuple(zero_gradient_suffixes)):
            assert size <= 1e-4 * largest, f"{weight.path}: gradient {size} should vanish"
        else:
            assert size > 0, f"zero gradient for {weight.path}"
