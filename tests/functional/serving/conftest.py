"""A real inference server (containers/inference/predict.py serve) on loopback, and the batch
pipeline's own predictions.csv for examples/data/bookings.csv to hold its answers against."""

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
INFERENCE = REPO / "containers" / "inference"
BOOKINGS = REPO / "examples" / "data" / "bookings.csv"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, body: bytes, content_type: str, accept: str | None = None):
    """(status, content type, body) of a POST, 4xx/5xx included."""
    headers = {"Content-Type": content_type, **({"Accept": accept} if accept else {})}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers.get_content_type(), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get_content_type(), exc.read()


def wait_for_ping(url: str, process: subprocess.Popen | None = None, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"server exited {process.returncode}: {process.stderr.read()}")
        try:
            with urllib.request.urlopen(url + "/ping", timeout=2) as response:
                return response.status
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.1)
    raise AssertionError(f"{url}/ping never answered")


@pytest.fixture(scope="module")
def inference_server():
    """The base URL of `predict.py serve` on 127.0.0.1 (two workers, a 1 MiB body limit)."""
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "SAGEMAKER_MAX_PAYLOAD_IN_MB": "1"}
    process = subprocess.Popen(
        [sys.executable, str(INFERENCE / "predict.py"), "serve", "--host", "127.0.0.1",
         "--port", str(port), "--workers", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_ping(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def batch_predictions(tmp_path_factory) -> bytes:
    """predictions.csv as the pipeline publishes it: its three steps run on bookings.csv."""
    root = tmp_path_factory.mktemp("batch")
    (root / "in").mkdir()
    (root / "in" / "bookings.csv").write_bytes(BOOKINGS.read_bytes())
    steps = [(REPO / "scripts" / "preprocessing.py", "in", "pre"),
             (INFERENCE / "predict.py", "pre", "pred"),
             (REPO / "scripts" / "postprocessing.py", "pred", "post")]
    for script, source, target in steps:
        subprocess.run([sys.executable, str(script), "--input-dir", str(root / source),
                        "--output-dir", str(root / target)], check=True, capture_output=True)
    return (root / "post" / "results" / "predictions.csv").read_bytes()  # design 13 layout


class Http:
    """The helpers above, for test modules (which cannot import conftest under importlib)."""
    post = staticmethod(post)
    wait_for_ping = staticmethod(wait_for_ping)
    free_port = staticmethod(free_port)


@pytest.fixture(scope="session")
def web() -> Http:
    return Http()
