"""`LocalImage`: what an ImageUri resolves to locally (see the package docstring). A leaf, so
that every module of the package can name it without importing the package."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LocalImage:
    uri: str
    bin_dir: Path                 # first on PATH: has python, python3 (for engine "docker": unused)
    entrypoint: list[str] | None  # exec form as a list; shell form -> ["/bin/sh", "-c", ...]
    cmd: list[str] | None
    env: dict[str, str]           # the image's ENV (base image's PATH/LANG included)
    workdir: str                  # container path, "/" if none
    files: tuple[tuple[Path, str], ...]   # (host path, container path) to lay into the job root
    kind: str                     # "built" or "prebuilt"
    engine: str = "local"         # "local" (run with bin_dir) or "docker" (docker run docker_ref)
    digest: str = ""
    docker_ref: str | None = None
    origin: str = ""              # docker: "smlift look-alike" or "AWS image" for prebuilt ones
