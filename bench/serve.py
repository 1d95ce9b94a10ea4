"""`apptk serve` under load: a bounded closed-loop load test on loopback, requests/s and p50/p99
latency for translation (en_es) and image classification (mobilenet_v2), batching on and off,
against one `apptk translate` (and `apptk classify`) process per input.

    python bench/serve.py [--duration S] [--warmup S] [--clients 1,8,32] [--baseline-runs N]
                          [--models translation,image] [--batching on,off] [--no-prime]
                          [--max-batch-size N] [--batch-timeout-ms MS]

For each batching setting one server is started (`apptk serve en_es mobilenet_v2 --port 0`,
with `--no-batching` for off) and stopped with SIGTERM after its rows; its exit status is
reported. Each server is first primed (--no-prime skips it): every input sent once, one at a
time, uncounted, as TensorFlow's first call on an input shape is slow. Then for each model and
client count: N client threads, each with its own keep-alive HTTP connection to 127.0.0.1
(never through a proxy), send one instance per request back to back; --warmup seconds are not
counted, then --duration seconds are. A row counts the answers that arrived within the
measured window: `requests` (status 200 with one prediction), their rate, and their p50/p99
latency (nearest rank); `errors` counts every non-200 answer, malformed answer or exception,
warm-up included (0 in a healthy run). The clients run on the same machine as the server and
share its CPUs. Defaults: 2 servers x 2 models x 3 client counts x 32 s, about 7 minutes
with the starts and the baseline.

Inputs: ~40 everyday English sentences written below; the photos in
../shared/data/imagenet_mobilenet_tflite/photos and the first 30 of each class folder of
../shared/data/cats_vs_dogs/validation, when there (otherwise a few generated JPEGs, and the
output says so). Baseline: the median wall time of --baseline-runs `apptk translate SENTENCE`
(`apptk classify PHOTO`) processes, one input each, run before any server starts; each row's
`vs CLI` is its requests/s over that baseline's inputs/s. Stops by itself: every wait has a
timeout, and a server that SIGTERM does not end within 60 s is killed. Asserts nothing.
"""

import argparse
import base64
import glob
import http.client
import json
import math
import os
import queue
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data")
PHOTOS = os.path.join(DATA, "imagenet_mobilenet_tflite", "photos")
CATS_VS_DOGS = os.path.join(DATA, "cats_vs_dogs", "validation")
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
SERVED = {"translation": "en_es", "image": "mobilenet_v2"}
START_TIMEOUT = 300  # seconds for a server to print its "Serving ... at URL" line
REQUEST_TIMEOUT = 120  # seconds for one answer
STOP_TIMEOUT = 60  # seconds for a server to exit after SIGTERM
CLI_TIMEOUT = 300  # seconds for one `apptk translate` / `apptk classify` process

SENTENCES = [
    "Hello, how are you?",
    "Where is the train station?",
    "I would like a cup of coffee, please.",
    "What time is it?",
    "My name is Anna.",
    "Can you help me?",
    "How much does this cost?",
    "I don't understand.",
    "Please speak more slowly.",
    "The weather is nice today.",
    "I am looking for a cheap hotel near the beach.",
    "Do you speak English?",
    "We are going to the cinema tonight.",
    "Thank you very much for your help.",
    "Where can I buy a ticket?",
    "The children are playing in the garden.",
    "I have lived in this city for ten years.",
    "Could you tell me the way to the museum?",
    "She reads a book every week.",
    "It is raining, so take an umbrella.",
    "I'm hungry.",
    "Let's eat dinner together.",
    "My brother works in a hospital.",
    "The shop closes at eight in the evening.",
    "I forgot my keys at home.",
    "Tom wants to learn to play the guitar.",
    "Is there a pharmacy around here?",
    "I need to see a doctor.",
    "We missed the last bus, so we walked home.",
    "This soup is too hot.",
    "Good morning!",
    "See you tomorrow.",
    "Where do you live?",
    "I like to swim in the summer.",
    "The meeting has been moved to Monday afternoon.",
    "How long does it take to get to the airport?",
    "My phone is not working.",
    "Could I have the bill, please?",
    "He bought a new car last month.",
    "They are waiting for us at the restaurant.",
]


def apptk_command(*arguments: str) -> list[str]:
    """The `apptk` console script next to this Python, or `python -m apptk.cli`."""
    script = os.path.join(os.path.dirname(sys.executable), "apptk")
    if os.path.exists(script):
        return [script, *arguments]
    return [sys.executable, "-m", "apptk.cli", *arguments]


