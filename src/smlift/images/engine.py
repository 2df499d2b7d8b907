"""Which engine builds and runs images: a Docker engine where one answers, else smlift's own.

`SMLIFT_ENGINE` chooses: `local` (never Docker), `docker` (always; an error if none answers) or
`auto` (the default: Docker when `docker info` succeeds). Where Docker is used, `smlift build`
runs `docker build` and records the image's real config (`docker image inspect`); the job
runner runs such images with `docker run`. This machine has no Docker engine, so the Docker path
is exercised only against a fake `run` in the tests (docs/local.md says so).
"""

from __future__ import annotations

import json
import os
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Callable

from ..errors import ImageError, InputError

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
    inspected = run(["docker", "image", "inspect", "--format",
                     '{"Id": {{json .Id}}, "Config": {{json .Config}}}', tag],
                    capture_output=True, text=True)
    if inspected.returncode != 0:
        raise ImageError(f"docker image inspect {tag} failed: {inspected.stderr.strip()}")
    data = json.loads(inspected.stdout)
    config = data.get("Config") or {}
    env = dict(item.split("=", 1) for item in config.get("Env") or [] if "=" in item)
    return {"Id": data.get("Id", ""), "Entrypoint": config.get("Entrypoint"),
            "Cmd": config.get("Cmd"), "Env": env, "WorkingDir": config.get("WorkingDir") or "/"}
