"""Converts the quantized TFLite ImageNet MobileNetV2 1.0/224 into Keras MobileNetV2 weights.

    python tools/convert_mobilenet_v2_tflite.py [--tflite PATH] [--out PATH] [--float16]
        [--check-photos N]

Origin of the model: `mobilenet_v2_1.0_224_quant.tflite` from the TensorFlow hosted models
(copy in google-coral/test_data @104342d2; local copy in
../shared/data/imagenet_mobilenet_tflite/), Apache-2.0. The weights this tool writes are derived
from it: ship them with that licence (the LICENSE file beside the model) and this origin.

The TFLite model was quantization-aware trained: uint8 activations and weights, batch norm folded
into the convolutions, 1001 classes with 0 = background. The tool walks the TFLite ops in order
(`tf.lite.Interpreter`) beside the layers of `keras.applications.MobileNetV2(weights=None,
alpha=1.0, input_shape=(224, 224, 3), classes=1000, classifier_activation="softmax")`, checks
that both graphs have the same ops, wiring, activations and shapes, dequantizes every kernel
and bias, and sets:

- Conv2D kernels (out, h, w, in) -> (h, w, in, out); depthwise (1, h, w, c) -> (h, w, c, 1);
- each BatchNormalization to the identity plus the folded bias: gamma=1, beta=bias,
  moving_mean=0, moving_variance=1-epsilon (Keras MobileNetV2 uses epsilon=1e-3, read from the
  layer), so that (x - 0) / sqrt(var + epsilon) = x;
- the classifier from the 1x1 logits convolution without its background row.

The Keras model takes `keras.applications.mobilenet_v2.preprocess_input` pixels (x/127.5 - 1);
the TFLite model reads uint8 pixels as (q - 128)/128. Unless `--check-photos 0`, the tool then
compares both models on real photos, as float32 and float16 weights, and on the TFLite scaling.

Measured (1,000 cats/flowers photos): each Keras layer run on the TFLite layer's input gives
its output within 0.75 quantization steps, so the mapping is exact; end to end, top-1 agrees on
about 95% of photos (100% where TFLite gives its top class at least 0.5). The rest are photos
without a clear ImageNet class, where the uint8 rounding of 64 layers decides: TFLite's own
XNNPACK and reference kernels agree with each other no better. The scaling difference and
float16 weights (half the file) change agreement by at most 0.1%; float32 stays the default.
"""

import argparse
import os
import sys
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.path.join(ROOT, "..", "shared", "data")
TFLITE_DIR = os.path.join(SHARED_DATA, "imagenet_mobilenet_tflite")
DEFAULT_TFLITE = os.path.join(TFLITE_DIR, "mobilenet_v2_1.0_224_quant.tflite")
DEFAULT_OUT = os.path.join(ROOT, "runs", "mobilenet_v2_imagenet.weights.h5")
CHECK_PHOTO_DIRS = ("cats_vs_dogs", "flower_photos")
IMAGE_SIZE = 224
RELU6_TOLERANCE = 1e-2  # a ReLU6 output is quantized on [0, 6]: zero point 0, scale 6/255

# TFLite builtin op / Keras layer class -> the kind both graphs are compared on.
TFLITE_KINDS = {
    "CONV_2D": "conv",
    "DEPTHWISE_CONV_2D": "depthwise",
    "ADD": "add",
    "AVERAGE_POOL_2D": "pool",
}
KERAS_KINDS = {
    keras.layers.Conv2D: "conv",
    keras.layers.Dense: "conv",  # TFLite computes the logits with a 1x1 convolution
    keras.layers.DepthwiseConv2D: "depthwise",
    keras.layers.Add: "add",
    keras.layers.GlobalAveragePooling2D: "pool",
}


@dataclass
class TfliteOp:
    """One TFLite op that has a Keras counterpart: tensor indices, kernel and bias as floats."""

    index: int
    kind: str
    inputs: list[int]  # activation tensors read by the op
    output: int
    kernel: np.ndarray | None = None  # TFLite layout, dequantized
    bias: np.ndarray | None = None


