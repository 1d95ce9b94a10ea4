"""The ASGI application of `apptk serve` (Starlette): TF Serving's REST routes, `/healthz`,
the page at `/` and the page's own two routes (`/apptk/models`, `:explain`).

Every failure is answered as JSON `{"error": "one line"}` with a 4xx status; an unexpected
error is a 500 with one line, logged without a traceback.
"""

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import json
import logging
import os

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from apptk.applications.errors import DataError, first_line
from apptk.serving import rest_api
from apptk.serving.batching import Batcher
from apptk.serving.rest_api import RequestError
from apptk.serving.served_models import ServedImageClassifier, ServedModel

PAGE_FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "page")
log = logging.getLogger("apptk.serve")


@dataclasses.dataclass(frozen=True)
class ServingOptions:
    """How requests are batched and limited.

    Args:
        batching: gather requests into batches (else each request runs on its own).
        max_batch_size: the most values in one model call, and in one request.
        batch_timeout: seconds a waiting request waits for others to join its batch.
        max_body_bytes: the largest request body accepted.
        threads: worker threads running model calls.
    """

    batching: bool = True
    max_batch_size: int = 32
    batch_timeout: float = 0.005
    max_body_bytes: int = 16 * 1024 * 1024
    threads: int = 2


class _Models:
    """The served models with their batchers and the thread pool they run in."""

    def __init__(self, served: list[ServedModel], options: ServingOptions):
        self.options = options
        self.by_name = {model.name: model for model in served}
        self.pool = concurrent.futures.ThreadPoolExecutor(options.threads, "apptk-model")
        self.batchers = {
            model.name: Batcher(
                model.answer, options.max_batch_size, options.batch_timeout, self.run_in_thread
            )
            for model in served
        }

    async def run_in_thread(self, function, *arguments):
        return await asyncio.get_running_loop().run_in_executor(self.pool, function, *arguments)

    def find(self, request: Request) -> ServedModel:
        """The model a URL names, at the version it names (TF Serving's 404 otherwise)."""
        name = request.path_params["name"]
        version = request.path_params.get("version")
        served = self.by_name.get(name)
        if served is None or (version is not None and version != str(served.version)):
            wanted = f"Specific({name}, {version})" if version is not None else f"Latest({name})"
            raise RequestError(f"Servable not found for request: {wanted}", 404)
        return served

    async def answer(self, served: ServedModel, values: list) -> list:
        if len(values) > self.options.max_batch_size:
            raise RequestError(
                f"Task size {len(values)} is larger than maximum batch size "
                f"{self.options.max_batch_size}; send at most that many per request."
            )
        values = [
            _checked(served, value, number, len(values)) for number, value in enumerate(values)
        ]
        if self.options.batching:
            results = await self.batchers[served.name].submit(values)
        else:
            results = await self.run_in_thread(served.answer, values)
        for number, result in enumerate(results):
            if isinstance(result, DataError):
                raise RequestError(_numbered(result, number, len(results)))
        return results

    async def close(self) -> None:
        for batcher in self.batchers.values():
            await batcher.close()
        self.pool.shutdown(wait=True)


def _checked(served: ServedModel, value, number: int, count: int):
    try:
        return served.check(value)
    except DataError as error:
        raise RequestError(_numbered(error, number, count)) from error


def _numbered(error: Exception, number: int, count: int) -> str:
    return (
        first_line(error)
        if count == 1
        else f"Instance {number + 1} of {count}: {first_line(error)}"
    )


