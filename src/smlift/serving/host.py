"""Run an image's hosting mode on this machine: `docker run IMAGE serve`, or the same on the
local engine.

SageMaker hosting starts a model's image with the single argument `serve`, the model under
`/opt/ml/model`, and talks HTTP to port 8080 (`SAGEMAKER_BIND_TO_PORT`). `hosting_command`
turns a resolved image (`smlift.images.resolve_image`) into the process that does the same here:

    docker  docker run --rm --name NAME -p 127.0.0.1:PORT:8080 IMAGE serve
            (the image's ENTRYPOINT with `serve` as its arguments, as SageMaker runs it)
    local   the image's runtime (`LocalImage.bin_dir`) running its ENTRYPOINT with `serve
            --host 127.0.0.1 --port PORT`, its COPY'd files laid out under a root folder and the
            entrypoint's container paths pointed there

Either way the server listens on the loopback only, and gets the image's own ENV and the
hosting variables, never this machine's environment (no AWS credentials, no SMLIFT_HOME).

A memory size (a serverless endpoint's MemorySizeInMB) is the container's memory limit on the
Docker engine (`--memory`, no swap beyond it), as SageMaker gives a serverless endpoint that
much memory. On the local engine it is a best effort: each server process may allocate at most
that much (RLIMIT_DATA, set on the server right after it starts and inherited by its workers),
a limit per process rather than on their sum.
"""

from __future__ import annotations

import os
import resource
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import ImageError

LOOPBACK = "127.0.0.1"
CONTAINER_PORT = 8080
DOCKER_CLIENT_ENV = ("PATH", "HOME", "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT",
                     "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY", "XDG_RUNTIME_DIR")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class HostingCommand:
    """One server process: what to run, with which environment, where, and its container name."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path | None
    url: str
    container: str | None = None   # docker only: the container to remove when it stops
    memory_mb: int | None = None   # local engine: RLIMIT_DATA of each server process


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def hosting_command(image, port: int, root: Path, *, name: str,
                    environment: dict[str, str] | None = None,
                    memory_mb: int | None = None) -> HostingCommand:
    """The process that serves `image` on 127.0.0.1:`port`. `root` is a folder of the caller's
    for the local engine's files; `name` names the docker container; `memory_mb` limits it."""
    extra = {"SAGEMAKER_BIND_TO_PORT": str(CONTAINER_PORT), **(environment or {})}
    url = f"http://{LOOPBACK}:{port}"
    if image.engine == "docker":
        argv = ["docker", "run", "--rm", "--name", name, "-p", f"{LOOPBACK}:{port}:{CONTAINER_PORT}"]
        if memory_mb:
            argv += ["--memory", f"{memory_mb}m", "--memory-swap", f"{memory_mb}m"]
        for key in sorted(extra):
            argv += ["-e", key]
        client = {k: os.environ[k] for k in DOCKER_CLIENT_ENV if k in os.environ}
        client.setdefault("PATH", DEFAULT_PATH)
        return HostingCommand([*argv, image.docker_ref, "serve"], {**client, **extra}, None, url,
                              container=name)
    entry = [*(image.entrypoint or []), *([] if image.entrypoint else image.cmd or [])]
    if not entry:
        raise ImageError(f"image {image.uri} has no ENTRYPOINT or CMD to run with `serve`",
                         where=image.uri, fix="give its Dockerfile an ENTRYPOINT, as SageMaker needs")
    lay_out_files(image, root)
    paths = {container: str(root / container.lstrip("/")) for _, container in image.files}
    argv = [paths.get(word, word) for word in entry]
    if Path(argv[0]).name in ("python", "python3"):
        argv[0] = str(image.bin_dir / "python3")
    env = dict(image.env)
    env["PATH"] = f"{image.bin_dir}:{env.get('PATH') or DEFAULT_PATH}"
    env.update(extra)
    env["SAGEMAKER_BIND_TO_PORT"] = str(port)
    workdir = root / (image.workdir or "/").lstrip("/")
    workdir.mkdir(parents=True, exist_ok=True)
    return HostingCommand([*argv, "serve", "--host", LOOPBACK, "--port", str(port)], env,
                          workdir, url, memory_mb=memory_mb)


def lay_out_files(image, root: Path) -> None:
    """The image's COPY'd files under `root`, at their container paths."""
    for host, container in image.files:
        target = root / container.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(host, target)


def start(command: HostingCommand, log: Path) -> subprocess.Popen:
    """Start the server in a session of its own (so it outlives a CLI that exits), output to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        process = subprocess.Popen(command.argv, env=command.env, cwd=command.cwd, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    if command.memory_mb:
        limit_memory(process.pid, command.memory_mb)
    return process


def limit_memory(pid: int, memory_mb: int) -> bool:
    """RLIMIT_DATA of a running process (Linux); False where the platform cannot."""
    size = memory_mb * 1024 * 1024
    try:
        resource.prlimit(pid, resource.RLIMIT_DATA, (size, size))
        return True
    except (AttributeError, OSError, ValueError):
        return False


def wait_until_ready(url: str, alive: Callable[[], bool], timeout: float = 120,
                     sleep: Callable[[float], None] = time.sleep) -> bool:
    """True once GET /ping answers 200; False when the process died or `timeout` passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            return False
        if ping(url):
            return True
        sleep(0.2)
    return False


def ping(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/ping", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def invoke(url: str, body: bytes, content_type: str, accept: str | None = None,
           timeout: float = 60) -> tuple[int, str, bytes]:
    """(status, content type, body) of POST /invocations; 4xx and 5xx answers included."""
    headers = {"Content-Type": content_type, **({"Accept": accept} if accept else {})}
    request = urllib.request.Request(url + "/invocations", data=body, headers=headers,
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers.get_content_type(), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get_content_type(), exc.read()
