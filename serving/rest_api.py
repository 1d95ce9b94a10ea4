"""TF Serving's REST API bodies: predict requests in, answers, model status and metadata out.

As in https://www.tensorflow.org/tfx/serving/api_rest: a predict body holds either `instances`
(row form, answered as `predictions`) or `inputs` (columnar form, answered as `outputs`);
binary values travel as `{"b64": "..."}`; errors are `{"error": "..."}`.
"""

import base64
import binascii
import dataclasses

from apptk.serving.served_models import ServedModel

DEFAULT_SIGNATURE = "serving_default"


class RequestError(Exception):
    """A request TF Serving would refuse; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclasses.dataclass
class PredictRequest:
    """A predict body, read: its input values and which form to answer in."""

    values: list
    row_form: bool


def predict_request(body, served: ServedModel) -> PredictRequest:
    """Reads a predict body for `served`, checking its form, names and types.

    Raises:
        RequestError: what TF Serving would say of the body (status 400).
    """
    if not isinstance(body, dict):
        raise RequestError("The request body must be a JSON object.")
    signature = body.get("signature_name", DEFAULT_SIGNATURE)
    if signature not in (DEFAULT_SIGNATURE, ""):
        raise RequestError(f'Serving signature name: "{signature}" not found in signature def')
    unknown = set(body) - {"signature_name", "inputs", "instances"}
    if unknown:
        raise RequestError(f"Unknown key(s) in the request: {', '.join(sorted(unknown))}.")
    if ("inputs" in body) == ("instances" in body):
        raise RequestError("Give exactly one of 'instances' (row form) or 'inputs' (columnar).")
    if "instances" in body:
        values = [_instance_value(item, served.input_name) for item in _listed(body, "instances")]
        row_form = True
    else:
        values = _columnar_values(body["inputs"], served.input_name)
        row_form = False
    if not values:
        raise RequestError(f"No {served.input_name} given; send at least one.")
    return PredictRequest([decoded_value(value) for value in values], row_form)


def _listed(body: dict, key: str) -> list:
    if not isinstance(body[key], list):
        raise RequestError(f"'{key}' must be a list.")
    return body[key]


def _instance_value(item, input_name: str):
    """One row: the value itself, or `{input_name: value}`."""
    if isinstance(item, dict) and "b64" not in item:
        _check_input_names(item, input_name)
        return item[input_name]
    return item


def _columnar_values(inputs, input_name: str) -> list:
    """`inputs`: a list of values, or `{input_name: [values]}`."""
    if isinstance(inputs, dict) and "b64" not in inputs:
        _check_input_names(inputs, input_name)
        inputs = inputs[input_name]
    if not isinstance(inputs, list):
        raise RequestError(f"{input_name} must be a list (a batch), one value per example.")
    return inputs


def _check_input_names(item: dict, input_name: str) -> None:
    if set(item) != {input_name}:
        given = ", ".join(sorted(item)) or "none"
        raise RequestError(
            f"This model takes one input, '{input_name}'; the request gave: {given}."
        )


def decoded_value(value):
    """`{"b64": "..."}` as bytes; other values as they are."""
    if not isinstance(value, dict):
        return value
    if set(value) != {"b64"} or not isinstance(value["b64"], str):
        raise RequestError('A binary value must be {"b64": "<base64 string>"}.')
    try:
        return base64.b64decode(value["b64"], validate=True)
    except (binascii.Error, ValueError) as error:
        raise RequestError(f"A b64 value is not valid base64 ({error}).") from error


def predict_answer(served: ServedModel, rows: list[dict], row_form: bool) -> dict:
    """The answer body: `{"predictions": [row, ...]}` or `{"outputs": {name: column}}`."""
    if row_form:
        return {"predictions": rows}
    return {"outputs": served.columns(rows)}


def model_status(served: ServedModel) -> dict:
    """`GET /v1/models/NAME`: the version served, available."""
    return {
        "model_version_status": [
            {
                "version": str(served.version),
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ]
    }


def model_metadata(served: ServedModel) -> dict:
    """`GET /v1/models/NAME/metadata`: the serving signature, as TF Serving lays it out."""
    return {
        "model_spec": {"name": served.name, "signature_name": "", "version": str(served.version)},
        "metadata": {
            "signature_def": {
                "signature_def": {DEFAULT_SIGNATURE: served.signature_def()},
            }
        },
    }
