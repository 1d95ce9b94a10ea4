"""The models `apptk serve` answers for: each pipeline's TF Serving signature over its Python API.

A served model checks one request's values (`check`), answers a batch of values from many
requests at once (`answer`, where a bad value fails only its own request) and says what its
signature is (`signature_def`, TF Serving's metadata format).
"""

import dataclasses
import importlib
from typing import ClassVar

from apptk.applications.errors import DataError
from apptk.applications.text.checks import checked_text

TOP_K = 5
DTYPES = {str: "DT_STRING", bytes: "DT_STRING", float: "DT_FLOAT", int: "DT_INT32"}


@dataclasses.dataclass(frozen=True)
class Tensor:
    """One input or output of a signature: its Python value type and its shape (-1: any)."""

    value_type: type
    shape: tuple[int, ...]

    def info(self, name: str, prefix: str) -> dict:
        """TF Serving's `TensorInfo` JSON for this tensor."""
        return {
            "dtype": DTYPES[self.value_type],
            "tensor_shape": {
                "dim": [{"size": str(size), "name": ""} for size in self.shape],
                "unknown_rank": False,
            },
            "name": f"{prefix}{name}:0",
        }


class ServedModel:
    """A pipeline object served under a name and version.

    Args:
        name: the name in the URL (`/v1/models/NAME`).
        version: the version TF Serving would report (the version folder's number, else 1).
        pipeline: the loaded pipeline object (`Translator`, `NextWordPredictor`, ...).
    """

    kind = ""
    pipeline_class = ("", "")  # (module, class): imported only when a model is loaded
    input_name = ""
    input = Tensor(str, (-1,))
    outputs: ClassVar[dict[str, Tensor]] = {}

    def __init__(self, name: str, version: int, pipeline):
        self.name = name
        self.version = version
        self.pipeline = pipeline

    @classmethod
    def load(cls, name: str, version: int, model: str) -> "ServedModel":
        """Loads `model` (a preset name or a folder) with the pipeline's own `load`."""
        module, class_name = cls.pipeline_class
        pipeline = getattr(importlib.import_module(module), class_name).load(model)
        return cls(name, version, pipeline)

    def check(self, value):
        """One input value of a request, checked before it joins a batch.

        Raises:
            DataError: saying what is wrong with the value.
        """
        if isinstance(value, bytes):
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError as error:
                raise DataError(f"{self.input_name} must be UTF-8 text.") from error
        if not isinstance(value, str):
            raise DataError(f"{self.input_name} takes strings, not {_json_type(value)}.")
        return checked_text(value, f"give a text in {self.input_name}")

    def answer(self, values: list) -> list:
        """Each value's outputs (`{output name: value}`), or the `DataError` that stops it.

        The whole batch goes through the pipeline at once; when the pipeline refuses it, each
        value is answered alone so that one bad value fails only its own request.
        """
        try:
            return self.predict(values)
        except DataError as error:
            if len(values) == 1:
                return [error]
        return [self._answer_one(value) for value in values]

    def _answer_one(self, value):
        try:
            return self.predict([value])[0]
        except DataError as error:
            return error

    def predict(self, values: list) -> list[dict]:
        """The pipeline's answers for checked values, in the signature's output names."""
        raise NotImplementedError

    def columns(self, rows: list[dict]) -> dict:
        """Rows of outputs as TF Serving's columnar `outputs`: one list per output."""
        return {name: [row[name] for row in rows] for name in self.outputs}

    def signature_def(self) -> dict:
        """The `serving_default` signature in TF Serving's metadata JSON."""
        return {
            "inputs": {self.input_name: self.input.info(self.input_name, "serving_default_")},
            "outputs": {
                name: tensor.info(name, "StatefulPartitionedCall:")
                for name, tensor in self.outputs.items()
            },
            "method_name": "tensorflow/serving/predict",
        }

    def description(self) -> dict:
        """What the page needs to know to offer this model."""
        return {
            "name": self.name,
            "version": str(self.version),
            "kind": self.kind,
            "input": self.input_name,
            "outputs": list(self.outputs),
        }


class ServedTranslator(ServedModel):
    """`translations`, `scores` for `sentences`, beam 4 as the exported `serving_default`."""

    kind = "translation"
    pipeline_class = ("apptk.applications.translation", "Translator")
    input_name = "sentences"
    outputs: ClassVar[dict[str, Tensor]] = {
        "translations": Tensor(str, (-1,)),
        "scores": Tensor(float, (-1,)),
    }

    def predict(self, values):
        return [
            {"translations": answer["translation"], "scores": answer["score"]}
            for answer in self.pipeline(values)
        ]


