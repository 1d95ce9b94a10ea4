"""Joining a multi-worker cluster without hanging: who we wait for, a time limit, Ctrl-C.

`MultiWorkerMirroredStrategy()` blocks inside TensorFlow, holding Python's interpreter lock,
until every task of `TF_CONFIG` has connected: no output, and neither Ctrl-C nor SIGTERM is
delivered. So before creating it, each task waits for the others in plain Python: it listens
on its own cluster address for a moment (so the others see it is there) and connects to
theirs until all of them answer, naming those that don't, giving up after a time limit and
stopping at once on Ctrl-C or SIGTERM. Only then does TensorFlow connect, with everyone
present.
"""

import contextlib
import signal
import socket
import sys
import threading
import time

from apptk.applications.errors import ApptkError

DEFAULT_TIMEOUT_SECONDS = 300.0
POLL_SECONDS = 0.5


class ClusterConnectionError(ApptkError):
    """The cluster's other tasks did not all answer in time."""


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def own_and_peer_addresses(tf_config: dict) -> tuple[str | None, list[str]]:
    """This task's `host:port` in `tf_config` and every other task's."""
    task = tf_config.get("task", {})
    own, peers = None, []
    for task_type, addresses in tf_config.get("cluster", {}).items():
        for index, address in enumerate(addresses):
            if (task_type, index) == (task.get("type"), task.get("index")):
                own = address
            else:
                peers.append(address)
    return own, peers


def unreachable(addresses: list[str], timeout: float = 0.5) -> list[str]:
    """The addresses where nothing accepts a TCP connection now."""
    missing = []
    for address in addresses:
        try:
            with socket.create_connection(_address(address), timeout=timeout):
                pass
        except (OSError, ValueError):
            missing.append(address)
    return missing


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM raises KeyboardInterrupt in the main thread while waiting (as Ctrl-C does)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _present_at(address: str | None):
    """Listens on this task's own address while waiting, if the port is free."""
    listener = None
    if address:
        with contextlib.suppress(OSError, ValueError):
            listener = socket.socket(
                socket.AF_INET6 if ":" in _address(address)[0] else socket.AF_INET
            )
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(_address(address))
            listener.listen(64)
    try:
        yield
    finally:
        if listener is not None:
            listener.close()


def wait_for_peers(tf_config: dict, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
    """Returns once every other task of `tf_config` accepts connections.

    Raises:
        ClusterConnectionError: some did not within `timeout` seconds (they are named).
        KeyboardInterrupt: Ctrl-C or SIGTERM while waiting.
    """
    own, peers = own_and_peer_addresses(tf_config)
    deadline = time.monotonic() + timeout
    announced = None
    with _sigterm_as_interrupt(), _present_at(own):
        while missing := unreachable(peers):
            if time.monotonic() >= deadline:
                raise ClusterConnectionError(
                    f"the cluster did not connect within {timeout:.0f} s: nothing answers at "
                    f"{', '.join(missing)} (start apptk there with the same cluster in "
                    "TF_CONFIG, or raise --cluster-timeout)."
                )
            if missing != announced:
                announced = missing
                print(
                    f"Waiting for the cluster: {', '.join(missing)} not reachable yet "
                    f"(giving up after {timeout:.0f} s).",
                    file=sys.stderr,
                    flush=True,
                )
            time.sleep(POLL_SECONDS)