def find_photos() -> tuple[list[str], str]:
    """The photos to send and where they come from."""
    photos = sorted(
        path
        for path in glob.glob(os.path.join(PHOTOS, "*"))
        if path.lower().endswith(PHOTO_SUFFIXES)
    )
    sources = [f"{len(photos)} from {os.path.normpath(PHOTOS)}"] if photos else []
    for folder in sorted(glob.glob(os.path.join(CATS_VS_DOGS, "*", ""))):
        chosen = sorted(
            path
            for path in glob.glob(os.path.join(folder, "*"))
            if path.lower().endswith(PHOTO_SUFFIXES)
        )[:30]
        photos += chosen
        if chosen:
            sources.append(f"{len(chosen)} from {os.path.normpath(folder)}")
    return photos, ", ".join(sources)


def generated_photos(folder: str, count: int = 4) -> list[str]:
    """`count` JPEGs of coloured gradients, for a machine without any photo."""
    from PIL import Image

    paths = []
    for number in range(count):
        image = Image.new("RGB", (320, 240))
        image.putdata(
            [
                ((x * (number + 1)) % 256, (y * 2) % 256, (x + y + 60 * number) % 256)
                for y in range(240)
                for x in range(320)
            ]
        )
        path = os.path.join(folder, f"generated_{number}.jpg")
        image.save(path, quality=90)
        paths.append(path)
    return paths


def request_bodies(model: str, photos: list[str]) -> list[bytes]:
    """One JSON predict body per input, one instance each."""
    if model == "translation":
        return [json.dumps({"instances": [sentence]}).encode() for sentence in SENTENCES]
    bodies = []
    for path in photos:
        with open(path, "rb") as handle:
            encoded = base64.b64encode(handle.read()).decode("ascii")
        bodies.append(json.dumps({"instances": [{"b64": encoded}]}).encode())
    return bodies


# --- the baseline: one CLI process per input -------------------------------------------------


def cli_baseline(model: str, inputs: list[str], runs: int) -> tuple[float | None, str]:
    """Median wall seconds of one `apptk translate`/`apptk classify` process per input, or
    None and why."""
    verb = "translate" if model == "translation" else "classify"
    times = []
    for number in range(runs):
        value = inputs[number % len(inputs)]
        started = time.perf_counter()
        try:
            done = subprocess.run(
                apptk_command(verb, value),
                check=False,
                capture_output=True,
                text=True,
                timeout=CLI_TIMEOUT,
                cwd=ROOT,
            )
        except subprocess.TimeoutExpired:
            return None, f"apptk {verb} took over {CLI_TIMEOUT} s"
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            return None, f"apptk {verb} exited {done.returncode}: {last}"
        times.append(time.perf_counter() - started)
    return statistics.median(times), f"apptk {verb}, median of {runs}"


# --- the server ------------------------------------------------------------------------------


class Server:
    """A running `apptk serve --port 0` in a subprocess; its stderr goes to `stderr`, a file."""

    def __init__(self, models: list[str], batching: bool, arguments, stderr):
        command = [
            sys.executable,
            "-m",
            "apptk.cli",
            "serve",
            *[SERVED[model] for model in models],
            "--port",
            "0",
            "--batching" if batching else "--no-batching",
            "--max-batch-size",
            str(arguments.max_batch_size),
            "--batch-timeout-ms",
            str(arguments.batch_timeout_ms),
        ]
        self.command = command
        self.stderr = stderr
        started = time.perf_counter()
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=self.stderr, text=True, cwd=ROOT
        )
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=_forward, args=(self.process.stdout, lines), daemon=True).start()
        self.port = None
        try:
            line = lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            line = None
        if line is None or " at http://" not in line:
            self.stop()
            return
        self.start_seconds = time.perf_counter() - started
        url = line.split(" at ")[-1].split("/ ")[0].rstrip("/")
        self.port = int(url.rsplit(":", 1)[-1])

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> tuple[int | None, str]:
        """SIGTERM, then a kill after STOP_TIMEOUT s; `(exit status, how it ended)`."""
        how = "SIGTERM"
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
                how = f"killed: SIGTERM did not end it within {STOP_TIMEOUT} s"
        else:
            how = "had already exited"
        return self.process.returncode, how

    def stderr_tail(self, lines: int = 8) -> str:
        self.stderr.seek(0)
        return "\n".join(self.stderr.read().strip().splitlines()[-lines:])


