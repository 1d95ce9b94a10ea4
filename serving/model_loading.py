"""What `apptk serve` is asked to serve: `NAME=PATH`, a preset name or a path, resolved to
a name, a version and a loaded pipeline.

PATH may be a fitted model folder, an exported SavedModel version folder (`models/en_es/1`) or
a TF Serving base folder (`models/en_es`, holding numbered versions: the latest is served, as
TF Serving's default version policy does).
"""

import dataclasses
import json
import os
import re

from apptk.applications.errors import ModelFileError
from apptk.applications.run.model_folder import CONFIG_FILE
from apptk.applications.run.presets import DEFAULT_PRESETS, PRESETS
from apptk.serving.served_models import SERVED_KINDS, ServedModel

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
SAVED_MODEL_FILE = "saved_model.pb"
# A signature only one pipeline's export has, so an export's kind is read without loading it.
_KIND_SIGNATURES = {
    "beam_search": "translation",
    "fill": "fill-mask",
    "predict_pixels": "image",
    "predict": "next-word",
}


@dataclasses.dataclass(frozen=True)
class ModelRequest:
    """One model to serve, before it is loaded.

    Args:
        name: the name in the URL.
        kind: the pipeline (`translation`, `next-word`, `fill-mask`, `image`).
        version: the version reported and accepted in `/versions/N` URLs.
        model: what the pipeline's `load` takes: a preset name or a folder.
    """

    name: str
    kind: str
    version: int
    model: str


def model_requests(arguments: list[str]) -> list[ModelRequest]:
    """The models named on the command line (the shipped defaults when none), checked for
    clashing names before anything is loaded."""
    arguments = arguments or list(DEFAULT_PRESETS.values())
    requests = [model_request(argument) for argument in arguments]
    names = [request.name for request in requests]
    for name in names:
        if names.count(name) > 1:
            raise ModelFileError(f"Two models are named {name!r}; name them with NAME=PATH.")
    return requests


def model_request(argument: str) -> ModelRequest:
    """`NAME=PATH`, a preset name (`en_es`) or a path (named after its folder)."""
    name, separator, model = argument.partition("=")
    if not separator:
        name, model = None, argument
    if not model:
        raise ModelFileError(f"{argument!r} names no model; give NAME=PATH, a preset or a path.")
    if os.path.exists(model):
        return _folder_request(name, model)
    if model in PRESETS:
        preset = PRESETS[model]
        version = _version_of(preset.path) if preset.path else 1
        return ModelRequest(_checked_name(name or preset.name), preset.kind, version, model)
    raise ModelFileError(
        f"Model not found: {model} (neither a folder nor a preset; `apptk models` lists presets)."
    )


def _folder_request(name: str | None, path: str) -> ModelRequest:
    path = os.path.normpath(path)
    if not os.path.isdir(path):
        raise ModelFileError(f"{path} is not a model folder.")
    if not _is_model_folder(path):
        versions = _numbered_versions(path)
        if not versions:
            raise ModelFileError(
                f"{path} holds no model: neither a fitted folder, a SavedModel, nor numbered "
                "version folders."
            )
        latest = max(versions)
        name = name or os.path.basename(path)
        path = os.path.join(path, str(latest))
    else:
        version = _version_of(path)
        base = os.path.dirname(path) if str(version) == os.path.basename(path) else path
        name = name or os.path.basename(os.path.abspath(base))
    return ModelRequest(_checked_name(name), _kind_of(path), _version_of(path), path)


def _is_model_folder(path: str) -> bool:
    return any(os.path.exists(os.path.join(path, f)) for f in (CONFIG_FILE, SAVED_MODEL_FILE))


def _numbered_versions(path: str) -> list[int]:
    return [
        int(entry)
        for entry in os.listdir(path)
        if entry.isdigit() and _is_model_folder(os.path.join(path, entry))
    ]


def _version_of(path: str) -> int:
    """A TF Serving version folder's number; 1 for any other folder."""
    base = os.path.basename(os.path.normpath(path))
    return int(base) if base.isdigit() else 1


def _checked_name(name: str) -> str:
    if not _NAME.match(name):
        raise ModelFileError(
            f"{name!r} cannot be a model name in a URL; use letters, digits, '_', '.' and '-'."
        )
    return name


def _kind_of(path: str) -> str:
    """The pipeline of a fitted folder (its `config.json`) or of an export (its signatures)."""
    config_path = os.path.join(path, CONFIG_FILE)
    if os.path.exists(config_path):
        try:
            with open(config_path, encoding="utf-8") as handle:
                kind = json.load(handle).get("kind")
        except (OSError, ValueError, AttributeError) as error:
            raise ModelFileError(f"Cannot read {config_path}: {error}.") from error
    else:
        kind = _export_kind(path)
    if kind not in SERVED_KINDS:
        raise ModelFileError(
            f"{path} holds a {kind!r} model; apptk serve serves {', '.join(SERVED_KINDS)} models."
        )
    return kind


def _export_kind(path: str) -> str | None:
    from google.protobuf.message import DecodeError
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel()
    try:
        with open(os.path.join(path, SAVED_MODEL_FILE), "rb") as handle:
            saved_model.ParseFromString(handle.read())
    except (OSError, DecodeError) as error:
        raise ModelFileError(f"{path} is not a readable SavedModel ({error}).") from error
    signatures = {name for graph in saved_model.meta_graphs for name in graph.signature_def}
    for signature, kind in _KIND_SIGNATURES.items():
        if signature in signatures:
            return kind
    raise ModelFileError(f"{path} is a SavedModel, but not one apptk exported.")


def load_served_model(request: ModelRequest) -> ServedModel:
    """Loads the pipeline behind `request` through its Python API's `load`."""
    return SERVED_KINDS[request.kind].load(request.name, request.version, request.model)
