"""`apptk serve` end to end: the real server in a subprocess on a free loopback port, talked
to over HTTP: TF Serving's predict, status and metadata, errors, batching, shutdown."""

import concurrent.futures
import glob
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest
import tensorflow as tf
from fill_mask_fixtures import fine_tuned_classifier
from image_fixtures import photo, write_photo
from serving_fixtures import DIRECT, SHARED_PHOTOS, b64_file, running_server, serve_command
from tensorflow.core.framework import types_pb2

from apptk.applications.fill_mask import FillMasker
from apptk.applications.image import ImageClassifier
from apptk.applications.next_word import NextWordPredictor
from apptk.applications.run.presets import PRESETS
from apptk.applications.text_classifier import TextClassifier
from apptk.applications.translation import Translator

SENTENCES = [
    "Hello, how are you?",
    "Where is the train station?",
    (
        "The group stressed that the lack of resources or health insurance should never serve as "
        "a justification for discrimination against a specific group, and the ministry agreed, "
        "saying that every hospital in the region would receive more money next year."
    ),
]


@pytest.fixture(scope="module")
def server(tiny_translator_folder, tiny_saved_model):
    base = os.path.dirname(tiny_saved_model)
    with running_server(
        f"tiny={tiny_translator_folder}", f"tiny_export={base}", *PRESET_NAMES
    ) as s:
        yield s


PRESET_NAMES = ["en_es", "next_word", "fill_mask", "mobilenet_v2"]


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> list[str]:
    """Real photos when the shared data is here, else generated ones."""
    real = sorted(glob.glob(os.path.join(SHARED_PHOTOS, "*")))
    if real:
        return real[:4]
    folder = tmp_path_factory.mktemp("photos")
    return [write_photo(folder / f"p{i}.png", photo((40 * i, 90, 200), size=64)) for i in range(3)]


def test_it_listens_on_loopback_by_default(server):
    assert server.url.startswith("http://127.0.0.1:")
    status, answer = server.request("/healthz")
    assert status == 200
    assert answer["status"] == "ok"
    assert sorted(answer["models"]) == sorted([*PRESET_NAMES, "tiny", "tiny_export"])


def test_translations_are_the_python_apis(server):
    status, answer = server.predict("en_es", {"inputs": {"sentences": SENTENCES}})
    assert status == 200
    expected = Translator.load("en_es")(SENTENCES)
    assert answer["outputs"]["translations"] == [e["translation"] for e in expected]
    assert answer["outputs"]["scores"] == pytest.approx([e["score"] for e in expected], abs=1e-3)
    assert answer["outputs"]["translations"][0] == "Hola, ¿cómo estás?"


def test_the_instances_form_answers_row_by_row(server):
    body = {"instances": [{"sentences": SENTENCES[0]}, {"sentences": SENTENCES[1]}]}
    status, answer = server.predict("en_es", body)
    assert status == 200
    columns = server.predict("en_es", {"inputs": {"sentences": SENTENCES[:2]}})[1]["outputs"]
    assert answer["predictions"] == [
        {"translations": t, "scores": s} for t, s in zip(columns["translations"], columns["scores"])
    ]


def test_next_words_are_the_python_apis(server):
    texts = ["The quick brown", "I would like to"]
    status, answer = server.predict("next_word", {"instances": texts})
    assert status == 200
    expected = NextWordPredictor.load("next_word")(texts, top_k=5)
    for row, choices in zip(answer["predictions"], expected):
        assert row["words"] == [c["word"] for c in choices]
        assert row["probabilities"] == pytest.approx([c["probability"] for c in choices], abs=1e-3)


def test_fill_mask_answers_are_the_python_apis(server):
    texts = ["I would like to [MASK] a book.", "The [MASK] is on the [MASK]."]
    status, answer = server.predict("fill_mask", {"inputs": {"texts": texts}})
    assert status == 200
    outputs = answer["outputs"]
    assert outputs["mask_counts"] == [1, 2]
    expected = FillMasker.load("fill_mask")(texts, top_k=5)
    for row, masks in enumerate(expected):
        for mask, choices in enumerate(masks):
            assert outputs["tokens"][row][mask] == [c["token"] for c in choices]
    assert outputs["tokens"][0][1] == [""] * 5  # padded like the export's tensor


def test_image_labels_are_the_python_apis(server, photos):
    body = {"inputs": {"image_bytes": [b64_file(path) for path in photos]}}
    status, answer = server.predict("mobilenet_v2", body)
    assert status == 200
    expected = ImageClassifier.load("mobilenet_v2")(photos, top_k=5)
    assert answer["outputs"]["labels"] == [[c["label"] for c in row] for row in expected]
    if os.path.basename(photos[0]) == "bird.bmp":
        assert "cat" in " ".join(answer["outputs"]["labels"][1][:2])  # cat.bmp


def test_grad_cam_for_the_page(server, photos):
    status, answer = server.request(
        "/apptk/models/mobilenet_v2:explain", {"image_bytes": b64_file(photos[0])}
    )
    assert status == 200
    heat_map = answer["heat_map"]
    assert len(heat_map) == len(heat_map[0]) > 1
    assert max(max(row) for row in heat_map) == pytest.approx(1.0)
    status, refused = server.request("/apptk/models/en_es:explain", {"image_bytes": {"b64": ""}})
    assert status == 400 and "only images" in refused["error"]