def _forward(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def ask(connection: http.client.HTTPConnection, path: str, body: bytes) -> bool:
    """Sends one predict body; whether it was answered 200 with one prediction."""
    connection.request("POST", path, body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    data = response.read()
    if response.status != 200:
        return False
    predictions = json.loads(data).get("predictions")
    return isinstance(predictions, list) and len(predictions) == 1


# --- the load --------------------------------------------------------------------------------


def run_load(port: int, model: str, bodies: list[bytes], clients: int, warmup, duration):
    """Closed-loop load by `clients` threads; `(latencies of the answers in the measured
    window, errors over the whole run, threads still running at the end)`."""
    path = f"/v1/models/{SERVED[model]}:predict"
    started = time.perf_counter()
    window_start = started + warmup
    window_end = window_start + duration
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients

    def client(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        index = number * 7  # clients start at different inputs
        try:
            while time.perf_counter() < window_end:
                body = bodies[index % len(bodies)]
                index += 1
                sent = time.perf_counter()
                try:
                    answered = ask(connection, path, body)
                except (OSError, http.client.HTTPException, ValueError):
                    answered = False
                    connection.close()  # reconnects on the next request
                    time.sleep(0.05)  # a dead server is not hammered
                done = time.perf_counter()
                if not answered:
                    errors[number] += 1
                elif window_start <= done <= window_end:
                    latencies[number].append(done - sent)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=client, args=(number,), daemon=True) for number in range(clients)
    ]
    for thread in threads:
        thread.start()
    deadline = window_end + REQUEST_TIMEOUT + 10
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.perf_counter()))
    stuck = sum(thread.is_alive() for thread in threads)
    return [value for values in latencies for value in values], sum(errors), stuck


def prime(port: int, model: str, bodies: list[bytes]) -> tuple[float, int]:
    """Sends every input once, one at a time (first calls of a shape are slow):
    `(seconds, errors)`."""
    path = f"/v1/models/{SERVED[model]}:predict"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    errors = 0
    started = time.perf_counter()
    try:
        for body in bodies:
            try:
                errors += not ask(connection, path, body)
            except (OSError, http.client.HTTPException, ValueError):
                errors += 1
                connection.close()
    finally:
        connection.close()
    return time.perf_counter() - started, errors


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of `values` (not empty)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


HEADER = (
    f"{'model':<12} {'batching':<8} {'clients':>7} {'requests':>8} {'requests/s':>10} "
    f"{'p50 ms':>8} {'p99 ms':>8} {'errors':>6} {'vs CLI':>8}"
)


def row_line(model, batching, clients, latencies, errors, duration, baseline) -> str:
    rate = len(latencies) / duration
    if latencies:
        p50 = f"{1000 * percentile(latencies, 0.50):8.1f}"
        p99 = f"{1000 * percentile(latencies, 0.99):8.1f}"
    else:
        p50 = p99 = f"{'n/a':>8}"
    ratio = f"{rate * baseline:7.1f}×" if baseline else f"{'n/a':>8}"
    return (
        f"{model:<12} {batching:<8} {clients:>7} {len(latencies):>8} {rate:>10.1f} "
        f"{p50} {p99} {errors:>6} {ratio}"
    )


def comma_list(text: str, allowed=None) -> list[str]:
    values = [value.strip() for value in text.split(",") if value.strip()]
    if allowed is not None:
        unknown = [value for value in values if value not in allowed]
        if unknown:
            raise argparse.ArgumentTypeError(
                f"unknown {', '.join(unknown)}; choose from {', '.join(allowed)}"
            )
    return values


