"""Serving the console: a uvicorn server on a socket bound before the app is built.

    server = ConsoleServer(backend, host="127.0.0.1", port=8765)   # port 0: any free port
    server.url                      # the address to open, with the port actually bound
    server.run(say=print)           # until Ctrl-C; then the console's executions end
    server.start_in_thread(); server.shutdown()                    # tests

The socket is bound first so that the Host/Origin guard knows the real port (`--port 0`).
Executions started from the console run on this process's threads. When the server stops,
`run` waits for them to end (a second Ctrl-C stops them: ABORTED); SIGTERM stops them at once.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Callable

import uvicorn

from ..errors import InputError
from .app import create_app
from .backend import ConsoleBackend
from .guard import allowed_hosts, is_loopback


class ConsoleServer:
    def __init__(self, backend: ConsoleBackend, host: str = "127.0.0.1", port: int = 8765):
        self.backend, self.host = backend, host
        self.socket = bind(host, port)
        self.port = self.socket.getsockname()[1]
        app = create_app(backend, allowed_hosts(host, self.port))
        config = uvicorn.Config(app, log_level="warning", lifespan="off",
                                timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{shown}:{self.port}/"

    def run(self, say: Callable[[str], None] = print, urgent: tuple = ()) -> None:
        """Serve until interrupted, then wait for the executions started from the console;
        an interruption of an `urgent` type (the CLI's SIGTERM) stops them instead."""
        try:
            self.server.run(sockets=[self.socket])
        except KeyboardInterrupt as interrupt:  # uvicorn re-raises the signal it handled
            if isinstance(interrupt, urgent):
                self.stop_started(say)
                raise
        self.finish_started(say)

    def finish_started(self, say: Callable[[str], None]) -> None:
        running = self.backend.running_here()
        if not running:
            return
        say(f"waiting for {len(running)} execution(s) started from the console to end "
            "(Ctrl-C again stops them: ABORTED)")
        try:
            for arn in running:
                self.backend.sfn.wait(arn)
        except KeyboardInterrupt:
            self.stop_started(say)

    def stop_started(self, say: Callable[[str], None]) -> None:
        for arn in self.backend.running_here():
            say(f"stopping {arn}")
            self.backend.stop(arn)

    # -- in a thread (tests) --------------------------------------------------------------
    def start_in_thread(self, timeout: float = 10.0) -> str:
        self._thread = threading.Thread(target=self.server.run,
                                        kwargs={"sockets": [self.socket]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the console server did not start")
            time.sleep(0.02)
        return self.url

    def shutdown(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port; InputError when the address cannot be had."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.create_server((host, port), family=family)
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                         where="--host/--port",
                         fix="choose another --port (0: any free port)") from None
    sock.setblocking(False)
    return sock


def exposure_warning(host: str) -> str | None:
    """What to tell a user who listens beyond this machine (None on loopback)."""
    if is_loopback(host):
        return None
    return (f"warning: listening on {host}: the console has no login; anyone who can reach "
            "this address can start and stop executions and read local S3")