def test_a_fitted_text_classifier_is_served_like_the_api(tmp_path_factory):
    folder = fine_tuned_classifier(tmp_path_factory).folder
    texts = ["where do you live", "I like green tea."]
    with running_server(f"topics={folder}") as server:
        status, answer = server.predict("topics", {"instances": texts})
        metadata = server.request("/v1/models/topics/metadata")[1]
    assert status == 200
    expected = TextClassifier.load(folder)(texts)
    for row, choices in zip(answer["predictions"], expected):
        assert row["labels"] == [c["label"] for c in choices]
        assert row["probabilities"] == pytest.approx([c["probability"] for c in choices], abs=1e-3)
    signature = metadata["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert set(signature["inputs"]) == {"texts"}


def test_a_fitted_folder_and_an_export_are_served_like_the_api(server, tiny_translator_folder):
    sentences = ["The red cat eats.", "Does the big dog run now?"]
    expected = [a["translation"] for a in Translator.load(tiny_translator_folder)(sentences)]
    for name in ("tiny", "tiny_export"):
        status, answer = server.predict(name, {"inputs": {"sentences": sentences}})
        assert status == 200
        assert answer["outputs"]["translations"] == expected


@pytest.mark.parametrize("name", [*PRESET_NAMES, "tiny_export"])
def test_status_and_metadata_match_the_exported_signature(server, name, tiny_saved_model):
    path = tiny_saved_model if name == "tiny_export" else PRESETS[name].path
    status, answer = server.request(f"/v1/models/{name}")
    assert status == 200
    assert answer["model_version_status"][0]["state"] == "AVAILABLE"
    assert answer["model_version_status"][0]["version"] == "1"
    status, metadata = server.request(f"/v1/models/{name}/versions/1/metadata")
    assert status == 200
    signature = metadata["metadata"]["signature_def"]["signature_def"]["serving_default"]
    exported = tf.saved_model.load(path).signatures["serving_default"]
    inputs = exported.structured_input_signature[1]
    assert set(signature["inputs"]) == set(inputs)
    for input_name, spec in inputs.items():
        assert signature["inputs"][input_name]["dtype"] == dtype_name(spec.dtype)
    outputs = exported.structured_outputs
    assert set(signature["outputs"]) == set(outputs)
    for output_name, tensor in outputs.items():
        described = signature["outputs"][output_name]
        assert described["dtype"] == dtype_name(tensor.dtype)
        assert len(described["tensor_shape"]["dim"]) == tensor.shape.rank


def dtype_name(dtype: tf.DType) -> str:
    return types_pb2.DataType.Name(dtype.as_datatype_enum)


def test_versions_in_the_url(server):
    body = {"instances": ["Hello."]}
    assert server.request("/v1/models/en_es/versions/1:predict", body)[0] == 200
    status, answer = server.request("/v1/models/en_es/versions/2:predict", body)
    assert (status, answer) == (
        404,
        {"error": "Servable not found for request: Specific(en_es, 2)"},
    )


@pytest.mark.parametrize(
    ("path", "body", "status", "words"),
    [
        ("/v1/models/nope:predict", {"instances": ["Hi."]}, 404, "Latest(nope)"),
        ("/v1/models/nope", None, 404, "Latest(nope)"),
        ("/v1/models/en_es:predict", b"{not json", 400, "JSON Parse error"),
        ("/v1/models/en_es:predict", b"\xff\xfe", 400, "JSON Parse error"),
        ("/v1/models/en_es:predict", b"[" * 100_000, 400, "nested too deeply"),
        ("/v1/models/en_es:predict", {"inputs": {"texts": ["Hi."]}}, 400, "'sentences'"),
        ("/v1/models/en_es:predict", {"inputs": {"sentences": [7]}}, 400, "not a number"),
        ("/v1/models/en_es:predict", {"instances": [["Hi."]]}, 400, "not a list"),
        ("/v1/models/en_es:predict", {"instances": ["   "]}, 400, "empty"),
        ("/v1/models/en_es:predict", {"instances": ["x" * 10_001]}, 400, "limit is 10,000"),
        ("/v1/models/en_es:predict", {"instances": ["Hi."] * 33}, 400, "maximum batch size 32"),
        ("/v1/models/en_es:predict", {"instances": ["Hi.", ""]}, 400, "Instance 2 of 2"),
        ("/v1/models/fill_mask:predict", {"instances": ["no mask here"]}, 400, "[MASK]"),
        ("/v1/models/mobilenet_v2:predict", {"instances": ["abc"]}, 400, "b64"),
        ("/v1/models/mobilenet_v2:predict", {"instances": [{"b64": "aGVsbG8="}]}, 400, "image"),
        ("/v1/models/en_es:regress", {"instances": ["Hi."]}, 400, "not :regress"),
        ("/nowhere", None, 404, "Malformed request"),
    ],
)
def test_bad_requests_get_a_one_line_json_error(server, path, body, status, words):
    raw = body if isinstance(body, bytes) else None
    answer_status, answer = server.request(path, None if raw else body, raw=raw)
    assert answer_status == status
    assert set(answer) == {"error"}
    assert words in answer["error"]
    assert "\n" not in answer["error"] and "Traceback" not in answer["error"]


def test_a_wrong_method_is_a_405(server):
    status, answer = server.request("/v1/models/en_es", method="DELETE")
    assert status == 405 and "Method not allowed" in answer["error"]


def test_a_body_over_the_limit_is_refused_before_it_is_read(server):
    connection = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]))
    connection.putrequest("POST", "/v1/models/en_es:predict")
    connection.putheader("Content-Length", "17000000")
    connection.endheaders()  # and not one byte of the body
    response = connection.getresponse()
    assert response.status == 413
    assert json.loads(response.read()) == {
        "error": "The request body is 17,000,000 bytes; the limit is 16,777,216 (--max-body-mb)."
    }
    connection.close()


