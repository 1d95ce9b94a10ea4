"""`apptk serve`'s parts without a server: batching, TF Serving bodies, naming models."""

import asyncio
import base64
import json
import shutil
import threading
import time

import pytest

from apptk.applications.errors import ModelFileError
from apptk.serving.batching import Batcher
from apptk.serving.model_loading import model_request, model_requests
from apptk.serving.rest_api import RequestError, predict_answer, predict_request
from apptk.serving.served_models import ServedFillMask, ServedImageClassifier, ServedTranslator


class RecordingModel:
    """Doubles each value and records the batches it was called with."""

    def __init__(self, delay: float = 0.0, fail_on=None):
        self.batches = []
        self.delay = delay
        self.fail_on = fail_on
        self.threads = set()

    def __call__(self, values):
        self.threads.add(threading.get_ident())
        self.batches.append(list(values))
        if self.fail_on in values:
            raise ValueError("broken batch")
        time.sleep(self.delay)
        return [value * 2 for value in values]


def run_requests(batcher: Batcher, requests: list[list]) -> list:
    async def all_requests():
        try:
            return await asyncio.gather(
                *(batcher.submit(values) for values in requests), return_exceptions=True
            )
        finally:
            await batcher.close()

    return asyncio.run(all_requests())


async def in_thread(function, *arguments):
    return await asyncio.get_running_loop().run_in_executor(None, function, *arguments)


def test_requests_arriving_together_run_as_one_batch_and_each_gets_its_own_answers():
    model = RecordingModel()
    batcher = Batcher(model, max_batch_size=32, timeout=0.2, run_in_thread=in_thread)
    answers = run_requests(batcher, [[1], [2, 3], [4], [5, 6, 7]])
    assert answers == [[2], [4, 6], [8], [10, 12, 14]]
    assert model.batches == [[1, 2, 3, 4, 5, 6, 7]]
    assert batcher.statistics() == {"batches": 1, "largest_batch": 7}
    assert threading.get_ident() not in model.threads  # the model ran off the event loop


def test_a_batch_never_exceeds_the_maximum_and_a_request_is_never_split():
    model = RecordingModel(delay=0.01)
    batcher = Batcher(model, max_batch_size=4, timeout=0.05, run_in_thread=in_thread)
    requests = [[1, 2], [3], [4, 5], [6], [7, 8, 9], [10]]
    answers = run_requests(batcher, requests)
    assert answers == [[2 * v for v in values] for values in requests]
    assert all(len(batch) <= 4 for batch in model.batches)
    flat = [value for batch in model.batches for value in batch]
    assert sorted(flat) == list(range(1, 11))
    for values in requests:  # each request's values are consecutive in one batch
        assert any(
            values == batch[i : i + len(values)] for batch in model.batches for i in range(4)
        )


def test_without_company_a_request_waits_only_the_timeout():
    model = RecordingModel()
    batcher = Batcher(model, max_batch_size=32, timeout=0.05, run_in_thread=in_thread)
    started = time.perf_counter()
    assert run_requests(batcher, [[21]]) == [[42]]
    assert time.perf_counter() - started < 2.0


def test_a_failing_batch_fails_its_requests_and_the_next_batch_still_runs():
    model = RecordingModel(fail_on=13)

    async def two_rounds():
        batcher = Batcher(model, max_batch_size=32, timeout=0.05, run_in_thread=in_thread)
        first = await asyncio.gather(
            batcher.submit([13]), batcher.submit([1]), return_exceptions=True
        )
        second = await batcher.submit([2])
        await batcher.close()
        return first, second

    first, second = asyncio.run(two_rounds())
    assert all(isinstance(answer, ValueError) for answer in first)
    assert second == [4]


def translator_double() -> ServedTranslator:
    return ServedTranslator("en_es", 1, pipeline=None)