def serving_app(served: list[ServedModel], options: ServingOptions | None = None) -> Starlette:
    """The application answering for `served` models."""
    models = _Models(served, options or ServingOptions())

    async def read_json(request: Request):
        declared = request.headers.get("content-length")
        limit = models.options.max_body_bytes
        if declared and declared.isdigit() and int(declared) > limit:
            raise RequestError(_too_large(int(declared), limit), 413)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise RequestError(_too_large(len(body), limit), 413)
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as error:
            raise RequestError(f"JSON Parse error: {first_line(error)}") from error
        except RecursionError as error:
            raise RequestError("JSON Parse error: the body is nested too deeply.") from error

    async def predict(request: Request):
        served = models.find(request)
        parsed = rest_api.predict_request(await read_json(request), served)
        rows = await models.answer(served, parsed.values)
        return rest_api.predict_answer(served, rows, parsed.row_form)

    async def other_method(request: Request):
        models.find(request)
        method = request.path_params["method"]
        raise RequestError(f"apptk serve answers :predict, not :{method}.")

    async def status(request: Request):
        return rest_api.model_status(models.find(request))

    async def metadata(request: Request):
        return rest_api.model_metadata(models.find(request))

    async def healthz(request: Request):
        batches = {name: batcher.statistics() for name, batcher in models.batchers.items()}
        return {"status": "ok", "models": sorted(models.by_name), "batching": batches}

    async def listing(request: Request):
        return {"models": [served.description() for served in models.by_name.values()]}

    async def explain(request: Request):
        served = models.find(request)
        if not isinstance(served, ServedImageClassifier):
            raise RequestError(
                f"{served.name} is a {served.kind} model; only images are explained."
            )
        body = await read_json(request)
        if not isinstance(body, dict) or set(body) != {"image_bytes"}:
            raise RequestError('Send {"image_bytes": {"b64": "<base64 image>"}}.')
        image = rest_api.decoded_value(body["image_bytes"])
        try:
            return await models.run_in_thread(served.explain, image)
        except DataError as error:
            raise RequestError(first_line(error)) from error

    async def page(request: Request):
        return FileResponse(os.path.join(PAGE_FOLDER, "index.html"))

    def route(path, endpoint, methods=("GET",)):
        return Route(path, _json_endpoint(endpoint), methods=list(methods))

    routes = [
        Route("/", page, methods=["GET"]),
        Mount("/page", StaticFiles(directory=PAGE_FOLDER), name="page"),
        route("/healthz", healthz),
        route("/apptk/models", listing),
        route("/apptk/models/{name}:explain", explain, ["POST"]),
        route("/v1/models/{name}:predict", predict, ["POST"]),
        route("/v1/models/{name}/versions/{version}:predict", predict, ["POST"]),
        route("/v1/models/{name}:{method}", other_method, ["POST"]),
        route("/v1/models/{name}/versions/{version}:{method}", other_method, ["POST"]),
        route("/v1/models/{name}/metadata", metadata),
        route("/v1/models/{name}/versions/{version}/metadata", metadata),
        route("/v1/models/{name}", status),
        route("/v1/models/{name}/versions/{version}", status),
    ]

    async def not_found(request: Request, error: HTTPException):
        message = {404: "Malformed request", 405: "Method not allowed"}.get(
            error.status_code, error.detail
        )
        return JSONResponse(
            {"error": f"{message}: {request.method} {request.url.path}"}, error.status_code
        )

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        await models.close()

    return Starlette(
        routes=routes, exception_handlers={HTTPException: not_found}, lifespan=lifespan
    )


def _json_endpoint(endpoint):
    """`endpoint`'s dict as a JSON response; its errors as one-line JSON errors."""

    async def answered(request: Request):
        try:
            return JSONResponse(await endpoint(request))
        except RequestError as error:
            return JSONResponse({"error": str(error)}, error.status)
        except Exception as error:  # noqa: BLE001 - a server answers, it does not crash
            log.error(
                "%s %s failed: %s: %s",
                request.method,
                request.url.path,
                type(error).__name__,
                first_line(error),
            )
            return JSONResponse({"error": f"Internal error: {first_line(error)}"}, 500)

    return answered


def _too_large(size: int, limit: int) -> str:
    return f"The request body is {size:,} bytes; the limit is {limit:,} (--max-body-mb)."
