"""`apptk serve`: models behind TF Serving's REST API on this machine, with a page to try them."""

import click

from apptk.applications.arguments import BATCH_SIZE


@click.command()
@click.argument("models", nargs=-1, metavar="[MODEL]...")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 opens the server to other machines.",
)
@click.option(
    "--port",
    default=8501,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (TF Serving's REST port); 0 picks a free one.",
)
@click.option(
    "--batching/--no-batching",
    default=True,
    show_default=True,
    help="Run requests that arrive together as one model call.",
)
@click.option(
    "--max-batch-size",
    default=32,
    show_default=True,
    type=click.IntRange(*BATCH_SIZE),
    help="Most values in one model call, and in one request.",
)
@click.option(
    "--batch-timeout-ms",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0, 1000),
    help="How long a request waits for others to join its batch.",
)
@click.option(
    "--max-body-mb",
    default=16.0,
    show_default=True,
    type=click.FloatRange(0.001, 1024),
    help="Largest request body accepted, in megabytes.",
)
@click.option(
    "--threads",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker threads running model calls.",
)
@click.option("--access-log", is_flag=True, default=False, help="Log every request.")
def serve(
    models,
    host,
    port,
    batching,
    max_batch_size,
    batch_timeout_ms,
    max_body_mb,
    threads,
    access_log,
):
    """Serve MODELs over HTTP with TF Serving's REST API and a page to try them at /.

    Each MODEL is NAME=PATH, a preset name (apptk models) or a path: a fitted model folder,
    an exported SavedModel, or a TF Serving base folder of numbered versions (the latest is
    served). With no MODEL, the shipped defaults are served. Then, as with TF Serving:

    curl -d '{"inputs": {"sentences": ["Hello, how are you?"]}}'
    http://127.0.0.1:8501/v1/models/en_es:predict

    Ctrl-C or SIGTERM stops accepting requests, finishes those in flight and exits 0.
    """
    from apptk.serving.app import ServingOptions, serving_app
    from apptk.serving.model_loading import load_served_model, model_requests
    from apptk.serving.server import bound_socket, serve_until_stopped

    requests = model_requests(list(models))
    served = []
    for request in requests:
        click.echo(f"Loading {request.name} ({request.kind}) from {request.model}...", err=True)
        served.append(load_served_model(request))
    options = ServingOptions(
        batching=batching,
        max_batch_size=max_batch_size,
        batch_timeout=batch_timeout_ms / 1000,
        max_body_bytes=int(max_body_mb * 1024 * 1024),
        threads=threads,
    )
    listener = bound_socket(host, port)
    address = f"http://{_url_host(host)}:{listener.getsockname()[1]}"

    def say_ready():
        names = ", ".join(f"{model.name} (version {model.version})" for model in served)
        click.echo(f"Serving {names} at {address}/ (Ctrl-C stops)", err=False)

    serve_until_stopped(serving_app(served, options), listener, access_log, say_ready)
    click.echo("Stopped: every request in flight was answered.", err=True)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
