"""Running the application on a socket with uvicorn, and stopping it gracefully.

Ctrl-C or SIGTERM: uvicorn stops accepting connections, lets requests in flight finish, and
`serve` returns normally (the process then exits 0), where uvicorn alone would re-raise the
signal afterwards.
"""

import contextlib
import errno
import signal
import socket
from collections.abc import Callable

from apptk.applications.errors import ApptkError

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class ServeError(ApptkError):
    """The server could not start: the address is taken, not allowed, or not this machine's."""


def bound_socket(host: str, port: int) -> socket.socket:
    """A listening socket on `host:port` (port 0: any free port), or a one-line error."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(2048)
    except OSError as error:
        reasons = {
            errno.EADDRINUSE: f"port {port} is in use; stop what uses it or give --port",
            errno.EACCES: f"port {port} needs more privileges; give a port above 1023",
            errno.EADDRNOTAVAIL: f"{host} is not an address of this machine",
        }
        reason = reasons.get(error.errno, error.strerror or str(error))
        raise ServeError(f"Cannot listen on {host}:{port}: {reason}.") from error
    except socket.gaierror as error:
        raise ServeError(f"Cannot listen on {host}:{port}: {error.strerror}.") from error
    return listener


def serve_until_stopped(
    app, listener: socket.socket, access_log: bool, on_ready: Callable[[], None]
) -> None:
    """Serves `app` on `listener` until Ctrl-C or SIGTERM, then drains and returns.

    `on_ready` is called once the application has started and requests are answered.
    """
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets=None):
            await super().startup(sockets=sockets)
            if self.started:
                on_ready()

    config = uvicorn.Config(
        app, log_level="warning", access_log=access_log, timeout_graceful_shutdown=60
    )
    with _signals_that_only_stop():
        Server(config).run(sockets=[listener])


@contextlib.contextmanager
def _signals_that_only_stop():
    """uvicorn re-raises the signal that stopped it once it has drained; what it re-raises
    into is this no-op, so the process ends normally."""
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in _STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