@pytest.mark.parametrize(
    "body",
    [
        {"instances": ["Hi.", "Bye."]},
        {"instances": [{"sentences": "Hi."}, {"sentences": "Bye."}]},
        {"inputs": {"sentences": ["Hi.", "Bye."]}},
        {"inputs": ["Hi.", "Bye."]},
        {"signature_name": "serving_default", "inputs": {"sentences": ["Hi.", "Bye."]}},
    ],
)
def test_both_tf_serving_forms_give_the_same_values(body):
    request = predict_request(body, translator_double())
    assert request.values == ["Hi.", "Bye."]
    assert request.row_form == ("instances" in body)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ([1, 2], "JSON object"),
        ({}, "exactly one of"),
        ({"inputs": ["a"], "instances": ["a"]}, "exactly one of"),
        ({"instances": "Hi."}, "must be a list"),
        ({"inputs": {"sentences": "Hi."}}, "must be a list"),
        ({"inputs": {"texts": ["Hi."]}}, "takes one input, 'sentences'"),
        ({"instances": [{"sentence": "Hi."}]}, "takes one input, 'sentences'"),
        ({"inputs": {"sentences": []}}, "No sentences given"),
        ({"signature_name": "greedy", "inputs": ["Hi."]}, 'signature name: "greedy"'),
        ({"inputs": ["Hi."], "extra": 1}, "Unknown key"),
        ({"instances": [{"b64": "not base64!"}]}, "not valid base64"),
        ({"instances": [{"b64": 3}]}, "b64"),
    ],
)
def test_malformed_bodies_are_refused_with_what_is_wrong(body, words):
    with pytest.raises(RequestError, match=words) as refused:
        predict_request(body, translator_double())
    assert refused.value.status == 400


def test_b64_values_arrive_as_bytes_and_images_refuse_plain_strings():
    image = ServedImageClassifier("image", 1, pipeline=None)
    encoded = base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()
    request = predict_request({"instances": [{"b64": encoded}]}, image)
    assert request.values == [b"\x89PNG\r\n\x1a\n"]
    with pytest.raises(Exception, match="b64"):
        image.check("iVBORw0=")


def test_text_values_are_checked_like_the_python_api():
    served = translator_double()
    assert served.check(b"Hi.") == "Hi."
    for bad, words in [("", "empty"), ("x" * 10_001, "limit is 10,000"), (3, "not a number")]:
        with pytest.raises(Exception, match=words):
            served.check(bad)
    with pytest.raises(Exception, match="UTF-8"):
        served.check(b"\xff\xfe")


def test_fill_mask_columns_are_padded_to_the_most_masks_as_the_export_pads_them():
    served = ServedFillMask("fill_mask", 1, pipeline=None)
    one = {"tokens": [list("abcde")], "probabilities": [[0.5] * 5], "mask_counts": 1}
    two = {"tokens": [list("abcde")] * 2, "probabilities": [[0.5] * 5] * 2, "mask_counts": 2}
    columns = predict_answer(served, [one, two], row_form=False)["outputs"]
    assert columns["tokens"][0][1] == [""] * 5
    assert columns["probabilities"][0][1] == [0.0] * 5
    assert columns["mask_counts"] == [1, 2]
    assert predict_answer(served, [one], row_form=True) == {"predictions": [one]}


def test_models_are_named_by_preset_by_name_equals_path_or_by_folder(tiny_saved_model, tmp_path):
    assert model_request("en_es").name == "en_es"
    assert model_request("en_es").kind == "translation"
    base = tmp_path / "translator"
    shutil.copytree(tiny_saved_model, base / "1")
    shutil.copytree(tiny_saved_model, base / "3")
    latest = model_request(str(base))
    assert (latest.name, latest.version, latest.kind) == ("translator", 3, "translation")
    assert latest.model.endswith("3")
    pinned = model_request(f"mine={base / '1'}")
    assert (pinned.name, pinned.version) == ("mine", 1)
    assert [r.name for r in model_requests([])] == [
        "en_es",
        "next_word",
        "fill_mask",
        "mobilenet_v2",
    ]


def test_a_fitted_folder_is_served_under_its_folder_name(tiny_translator_folder):
    request = model_request(tiny_translator_folder)
    assert (request.name, request.kind, request.version) == ("tiny", "translation", 1)


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["no_such_model"], "Model not found"),
        (["en_es", "en_es"], "Two models are named 'en_es'"),
        (["bad name=en_es"], "cannot be a model name"),
        (["x="], "names no model"),
    ],
)
def test_bad_model_arguments_are_refused_before_loading(arguments, words):
    with pytest.raises(ModelFileError, match=words):
        model_requests(arguments)


def test_folders_that_hold_no_servable_model_are_refused(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelFileError, match="holds no model"):
        model_request(str(empty))
    damaged = tmp_path / "damaged" / "1"
    damaged.mkdir(parents=True)
    (damaged / "saved_model.pb").write_bytes(b"\x00 not a protobuf \xff" * 10)
    with pytest.raises(ModelFileError, match="not a readable SavedModel|not one apptk exported"):
        model_request(str(damaged))
    unknown = tmp_path / "speech"
    unknown.mkdir()
    (unknown / "config.json").write_text(json.dumps({"kind": "speech-recognition"}))
    with pytest.raises(ModelFileError, match="serves translation, next-word"):
        model_request(str(unknown))
