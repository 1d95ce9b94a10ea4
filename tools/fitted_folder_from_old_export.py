"""Rebuilds a fitted translator folder from a translator SavedModel exported before exports
kept their configuration and vocabularies (the shipped `en_es/1` of 2026-11-25, commit ad51f43:
`git archive ad51f43 savedmodels/en_es/1 | tar -x -C /tmp`; exported again with them in e519c3f).

    python tools/fitted_folder_from_old_export.py [EXPORT] [OUT]

Defaults: savedmodels/en_es/1 into runs/en_es_shipped. The vocabularies are the graph's two
string constants that start with the reserved tokens (told apart by the sizes of the two token
tables), the weights come from the SavedModel's variables, and the configuration is the one
`tools/train_default_translator.py` used (`TranslatorConfig()`), checked against every
variable's shape. `apptk fit translate --init-from runs/en_es_shipped` can then fine-tune it.
"""

import os
import re
import sys

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

from apptk.applications.run import model_folder
from apptk.applications.run.atomic_files import make_folder, save_weights_atomically
from apptk.applications.text.wordpiece import RESERVED_TOKENS, write_vocabulary
from apptk.applications.translation.spec import TranslatorConfig, build_model, vocabulary_paths

SOURCE_TABLE = "model/source_embedding/token_embedding/_embeddings/.ATTRIBUTES/VARIABLE_VALUE"


def graph_vocabularies(export: str) -> list[list[str]]:
    """Every string constant of the graph that starts with the reserved tokens."""
    saved_model = saved_model_pb2.SavedModel()
    with open(os.path.join(export, "saved_model.pb"), "rb") as handle:
        saved_model.ParseFromString(handle.read())
    graph = saved_model.meta_graphs[0].graph_def
    nodes = list(graph.node) + [n for f in graph.library.function for n in f.node_def]
    found = {}
    for node in nodes:
        if node.op != "Const" or node.attr["dtype"].type != tf.string.as_datatype_enum:
            continue
        values = node.attr["value"].tensor.string_val
        if tuple(values[: len(RESERVED_TOKENS)]) == tuple(t.encode() for t in RESERVED_TOKENS):
            found[len(values)] = [value.decode("utf-8") for value in values]
    return list(found.values())


def keras_path(checkpoint_key: str) -> str:
    """`model/decoder_blocks/0/feed_forward/inner_dense/_kernel/.ATTRIBUTES/VARIABLE_VALUE`
    → `decoder_block_0/feed_forward/inner_dense/kernel` (Keras' weight path, model name off)."""
    path = checkpoint_key.removeprefix("model/").removesuffix("/.ATTRIBUTES/VARIABLE_VALUE")
    path = re.sub(r"(encoder|decoder)_blocks/(\d+)", r"\1_block_\2", path)
    return "/".join(part.lstrip("_") for part in path.split("/"))


def exported_weights(reader, model) -> list[np.ndarray]:
    """The export's value of each of `model`'s weights, in its order, as float32."""
    values = {
        keras_path(key): key
        for key in reader.get_variable_to_shape_map()
        if key.startswith("model/")
    }
    weights = []
    for weight in model.weights:
        key = values.pop(weight.path.split("/", 1)[1], None)
        if key is None:
            sys.exit(f"Error: the export lacks the model's weight {weight.path}.")
        weights.append(np.asarray(reader.get_tensor(key), np.float32))
    if values:
        sys.exit(f"Error: the export holds weights the model lacks: {sorted(values)[:3]}")
    return weights


def main(export: str, out: str) -> None:
    reader = tf.train.load_checkpoint(os.path.join(export, "variables", "variables"))
    shapes = reader.get_variable_to_shape_map()
    source_size = next(shape[0] for name, shape in shapes.items() if name == SOURCE_TABLE)
    vocabularies = graph_vocabularies(export)
    if len(vocabularies) != 2:
        sys.exit(f"Error: expected two vocabularies in {export}, found {len(vocabularies)}.")
    source, target = sorted(vocabularies, key=lambda tokens: len(tokens) != source_size)
    config = TranslatorConfig(
        max_length=int(reader.get_tensor("max_length_variable/.ATTRIBUTES/VARIABLE_VALUE"))
    )
    model = build_model(config, len(source), len(target))
    model.set_weights(exported_weights(reader, model))
    make_folder(out)
    for tokens, path in zip((source, target), vocabulary_paths(out)):
        write_vocabulary(tokens, path)
    model_folder.write_config(config, out)
    save_weights_atomically(model, os.path.join(out, model_folder.WEIGHTS_FILE))
    print(
        f"{out}: {len(source)} source and {len(target)} target tokens, {model.count_params():,} parameters"
    )


if __name__ == "__main__":
    arguments = sys.argv[1:] + ["savedmodels/en_es/1", "runs/en_es_shipped"][len(sys.argv) - 1 :]
    main(*arguments[:2])