@dataclass
class KerasUnit:
    """The Keras layers that compute what one TFLite op computes (fused pad, BN and ReLU6)."""

    kind: str
    layer: keras.layers.Layer
    pad: keras.layers.Layer | None = None
    batch_norm: keras.layers.Layer | None = None
    relu: keras.layers.Layer | None = None

    @property
    def layers(self) -> list[keras.layers.Layer]:
        chain = [self.pad, self.layer, self.batch_norm, self.relu]
        return [layer for layer in chain if layer is not None]

    @property
    def inputs(self) -> list:
        first = self.layers[0].input
        return first if isinstance(first, list) else [first]

    @property
    def output(self):
        return self.layers[-1].output


def load_interpreter(path: str = DEFAULT_TFLITE) -> tf.lite.Interpreter:
    """An interpreter without the default delegate, so each op and tensor stays visible."""
    interpreter = tf.lite.Interpreter(
        model_path=path,
        experimental_op_resolver_type=(
            tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        ),
        experimental_preserve_all_tensors=True,
    )
    interpreter.allocate_tensors()
    return interpreter


def dequantize(detail: dict, values: np.ndarray) -> np.ndarray:
    """(q - zero_point) * scale, per tensor or per channel along `quantized_dimension`."""
    params = detail["quantization_parameters"]
    scales, zero_points = params["scales"], params["zero_points"]
    if len(scales) == 0:
        raise ValueError(f"tensor {detail['name']!r} is not quantized")
    shape = [1] * values.ndim
    if len(scales) > 1:
        shape[params["quantized_dimension"]] = len(scales)
    centred = values.astype(np.float64) - zero_points.reshape(shape)
    return (centred * scales.astype(np.float64).reshape(shape)).astype(np.float32)


def representable_range(detail: dict) -> tuple[float, float]:
    """The smallest and largest real value a uint8 tensor with a single scale can hold."""
    scale, zero_point = detail["quantization"]
    return scale * (0 - zero_point), scale * (255 - zero_point)


def _conv_weights(interpreter: tf.lite.Interpreter, op: dict, details: dict) -> tuple:
    """Dequantized kernel and bias of a convolution, checking bias scale = input x weight scale."""
    data, kernel, bias = (details[index] for index in op["inputs"])
    if kernel["dtype"] != np.uint8 or bias["dtype"] != np.int32:
        raise ValueError(f"op {op['index']}: expected uint8 kernel and int32 bias")
    bias_params = bias["quantization_parameters"]
    expected_scale = data["quantization"][0] * kernel["quantization_parameters"]["scales"]
    if np.any(bias_params["zero_points"] != 0) or not np.allclose(
        bias_params["scales"], expected_scale, rtol=1e-5
    ):
        raise ValueError(f"op {op['index']}: bias quantization is not input x weight scale")
    return (
        dequantize(kernel, interpreter.get_tensor(kernel["index"])),
        dequantize(bias, interpreter.get_tensor(bias["index"])),
    )


def tflite_ops(interpreter: tf.lite.Interpreter) -> list[TfliteOp]:
    """The ops with a Keras counterpart, in execution order, weights dequantized."""
    details = {detail["index"]: detail for detail in interpreter.get_tensor_details()}
    ops = []
    for op in interpreter._get_ops_details():
        kind = TFLITE_KINDS.get(op["op_name"])
        if kind is None:
            continue  # RESHAPE and SOFTMAX: the Keras Dense layer and its activation
        entry = TfliteOp(op["index"], kind, list(op["inputs"]), op["outputs"][0])
        if kind in ("conv", "depthwise"):
            entry.inputs = entry.inputs[:1]
            entry.kernel, entry.bias = _conv_weights(interpreter, op, details)
        ops.append(entry)
    return ops


def _following(layers: list, position: int, layer_class: type, source):
    """layers[position] if it is a `layer_class` reading the tensor `source`, else None."""
    if position < len(layers):
        candidate = layers[position]
        if isinstance(candidate, layer_class) and candidate.input is source:
            return candidate
    return None


