"""Hosting mode: this image behind a SageMaker endpoint (`docker run IMAGE serve`).

SageMaker hosting runs the image with the single argument `serve` and talks HTTP to it:

    GET  /ping          200 once the model is loaded (the health check)
    POST /invocations   raw bookings (text/csv with its header row, or application/json records)
                        -> the predictions.csv lines for those bookings (online.py), as text/csv
                           or, with `Accept: application/json`, as JSON records

`predict.py serve` hands over to `main` here, so the image's ENTRYPOINT and its Processing-job
behaviour are unchanged. The server is gunicorn (a pre-fork production server) running a Flask
app, with:

    port      SAGEMAKER_BIND_TO_PORT, else 8080 (--port)
    address   0.0.0.0 inside a container; smlift's local engine passes --host 127.0.0.1
    workers   SAGEMAKER_MODEL_SERVER_WORKERS, else one per CPU this process may use; a worker
              takes a new connection only while it holds no more than any other (Balance)
    threads   per worker (--threads, default 8): requests a worker holds at once; the ones that
              arrive together are scored in one call (online.Batcher), each answered its own bytes
    timeout   SAGEMAKER_MODEL_SERVER_TIMEOUT seconds, else 60
    body      at most SAGEMAKER_MAX_PAYLOAD_IN_MB MiB, else 6 (SageMaker's real-time limit)
    model     /opt/ml/model/model.pkl when SageMaker provides model data, else the baked-in one

Bad input answers 4xx with a one-line reason in text/plain, and the worker keeps serving.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import socket
import sys
from multiprocessing.sharedctypes import RawArray
from pathlib import Path

from flask import Flask, Response, request
from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker
from werkzeug.exceptions import HTTPException

import online
import predict

DEFAULT_PORT = 8080
DEFAULT_TIMEOUT = 60
DEFAULT_PAYLOAD_MB = 6
DEFAULT_THREADS = 8
SWITCH_SECONDS = 0.001
SAGEMAKER_MODEL = Path("/opt/ml/model/model.pkl")


def choose_model(explicit: str | None) -> Path:
    """--model, else the model data SageMaker unpacked into /opt/ml/model, else the baked-in one."""
    if explicit:
        return Path(explicit)
    return SAGEMAKER_MODEL if SAGEMAKER_MODEL.is_file() else predict.DEFAULT_MODEL


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(f"serve: {name}={value!r} must be a positive whole number")
    return int(value)


def one_line(text: str) -> str:
    return " ".join(str(text).split())[:1024]


def plain(status: int, text: str) -> Response:
    return Response(one_line(text) + "\n", status=status, mimetype="text/plain")


def create_app(model, max_bytes: int, batcher: online.Batcher | None = None) -> Flask:
    """The WSGI app: /ping and /invocations around one loaded model (scoring concurrent requests
    together through `batcher`, if given)."""
    app = Flask("smlift-inference")
    app.config["MAX_CONTENT_LENGTH"] = max_bytes

    @app.get("/ping")
    def ping() -> Response:
        return Response(status=200)

    @app.post("/invocations")
    def invocations() -> Response:
        try:
            body, kind = online.invoke(request.get_data(), request.content_type or "",
                                       request.headers.get("Accept", ""), model, batcher)
        except online.BadRequest as exc:
            return plain(exc.status, str(exc))
        return Response(body, status=200, mimetype=kind)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        if exc.code == 413:
            return plain(413, f"request body over {max_bytes} bytes; send fewer rows per request "
                              "(or raise SAGEMAKER_MAX_PAYLOAD_IN_MB)")
        return plain(exc.code or 500, exc.description or exc.name)

    return app


class Server(BaseApplication):
    """gunicorn, configured in code rather than from a file or its own command line."""

    def __init__(self, app: Flask, options: dict):
        self.app, self.options = app, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.app


class Balance:
    """How many connections each worker holds, in memory the workers share with the server that
    forks them, so that each takes a new connection only while it holds no more than any other.

    A kept-alive connection stays with the worker that accepted it, and whichever worker's
    event loop wakes first accepts: eight clients connecting together landed 1/7, 2/6 or 3/5,
    and the clients of the busier worker waited longer (measured at concurrency 8, before the
    other speed-ups: a p99 of 69 ms with 2/6, 41 to 57 ms with 4/4). Balanced, each worker
    scores its share of the clients in one call per round."""

    def __init__(self, slots: int):
        self.pids = RawArray("q", slots)     # the worker in each slot (0: free)
        self.conns = RawArray("q", slots)    # its open connections
        self.lock = multiprocessing.Lock()

    def claim(self, pid: int) -> int:
        """A slot for this worker (a free one, or a dead worker's); -1 if none is left."""
        with self.lock:
            for slot, owner in enumerate(self.pids):
                if owner == 0 or not running(owner):
                    self.pids[slot], self.conns[slot] = pid, 0
                    return slot
        return -1

    def release(self, pid: int) -> None:
        with self.lock:
            for slot, owner in enumerate(self.pids):
                if owner == pid:
                    self.pids[slot], self.conns[slot] = 0, 0

    def may_accept(self, slot: int, conns: int) -> bool:
        """Record `conns` for `slot`; whether no other live worker holds fewer."""
        self.conns[slot] = conns
        return all(conns <= self.conns[other] for other, owner in enumerate(self.pids)
                   if owner and other != slot)


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class BalancedWorker(ThreadWorker):
    """gunicorn's threaded worker, taking new connections only while `Balance` allows.

    gunicorn's event loop accepts while `nr_conns < worker_connections`; here that limit is
    the configured one when this worker holds no more connections than any other, and its own
    count (so: not now) otherwise. Its loop wakes at least every LOOP_SECONDS to look again."""

    balance: Balance | None = None   # set by `main` before gunicorn forks the workers
    slot = -1
    LOOP_SECONDS = 0.005

    def init_process(self) -> None:
        if self.balance is not None:
            self.slot = self.balance.claim(os.getpid())
        super().init_process()

    @property
    def worker_connections(self) -> int:
        if self.slot < 0 or self.balance.may_accept(self.slot, self.nr_conns):
            return self.connection_limit
        return self.nr_conns

    @worker_connections.setter
    def worker_connections(self, limit: int) -> None:
        self.connection_limit = limit

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        super().wait_for_and_dispatch_events(min(timeout, self.LOOP_SECONDS))


def forget_worker(server, worker) -> None:
    """gunicorn's child_exit hook (in the server): free the worker's `Balance` slot."""
    if BalancedWorker.balance is not None:
        BalancedWorker.balance.release(worker.pid)


def no_delay(server) -> None:
    """TCP_NODELAY on the listening sockets (accepted ones inherit it): gunicorn writes a response's
    headers and body separately, and Nagle would hold the body back for the client's delayed ACK
    (40 ms on Linux) on every keep-alive request."""
    for listener in server.LISTENERS:
        if listener.sock.family in (socket.AF_INET, socket.AF_INET6):
            listener.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="predict.py serve", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=None, help="default: $SAGEMAKER_BIND_TO_PORT or 8080")
    parser.add_argument("--workers", type=int, default=None,
                        help="default: $SAGEMAKER_MODEL_SERVER_WORKERS or the CPU count")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help="requests one worker holds at once, scored together (default: %(default)s)")
    parser.add_argument("--model", default=None, help=f"default: {SAGEMAKER_MODEL} if present, "
                                                      "else the model baked into the image")
    return parser.parse_args(argv)