def test_a_body_over_the_limit_without_a_declared_length_is_refused(server):
    def chunks():  # 16 MiB, then the 100 bytes that pass the limit
        yield from [b"a" * (1024 * 1024)] * 16
        yield b"a" * 100

    request = urllib.request.Request(server.url + "/v1/models/en_es:predict", data=chunks())
    request.add_header("Transfer-Encoding", "chunked")
    with pytest.raises(urllib.error.HTTPError) as refused:
        DIRECT.open(request, timeout=60)
    assert refused.value.code == 413
    assert "the limit is 16,777,216" in json.loads(refused.value.read())["error"]


def test_concurrent_requests_are_batched_and_a_bad_one_fails_alone(server):
    good = [{"instances": [sentence]} for sentence in SENTENCES[:2] * 6]
    bad = [{"instances": [{"b64": "aGVsbG8="}]}]
    photos_and_garbage = bad * 3
    before = server.request("/healthz")[1]["batching"]["en_es"]["batches"]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        translations = list(pool.map(lambda b: server.predict("en_es", b), good))
        garbage = list(pool.map(lambda b: server.predict("mobilenet_v2", b), photos_and_garbage))
    expected = [a["translation"] for a in Translator.load("en_es")(SENTENCES[:2])] * 6
    assert [status for status, _ in translations] == [200] * 12
    assert [a["predictions"][0]["translations"] for _, a in translations] == expected
    assert all(status == 400 for status, _ in garbage)
    batching = server.request("/healthz")[1]["batching"]["en_es"]
    assert batching["batches"] - before < 12  # some requests shared a model call
    assert batching["largest_batch"] > 1


def test_sigterm_finishes_the_requests_in_flight_and_exits_0():
    body = {"instances": [SENTENCES[2]] * 16}
    with running_server("en_es") as server:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            answers = [pool.submit(server.predict, "en_es", body) for _ in range(4)]
            deadline = time.monotonic() + 60
            while server.request("/healthz")[1]["batching"]["en_es"]["batches"] == 0:
                assert time.monotonic() < deadline
                time.sleep(0.02)
            code, stderr = server.stop(signal.SIGTERM)
            results = [answer.result(timeout=120) for answer in answers]
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=5)
    assert code == 0, stderr
    assert [status for status, _ in results] == [200] * 4
    assert all(len(answer["predictions"]) == 16 for _, answer in results)
    assert "Stopped" in stderr and "Traceback" not in stderr


def start_failure(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        serve_command(*arguments), capture_output=True, text=True, timeout=180, check=False
    )


def test_a_model_that_fails_to_load_stops_start_up_with_one_line(tiny_saved_model, tmp_path):
    damaged = tmp_path / "damaged" / "1"
    shutil.copytree(tiny_saved_model, damaged)
    shutil.rmtree(damaged / "variables")
    result = start_failure(f"broken={damaged.parent}")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ") and "broken" not in last
    assert str(damaged) in last
    assert "Traceback" not in result.stderr


def test_a_port_in_use_is_one_line(tiny_saved_model):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = start_failure(f"tiny={tiny_saved_model}", "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: Cannot listen on 127.0.0.1:{port}: port {port} is in use; stop what uses it "
        "or give --port."
    )


def test_an_unknown_model_name_is_one_line():
    result = start_failure("no_such_model")
    assert result.returncode == 1
    expected = (
        "Error: Model not found: no_such_model (neither a folder nor a preset; `apptk models` "
        "lists presets)."
    )
    assert result.stderr.strip().splitlines() == [expected]


def test_a_client_that_goes_away_does_not_disturb_the_server(server):
    body = b'{"instances": ["' + b"Hello there. " * 50 + b'"]}'
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1]))) as s:
            s.sendall(
                b"POST /v1/models/en_es:predict HTTP/1.1\r\nHost: x\r\nContent-Type: "
                b"application/json\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body[:20]
            )
    threading.Event().wait(0.5)
    assert server.predict("en_es", {"instances": ["Hello."]})[0] == 200
    assert server.process.poll() is None