def keras_units(model: keras.Model) -> list[KerasUnit]:
    """Keras layers grouped like the TFLite ops, in the model's (topological) order."""
    layers = model.layers
    units = []
    for position, layer in enumerate(layers):
        kind = KERAS_KINDS.get(type(layer))
        if kind is None:
            continue
        unit = KerasUnit(kind, layer)
        if kind in ("conv", "depthwise") and not isinstance(layer, keras.layers.Dense):
            before = layers[position - 1]
            if isinstance(before, keras.layers.ZeroPadding2D) and before.output is layer.input:
                unit.pad = before
            unit.batch_norm = _following(
                layers, position + 1, keras.layers.BatchNormalization, layer.output
            )
            if unit.batch_norm is None:
                raise ValueError(f"{layer.name} is not followed by its BatchNormalization")
            unit.relu = _following(layers, position + 2, keras.layers.ReLU, unit.batch_norm.output)
        units.append(unit)
    return units


def match_graphs(
    model: keras.Model, interpreter: tf.lite.Interpreter
) -> list[tuple[TfliteOp, KerasUnit]]:
    """Pairs TFLite ops with Keras units; fails unless ops, wiring, activations, shapes agree."""
    ops, units = tflite_ops(interpreter), keras_units(model)
    tflite_kinds, keras_kinds = [op.kind for op in ops], [unit.kind for unit in units]
    if tflite_kinds != keras_kinds:
        raise ValueError(f"op sequences differ:\nTFLite {tflite_kinds}\nKeras  {keras_kinds}")
    details = {detail["index"]: detail for detail in interpreter.get_tensor_details()}
    keras_tensor_of = {interpreter.get_input_details()[0]["index"]: model.input}
    pairs = list(zip(ops, units))
    for op, unit in pairs:
        wired_to = {id(keras_tensor_of.get(index)) for index in op.inputs}
        if wired_to != {id(tensor) for tensor in unit.inputs}:
            raise ValueError(f"TFLite op {op.index} and {unit.layer.name} read different inputs")
        keras_tensor_of[op.output] = unit.output
        _check_activation(details[op.output], unit)
        _check_output_shape(details[op.output], unit)
    return pairs


def _check_output_shape(output: dict, unit: KerasUnit) -> None:
    """Same output shape, batch left out; TFLite keeps 1x1 maps after pooling, and background."""
    tflite_shape = tuple(int(size) for size in output["shape"][1:])
    keras_shape = tuple(unit.output.shape[1:])
    if unit.kind == "pool":
        keras_shape = (1, 1) + keras_shape
    if isinstance(unit.layer, keras.layers.Dense):
        keras_shape = (1, 1, keras_shape[0] + 1)
    if tflite_shape != keras_shape:
        raise ValueError(f"{unit.layer.name}: output {keras_shape} vs TFLite {tflite_shape}")


def _check_activation(output: dict, unit: KerasUnit) -> None:
    """A Keras ReLU6 must face a TFLite output quantized on [0, 6], a linear layer must not."""
    if unit.kind not in ("conv", "depthwise") or isinstance(unit.layer, keras.layers.Dense):
        return
    low, high = representable_range(output)
    tflite_relu6 = low == 0 and abs(high - 6.0) < RELU6_TOLERANCE
    keras_relu6 = unit.relu is not None and float(unit.relu.max_value) == 6.0
    if tflite_relu6 != keras_relu6:
        raise ValueError(f"{unit.layer.name}: ReLU6 in one model only (TFLite range {low}..{high})")


def keras_kernel(op: TfliteOp, layer: keras.layers.Layer) -> tuple[np.ndarray, np.ndarray]:
    """The TFLite kernel and bias in the layout of `layer`, background class dropped."""
    if isinstance(layer, keras.layers.Dense):
        classes = op.kernel.reshape(op.kernel.shape[0], -1)  # (1001, 1280)
        kernel, bias = classes[1:].T, op.bias[1:]
    else:
        kernel, bias = op.kernel.transpose(1, 2, 3, 0), op.bias  # (h, w, in, out | channels, 1)
    if kernel.shape != tuple(layer.kernel.shape):
        raise ValueError(f"{layer.name}: kernel {kernel.shape} vs Keras {layer.kernel.shape}")
    return kernel, bias