def options(args: argparse.Namespace) -> dict:
    port = args.port or env_int("SAGEMAKER_BIND_TO_PORT", DEFAULT_PORT)
    for name in ("port", "workers", "threads"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise SystemExit(f"serve: --{name} must be a positive whole number")
    return {
        "bind": f"{args.host}:{port}",
        "workers": args.workers or env_int("SAGEMAKER_MODEL_SERVER_WORKERS", cpu_count()),
        "worker_class": BalancedWorker,   # gthread: keeps connections alive between requests
        "threads": args.threads,      # one scoring call at a time per worker, shared by these
        "timeout": env_int("SAGEMAKER_MODEL_SERVER_TIMEOUT", DEFAULT_TIMEOUT),
        "graceful_timeout": 20,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "when_ready": no_delay,
        "child_exit": forget_worker,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        model = predict.load_model(choose_model(args.model))
    except predict.StepError as exc:
        print(one_line(f"serve: {exc}"), file=sys.stderr, flush=True)
        return 1
    max_bytes = env_int("SAGEMAKER_MAX_PAYLOAD_IN_MB", DEFAULT_PAYLOAD_MB) * 1024 * 1024
    config = options(args)
    app = create_app(model, max_bytes, online.Batcher(model))
    BalancedWorker.balance = Balance(config["workers"])
    # The model and the libraries are loaded for good: move them out of the collector's sight, so
    # a full collection (every few thousand requests) scans only the garbage of requests, not the
    # whole heap (60 ms otherwise, at the worst time); the forked workers share these pages too.
    gc.freeze()
    # A worker's threads hand the interpreter to each other every millisecond instead of every
    # five: while one thread runs a scoring call, gunicorn's event loop (taking a request off a
    # connection) and the request threads (handing answers back) need it for short steps, and
    # each step waited up to 5 ms behind the call.
    sys.setswitchinterval(SWITCH_SECONDS)
    print(f"serve: {config['workers']} worker(s) of {config['threads']} thread(s) on "
          f"{config['bind']}", flush=True)
    Server(app, config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
