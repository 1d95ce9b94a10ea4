"""Starting the real `apptk serve` in a subprocess on a free loopback port, and a plain HTTP
client for it that never goes through a proxy (loopback must be reached directly)."""

import base64
import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_PHOTOS = os.path.join(ROOT, "..", "shared", "data", "imagenet_mobilenet_tflite", "photos")
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Server:
    """A running `apptk serve`: its base URL, its process and what it printed."""

    def __init__(self, process: subprocess.Popen, url: str, lines: queue.Queue):
        self.process = process
        self.url = url
        self._lines = lines

    def request(self, path: str, body=None, method: str | None = None, raw: bytes | None = None):
        """`(status, JSON answer)` for `path`; `body` is sent as JSON, `raw` as it is."""
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with DIRECT.open(request, timeout=120) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def predict(self, model: str, body: dict):
        return self.request(f"/v1/models/{model}:predict", body)

    def stop(self, sig=signal.SIGTERM, timeout: float = 60) -> tuple[int, str]:
        """Sends `sig`, waits for the exit; `(exit status, stderr)`."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        _, stderr = self.process.communicate(timeout=timeout)
        return self.process.returncode, stderr


def serve_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "apptk.cli", "serve", "--port", "0", *arguments]


@contextlib.contextmanager
def running_server(*arguments: str, timeout: float = 240):
    """Starts `apptk serve --port 0 ARGUMENTS`, waits for its "Serving ... at URL" line and
    yields a `Server`; stops it (SIGTERM) afterwards."""
    process = subprocess.Popen(
        serve_command(*arguments),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_forward, args=(process.stdout, lines), daemon=True).start()
    try:
        url = _served_url(process, lines, timeout)
        yield Server(process, url, lines)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


def _forward(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _served_url(process: subprocess.Popen, lines: queue.Queue, timeout: float) -> str:
    try:
        line = lines.get(timeout=timeout)
    except queue.Empty:
        process.kill()
        raise AssertionError(f"apptk serve printed nothing in {timeout} s") from None
    if line is None or " at http://" not in line:
        process.wait(timeout=60)
        raise AssertionError(f"apptk serve did not start: {process.stderr.read()}")
    return line.split(" at ")[-1].split("/ ")[0].rstrip("/")


def b64_file(path: str) -> dict:
    with open(path, "rb") as handle:
        return {"b64": base64.b64encode(handle.read()).decode("ascii")}