def set_unit_weights(op: TfliteOp, unit: KerasUnit) -> None:
    """Copies one convolution into Keras; the folded bias goes into the identity batch norm."""
    kernel, bias = keras_kernel(op, unit.layer)
    if isinstance(unit.layer, keras.layers.Dense):
        unit.layer.set_weights([kernel, bias])
        return
    unit.layer.set_weights([kernel])
    batch_norm = unit.batch_norm
    if not (batch_norm.center and batch_norm.scale) or batch_norm.gamma.shape != bias.shape:
        raise ValueError(f"{batch_norm.name} cannot hold a bias of shape {bias.shape}")
    ones = np.ones_like(bias)
    batch_norm.set_weights([ones, bias, np.zeros_like(bias), ones - batch_norm.epsilon])


def build_model() -> keras.Model:
    """The Keras MobileNetV2 the weights are for (softmax over the 1000 ImageNet classes)."""
    return keras.applications.MobileNetV2(
        weights=None,
        alpha=1.0,
        input_shape=(IMAGE_SIZE, IMAGE_SIZE, 3),
        classes=1000,
        classifier_activation="softmax",
    )


def convert(tflite_path: str = DEFAULT_TFLITE) -> keras.Model:
    """A Keras MobileNetV2 holding the dequantized weights of the TFLite model."""
    model = build_model()
    pairs = match_graphs(model, load_interpreter(tflite_path))
    for op, unit in pairs:
        if op.kernel is not None:
            set_unit_weights(op, unit)
    return model


def as_float16(model: keras.Model) -> keras.Model:
    """A copy of `model` whose variables are float16 (the policy is global: restored after)."""
    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float16")
    try:
        twin = build_model()
    finally:
        keras.config.set_dtype_policy(policy)
    twin.set_weights([weight.astype(np.float16) for weight in model.get_weights()])
    return twin


