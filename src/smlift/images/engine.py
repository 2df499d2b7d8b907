"""Which engine builds and runs images: a Docker engine where one answers, else smlift's own.

`SMLIFT_ENGINE` chooses: `local` (never Docker), `docker` (always; an error if none answers) or
`auto` (the default: Docker when `docker info` succeeds). Where Docker is used, `smlift build`
runs `docker build` and records the image's real config (`docker image inspect`); the job
runner runs such images with `docker run` (processing/container.py). The tests run this path
against a real engine wherever one answers (`.ci/run` starts one).

This module is the one place that calls the `docker` client for images: build, inspect, and
pull (with an ECR login through the one door to AWS, `aws.py`).
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Callable

from ..aws.client import AwsClient
from ..errors import ImageError, InputError, SmliftError

_ECR_HOST_RE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com"
                          r"(?:\.cn)?$")

ENGINES = ("auto", "local", "docker")


@lru_cache(maxsize=1)
def docker_engine_available() -> bool:
    """True when a Docker engine answers `docker info` (cached for the process)."""
    try:
        result = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"],
                                capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and bool(result.stdout.strip())


def choose_engine(engine: str | None = None,
                  available: Callable[[], bool] = docker_engine_available) -> str:
    """"local" or "docker", from the argument, else $SMLIFT_ENGINE, else auto-detection."""
    choice = (engine or os.environ.get("SMLIFT_ENGINE") or "auto").lower()
    if choice not in ENGINES:
        raise InputError(f"unknown engine {choice!r}", where="SMLIFT_ENGINE",
                         fix="use one of: " + ", ".join(ENGINES))
    if choice == "auto":
        return "docker" if available() else "local"
    if choice == "docker" and not available():
        raise ImageError("SMLIFT_ENGINE=docker but no Docker engine answers `docker info`",
                         fix="start Docker, or set SMLIFT_ENGINE=local")
    return choice


def describe_engine(engine: str) -> str:
    """One line on where jobs run: `docker (Docker Engine 20.10.24)` or `local (...)`."""
    if engine == "docker":
        try:
            version = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"],
                                     capture_output=True, text=True, timeout=15).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            version = ""
        return f"docker (Docker Engine {version or 'unknown version'}): each job in a container"
    return "local (smlift's own runner, no containers: docs/fidelity.md says what differs)"


def docker_build(context_dir: Path, tag: str, echo: Callable[[str], None],
                 run: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> dict:
    """`docker build -t TAG CONTEXT`, then the image's config: {Id, Entrypoint, Cmd, Env,
    WorkingDir}. ImageError with the last lines of output when the build fails."""
    echo(f"docker build -t {tag} {context_dir}")
    result = run(["docker", "build", "-t", tag, str(context_dir)], capture_output=True, text=True)
    for line in (result.stdout or "").splitlines() + (result.stderr or "").splitlines():
        echo(line)
    if result.returncode != 0:
        tail = " | ".join(((result.stderr or "") + (result.stdout or "")).strip().splitlines()[-3:])
        raise ImageError(f"docker build failed: {tail}", where=str(context_dir),
                         fix="fix the Dockerfile, or build without Docker: SMLIFT_ENGINE=local")
    config = inspect_image(tag, run)
    if config is None:
        raise ImageError(f"docker image inspect {tag} failed after the build",
                         fix="check `docker images`, then build again")
    return config


def inspect_image(ref: str, run: Callable[..., subprocess.CompletedProcess] = subprocess.run
                  ) -> dict | None:
    """The engine's image `ref` as {Id, Entrypoint, Cmd, Env, WorkingDir, Labels}, or None."""
    try:
        inspected = run(["docker", "image", "inspect", "--format",
                         '{"Id": {{json .Id}}, "Config": {{json .Config}}}', ref],
                        capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if inspected.returncode != 0:
        return None
    data = json.loads(inspected.stdout)
    config = data.get("Config") or {}
    env = dict(item.split("=", 1) for item in config.get("Env") or [] if "=" in item)
    return {"Id": data.get("Id", ""), "Entrypoint": config.get("Entrypoint"),
            "Cmd": config.get("Cmd"), "Env": env, "WorkingDir": config.get("WorkingDir") or "/",
            "Labels": config.get("Labels") or {}}


def pull_with_ecr_login(uri: str, echo: Callable[[str], None],
                        run: Callable[..., subprocess.CompletedProcess] = subprocess.run,
                        client_factory: Callable[[str], object] | None = None) -> bool:
    """`docker pull URI` of an ECR image after `docker login` with an ECR token (what `aws ecr
    get-login-password | docker login` does). False, quietly, where no AWS credentials are set;
    False with the reason echoed when the login or the pull fails."""
    host = uri.split("/", 1)[0]
    match = _ECR_HOST_RE.match(host)
    if not match or not _has_credentials():
        return False

    try:
        client = (client_factory or (lambda region: AwsClient(region=region)))(match["region"])
        token = client.get_authorization_token(registryIds=[match["account"]])
        data = token["authorizationData"][0]
        user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    except (SmliftError, KeyError, IndexError, ValueError) as exc:
        echo(f"cannot log in to {host} ({exc}); building a look-alike instead")
        return False
    login = run(["docker", "login", "--username", user, "--password-stdin", host],
                input=password, capture_output=True, text=True)
    pulled = login.returncode == 0 and run(["docker", "pull", uri], capture_output=True,
                                           text=True).returncode == 0
    if not pulled:
        echo(f"cannot pull {uri}; building a look-alike instead")
    return pulled


def _has_credentials() -> bool:
    if os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE"):
        return True
    home = os.path.expanduser("~")
    return any(os.path.exists(os.path.join(home, ".aws", name)) for name in ("credentials",
                                                                            "config"))