def client_counts(text: str) -> list[int]:
    try:
        counts = [int(value) for value in comma_list(text)]
    except ValueError:
        raise argparse.ArgumentTypeError("give whole numbers, e.g. 1,8,32") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("give client counts of 1 or more")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30, help="measured seconds per row")
    parser.add_argument("--warmup", type=float, default=2, help="uncounted seconds per row")
    parser.add_argument("--clients", type=client_counts, default=[1, 8, 32])
    parser.add_argument("--baseline-runs", type=int, default=5, help="CLI processes per model")
    parser.add_argument(
        "--models",
        type=lambda text: comma_list(text, SERVED),
        default=list(SERVED),
        help="translation,image",
    )
    parser.add_argument(
        "--batching",
        type=lambda text: comma_list(text, ("on", "off")),
        default=["on", "off"],
        help="on,off",
    )
    parser.add_argument(
        "--prime",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="send every input once after each server starts, uncounted (default: on)",
    )
    parser.add_argument("--max-batch-size", type=int, default=32)
    parser.add_argument("--batch-timeout-ms", type=float, default=5.0)
    arguments = parser.parse_args()
    # SIGTERM (a `timeout`, a job scheduler) ends this script through its `finally` blocks,
    # so a running server is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    print("command:", shlex.join([os.path.relpath(sys.executable, ROOT), *sys.argv]), flush=True)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"CPUs: {os.cpu_count()} (usable by this process: {len(os.sched_getaffinity(0))}); "
        f"load average before the run: {load}"
    )
    with tempfile.TemporaryDirectory(prefix="apptk_bench_serve_") as scratch:
        inputs = {"translation": SENTENCES}
        if "image" in arguments.models:
            photos, sources = find_photos()
            if photos:
                print(f"photos: {len(photos)} ({sources})")
            else:
                photos = generated_photos(scratch)
                print(
                    f"photos: none found in {os.path.normpath(DATA)}; sending {len(photos)} "
                    f"generated gradient JPEGs instead (labels are meaningless)"
                )
            inputs["image"] = photos
        print(f"sentences: {len(SENTENCES)} written in this file")
        bodies = {model: request_bodies(model, inputs[model]) for model in arguments.models}

        baselines = {}
        for model in arguments.models:
            if arguments.baseline_runs < 1:
                baselines[model] = None
                print(f"baseline {model}: not run (--baseline-runs {arguments.baseline_runs})")
                continue
            seconds, how = cli_baseline(model, inputs[model], arguments.baseline_runs)
            baselines[model] = seconds
            if seconds is None:
                print(f"baseline {model}: not measured, {how}")
            else:
                print(
                    f"baseline {model}: {seconds:.2f} s per process, "
                    f"{1 / seconds:.2f} inputs/s ({how}, one input per process)"
                )
        sys.stdout.flush()
        run_servers(arguments, bodies, baselines)


def server_rows(server, batching, arguments, bodies, baselines, rates) -> None:
    """The rows of one running server, printed as they come."""
    print(
        f"\nbatching {batching}: server ready in {server.start_seconds:.1f} s on port "
        f"{server.port}: {shlex.join(server.command[1:])}"
    )
    if arguments.prime:
        for model in arguments.models:
            seconds, errors = prime(server.port, model, bodies[model])
            print(
                f"primed {model}: each of its {len(bodies[model])} inputs sent once, "
                f"{seconds:.1f} s, {errors} errors (not counted in the rows)"
            )
    print(HEADER, flush=True)
    for model in arguments.models:
        for clients in arguments.clients:
            if not server.alive():
                print(f"{model:<12} {batching:<8} {clients:>7} not run: the server died")
                continue
            latencies, errors, stuck = run_load(
                server.port, model, bodies[model], clients, arguments.warmup, arguments.duration
            )
            rates[model, batching, clients] = len(latencies) / arguments.duration
            line = row_line(
                model, batching, clients, latencies, errors, arguments.duration, baselines[model]
            )
            if stuck:
                line += f"  ({stuck} clients still waiting for an answer, abandoned)"
            print(line, flush=True)


def run_servers(arguments, bodies: dict, baselines: dict) -> None:
    rates = {}
    print(
        f"\nload: {arguments.warmup:g} s warm-up + {arguments.duration:g} s measured per row, "
        f"one instance per request; max batch size {arguments.max_batch_size}, "
        f"batch timeout {arguments.batch_timeout_ms:g} ms (batching on)"
    )
    print("vs CLI: requests/s over one CLI process per input's inputs/s")
    for batching in arguments.batching:
        with tempfile.TemporaryFile(mode="w+") as stderr:
            server = Server(arguments.models, batching == "on", arguments, stderr)
            if server.port is None:
                print(
                    f"\nbatching {batching}: the server did not start (no ready line, limit {START_TIMEOUT} s; "
                    f"exit status {server.process.returncode}); its rows are missing. "
                    f"stderr:\n{server.stderr_tail()}"
                )
                continue
            try:
                server_rows(server, batching, arguments, bodies, baselines, rates)
            finally:
                status, how = server.stop()
                verdict = "exited 0" if status == 0 else f"exited {status} (expected 0)"
                print(f"server stopped ({how}): {verdict}")
                if status != 0:
                    print(f"its stderr, last lines:\n{server.stderr_tail()}")
                sys.stdout.flush()

    if {"on", "off"} <= set(arguments.batching):
        print("\nbatching on / off, requests/s:")
        for model in arguments.models:
            for clients in arguments.clients:
                on, off = rates.get((model, "on", clients)), rates.get((model, "off", clients))
                ratio = f"{on / off:.2f}×" if on is not None and off else "n/a"
                print(f"  {model:<12} {clients:>3} clients: {ratio}")


if __name__ == "__main__":
    main()