class ServedNextWord(ServedModel):
    """The top-5 next `words` and their `probabilities` for `texts`."""

    kind = "next-word"
    pipeline_class = ("apptk.applications.next_word", "NextWordPredictor")
    input_name = "texts"
    outputs: ClassVar[dict[str, Tensor]] = {
        "words": Tensor(str, (-1, TOP_K)),
        "probabilities": Tensor(float, (-1, TOP_K)),
    }

    def predict(self, values):
        return _top_choices(self.pipeline(values, top_k=TOP_K), "word", "words")


class ServedFillMask(ServedModel):
    """For each `[MASK]` of each text, the top-5 `tokens` and `probabilities`, and the
    `mask_counts`; columns are padded with "" and 0.0 to the most masks, as the export does."""

    kind = "fill-mask"
    pipeline_class = ("apptk.applications.fill_mask", "FillMasker")
    input_name = "texts"
    outputs: ClassVar[dict[str, Tensor]] = {
        "tokens": Tensor(str, (-1, -1, TOP_K)),
        "probabilities": Tensor(float, (-1, -1, TOP_K)),
        "mask_counts": Tensor(int, (-1,)),
    }

    def predict(self, values):
        return [
            {
                "tokens": [[choice["token"] for choice in mask] for mask in masks],
                "probabilities": [[choice["probability"] for choice in mask] for mask in masks],
                "mask_counts": len(masks),
            }
            for masks in self.pipeline(values, top_k=TOP_K)
        ]

    def columns(self, rows):
        most = max(row["mask_counts"] for row in rows)

        def padded(masks, filler):
            return masks + [[filler] * TOP_K] * (most - len(masks))

        return {
            "tokens": [padded(row["tokens"], "") for row in rows],
            "probabilities": [padded(row["probabilities"], 0.0) for row in rows],
            "mask_counts": [row["mask_counts"] for row in rows],
        }


class ServedImageClassifier(ServedModel):
    """The top-5 `labels` and `probabilities` for `image_bytes` (JPEG, PNG, GIF or BMP files,
    sent as `{"b64": ...}`), and Grad-CAM maps for the page."""

    kind = "image"
    pipeline_class = ("apptk.applications.image", "ImageClassifier")
    input_name = "image_bytes"
    outputs: ClassVar[dict[str, Tensor]] = {
        "labels": Tensor(str, (-1, TOP_K)),
        "probabilities": Tensor(float, (-1, TOP_K)),
    }

    def check(self, value):
        if isinstance(value, str):
            raise DataError('image_bytes takes an encoded image as {"b64": "<base64>"}.')
        if not isinstance(value, bytes):
            raise DataError(f'image_bytes takes {{"b64": ...}} values, not {_json_type(value)}.')
        if not value:
            raise DataError("image_bytes is empty; send an encoded JPEG, PNG, GIF or BMP file.")
        return value

    def predict(self, values):
        return _top_choices(self.pipeline(values, top_k=TOP_K), "label", "labels")

    def explain(self, image: bytes) -> dict:
        """Grad-CAM of the top class: `{"label", "probability", "heat_map"}` (nested lists)."""
        explanation = self.pipeline.explain(self.check(image))
        return {**explanation, "heat_map": explanation["heat_map"].astype(float).round(4).tolist()}


class ServedTextClassifier(ServedModel):
    """Every label with its probability, likeliest first, for `texts` (a fitted
    `apptk fit text-classifier` folder; it has no TF Serving export to mirror)."""

    kind = "text-classifier"
    pipeline_class = ("apptk.applications.text_classifier", "TextClassifier")
    input_name = "texts"
    outputs: ClassVar[dict[str, Tensor]] = {
        "labels": Tensor(str, (-1, -1)),
        "probabilities": Tensor(float, (-1, -1)),
    }

    def predict(self, values):
        return _top_choices(self.pipeline(values), "label", "labels")


SERVED_KINDS = {
    served.kind: served
    for served in (
        ServedTranslator,
        ServedNextWord,
        ServedFillMask,
        ServedImageClassifier,
        ServedTextClassifier,
    )
}


def _top_choices(answers: list[list[dict]], key: str, output: str) -> list[dict]:
    """The API's `[{key, "probability"}, ...]` per value as `{output: [...], "probabilities"}`."""
    return [
        {
            output: [choice[key] for choice in choices],
            "probabilities": [choice["probability"] for choice in choices],
        }
        for choices in answers
    ]


def _json_type(value) -> str:
    names = {dict: "an object", list: "a list", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else "this value")