def save_weights(model: keras.Model, path: str, float16: bool = False) -> None:
    """Writes `model.save_weights` atomically: a temporary file beside `path`, then a rename."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    temporary = f"{path}.tmp-{os.getpid()}.weights.h5"
    try:
        (as_float16(model) if float16 else model).save_weights(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def load_converted(path: str) -> keras.Model:
    """The float32 Keras MobileNetV2 with weights written by this tool."""
    model = build_model()
    model.load_weights(path)
    return model


def load_photos(paths: list[str]) -> np.ndarray:
    """uint8 pixels (n, 224, 224, 3): RGB, bilinear resize of the whole photo, for both models."""
    photos = []
    for path in paths:
        with Image.open(path) as image:
            resized = image.convert("RGB").resize((IMAGE_SIZE, IMAGE_SIZE), Image.BILINEAR)
        photos.append(np.asarray(resized, dtype=np.uint8))
    return np.stack(photos)


def check_photo_paths(count: int, data_dir: str = SHARED_DATA) -> list[str]:
    """`count` photos spread evenly over the sorted cats/dogs and flower photos."""
    paths = []
    for folder in CHECK_PHOTO_DIRS:
        for directory, _, names in os.walk(os.path.join(data_dir, folder)):
            paths += [os.path.join(directory, name) for name in names if name.endswith(".jpg")]
    paths.sort()
    if count > len(paths):
        raise ValueError(f"asked for {count} photos, {len(paths)} found under {data_dir}")
    return [paths[i * len(paths) // count] for i in range(count)]


def shipped_photo_paths() -> list[str]:
    """The 7 photos shipped with the TFLite model (cat, bird, hot dog, ...), sorted."""
    folder = os.path.join(TFLITE_DIR, "photos")
    return [os.path.join(folder, name) for name in sorted(os.listdir(folder))]


def read_labels() -> list[str]:
    """The 1000 ImageNet class names in Keras order (the file's line k+1 is Keras class k)."""
    with open(os.path.join(TFLITE_DIR, "imagenet_labels.txt"), encoding="utf-8") as file:
        return [line.strip() for line in file][1:]


def tflite_probabilities(interpreter: tf.lite.Interpreter, photos: np.ndarray) -> np.ndarray:
    """Dequantized softmax output (n, 1001) of the TFLite model, column 0 = background."""
    input_index = interpreter.get_input_details()[0]["index"]
    output = interpreter.get_output_details()[0]
    probabilities = []
    for photo in photos:
        interpreter.set_tensor(input_index, photo[np.newaxis])
        interpreter.invoke()
        probabilities.append(dequantize(output, interpreter.get_tensor(output["index"]))[0])
    return np.stack(probabilities)


def keras_probabilities(model: keras.Model, photos: np.ndarray, tflite_scaling=False):
    """Keras softmax (n, 1000) on preprocess_input pixels, or on the TFLite (q - 128)/128."""
    pixels = photos.astype(np.float32)
    if tflite_scaling:
        inputs = (pixels - 128.0) / 128.0
    else:
        inputs = keras.applications.mobilenet_v2.preprocess_input(pixels)
    return model.predict(inputs, batch_size=32, verbose=0)


def agreement(keras_probs: np.ndarray, tflite_probs: np.ndarray) -> dict:
    """How far Keras (n, 1000) and TFLite (n, 1001, background first) probabilities agree.

    TFLite probabilities are multiples of 1/256, so its top two classes can tie: `top1_tied`
    also counts Keras as agreeing when its class shares the TFLite maximum. `confident_top1`
    is the strict agreement on the photos where TFLite gives its top class at least 0.5.
    """
    tflite_classes = tflite_probs[:, 1:]
    keras_top5 = np.argsort(-keras_probs, axis=1, kind="stable")[:, :5]
    tflite_top5 = np.argsort(-tflite_classes, axis=1, kind="stable")[:, :5]
    same_top1 = keras_top5[:, 0] == tflite_top5[:, 0]
    tflite_best = tflite_classes.max(axis=1)
    keras_choice = tflite_classes[np.arange(len(tflite_classes)), keras_top5[:, 0]]
    confident = tflite_best >= 0.5
    overlap = [len(set(a) & set(b)) / 5 for a, b in zip(keras_top5, tflite_top5)]
    return {
        "photos": len(keras_probs),
        "top1": float(np.mean(same_top1)),
        "top1_tied": float(np.mean(keras_choice == tflite_best)),
        "confident_top1": float(np.mean(same_top1[confident])),
        "confident_photos": int(np.sum(confident)),
        "top5_overlap": float(np.mean(overlap)),
        "mean_abs_prob_diff": float(np.mean(np.abs(keras_probs - tflite_classes))),
    }


def layer_errors(model: keras.Model, interpreter: tf.lite.Interpreter, photo: np.ndarray):
    """Each Keras unit run alone on the TFLite op's dequantized input, against its output.

    Returns (layer name, largest difference in output quantization steps) per op. The Keras
    result is first clipped to the range the uint8 output can hold, since TFLite saturates
    there; a correct mapping stays within about one step (rounding alone gives half a step).
    """
    details = {detail["index"]: detail for detail in interpreter.get_tensor_details()}
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], photo[np.newaxis])
    interpreter.invoke()

    def real(index: int) -> np.ndarray:
        return dequantize(details[index], interpreter.get_tensor(index))

    errors = []
    for op, unit in match_graphs(model, interpreter):
        inputs = [real(index) for index in op.inputs]
        if isinstance(unit.layer, keras.layers.Dense):  # logits: compare before the softmax
            flat = inputs[0].reshape(1, -1)
            outputs = flat @ unit.layer.kernel.numpy() + unit.layer.bias.numpy()
            target = real(op.output).reshape(1, -1)[:, 1:]
        else:
            outputs = inputs if unit.kind == "add" else inputs[0]
            for layer in unit.layers:
                outputs = layer(outputs)
            target = real(op.output).reshape(np.shape(outputs))
        low, high = representable_range(details[op.output])
        clipped = np.clip(np.asarray(outputs), low, high)
        steps = np.max(np.abs(clipped - target)) / details[op.output]["quantization"][0]
        errors.append((unit.layer.name, float(steps)))
    return errors


def float16_rounded(model: keras.Model) -> keras.Model:
    """A float32 model holding `model`'s weights rounded to float16, as a float16 file gives."""
    rounded = build_model()
    rounded.set_weights([w.astype(np.float16).astype(np.float32) for w in model.get_weights()])
    return rounded


def _print_agreement(name: str, stats: dict) -> None:
    print(
        f"  {name:34s} top-1 {stats['top1']:.2%} (ties {stats['top1_tied']:.2%}, confident "
        f"{stats['confident_top1']:.2%} of {stats['confident_photos']})  top-5 overlap "
        f"{stats['top5_overlap']:.2%}  mean |dp| {stats['mean_abs_prob_diff']:.2e}"
    )


def print_check(model: keras.Model, tflite_path: str, count: int) -> None:
    """Agreement with TFLite on `count` photos for float32/float16 weights and both scalings.

    The last row compares TFLite with itself, default (XNNPACK) kernels against the reference
    kernels used above: the spread two integer implementations of one model already have.
    """
    photos = load_photos(check_photo_paths(count))
    tflite_probs = tflite_probabilities(load_interpreter(tflite_path), photos)
    xnnpack = tf.lite.Interpreter(model_path=tflite_path)
    xnnpack.allocate_tensors()
    variants = {
        "float32 weights, preprocess_input": keras_probabilities(model, photos),
        "float32 weights, (q-128)/128": keras_probabilities(model, photos, tflite_scaling=True),
        "float16 weights, preprocess_input": keras_probabilities(float16_rounded(model), photos),
        "TFLite XNNPACK (not Keras)": tflite_probabilities(xnnpack, photos)[:, 1:],
    }
    print(f"Keras vs TFLite (reference kernels) on {count} cats_vs_dogs / flower_photos photos:")
    for name, keras_probs in variants.items():
        _print_agreement(name, agreement(keras_probs, tflite_probs))
    float16_top1 = np.argmax(variants["float16 weights, preprocess_input"], axis=1)
    float32_top1 = np.argmax(variants["float32 weights, preprocess_input"], axis=1)
    print(
        f"  float16 vs float32 weights: same top-1 on {np.mean(float16_top1 == float32_top1):.2%}"
    )


def print_test_photos(model: keras.Model, interpreter: tf.lite.Interpreter) -> None:
    """Top-1 label and probability of both models on the 7 photos shipped with the model."""
    labels, paths = read_labels(), shipped_photo_paths()
    photos = load_photos(paths)
    keras_probs = keras_probabilities(model, photos)
    tflite_probs = tflite_probabilities(interpreter, photos)[:, 1:]
    for path, keras_row, tflite_row in zip(paths, keras_probs, tflite_probs):
        keras_class, tflite_class = int(np.argmax(keras_row)), int(np.argmax(tflite_row))
        print(
            f"  {os.path.basename(path):18s} Keras {keras_class:3d} ({keras_row[keras_class]:.2f})"
            f"  TFLite {tflite_class:3d} ({tflite_row[tflite_class]:.2f})  {labels[keras_class]}"
        )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tflite", default=DEFAULT_TFLITE, help="quantized MobileNetV2 .tflite")
    parser.add_argument("--out", default=DEFAULT_OUT, help="Keras .weights.h5 file to write")
    parser.add_argument(
        "--float16", action="store_true", help="store the weights as float16 (half the size)"
    )
    parser.add_argument(
        "--check-photos", type=int, default=1000, help="photos to compare on (0: no check)"
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    model = convert(args.tflite)
    save_weights(model, args.out, float16=args.float16)
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1e6:.1f} MB)")
    written = load_converted(args.out)
    expected = float16_rounded(model) if args.float16 else model
    for saved, wanted in zip(written.get_weights(), expected.get_weights()):
        np.testing.assert_array_equal(saved, wanted)
    if args.check_photos > 0:
        interpreter = load_interpreter(args.tflite)
        worst = max(
            layer_errors(written, interpreter, load_photos(shipped_photo_paths()[:1])[0]),
            key=lambda error: error[1],
        )
        print(f"largest per-layer difference: {worst[1]:.2f} quantization steps ({worst[0]})")
        print_check(written, args.tflite, args.check_photos)
        print("The 7 test photos (Keras class k = label line k+1):")
        print_test_photos(written, interpreter)


if __name__ == "__main__":
    main(sys.argv[1:])
