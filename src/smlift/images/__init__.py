"""Images: what an ImageUri means locally, on smlift's own engine or on a Docker engine.

A SageMaker Processing job names a container image. On the **local engine** an image is a
`LocalImage`: a Python runtime (a `bin/` folder put first on PATH, with exactly the packages the
image installs) plus what the image's Dockerfile says about running (ENTRYPOINT, CMD, ENV,
WORKDIR) and the files its COPY/ADD lay into the container. On the **Docker engine** it is a
real image (`engine == "docker"`, `docker_ref`), run by `docker run`.

    ImageUri ──resolve_image──> registry record (smlift build)      -> kind "built"
                           └──> sagemaker-scikit-learn:<ver>-cpu-py3 -> kind "prebuilt"
                                  local: runtimes.sklearn_runtime; docker: a look-alike
                                  (docker_images.sklearn_lookalike) tagged with the URI
                           └──> docker only: an image the engine has under that name
                           └──> nothing: ImageError naming `smlift build`

    smlift build DIR --tag NAME:TAG [--engine local|docker]
      local:  build.plan_build  Dockerfile (dockerfile.py) + context -> files, requirements
              build.snapshot    COPY'd files -> $SMLIFT_HOME/images/<digest>/rootfs/...
              runtimes          a cached venv with exactly the requirements
      docker: `docker build` (engine.docker_build) and the image's real config
      registry  record under NAME:TAG with its Engine; any registry host's NAME:TAG finds it

The engine is `engine.choose_engine`'s: the argument, else $SMLIFT_ENGINE, else Docker when an
engine answers. A record built for one engine does not serve the other.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from .. import layout
from ..dockerfile import dockerfile_warnings
from ..errors import ImageError
from ..local.home import smlift_home
from ..prebuilt import (PREBUILT_SKLEARN_ENV, RELEASES, default_scikit_image, prebuilt_problem,
                       sklearn_release)
from .build import plan_build, snapshot
from .docker_images import docker_image, sklearn_lookalike
from .engine import choose_engine, docker_build
from .image import LocalImage
from .registry import ImageRegistry, check_tag
from .runtimes import requirement_lines, requirements_runtime, sklearn_runtime

__all__ = ["LocalImage", "resolve_image", "build_image", "image_is_stale", "list_images",
           "ensure_sklearn_image"]


def _home(home: Path | None) -> Path:
    if home is None:
        return smlift_home()
    return Path(home)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def resolve_image(uri: str, home: Path | None = None,
                  echo: Callable[[str], None] = _stderr, *, engine: str | None = None
                  ) -> LocalImage:
    """The image an ImageUri names, on `engine` ("local", "docker", or None/"auto": see
    `engine.choose_engine`).

    Local engine: a built image by NAME:TAG (any registry host) or digest, or any region's
    prebuilt sagemaker-scikit-learn image (a runtime with that image's packages, built once).
    Docker engine: an image `smlift build` built with Docker, the prebuilt scikit-learn image
    (its local look-alike, built once and tagged with the very URI), or any image the engine
    already has under that name (`docker build -t`, `sm-docker`, a pull).
    ImageError naming `smlift build` otherwise."""
    home = _home(home)
    chosen = choose_engine(engine)
    problem = prebuilt_problem(uri) if "/" in uri else None
    if problem is not None:  # an ECR URI of sagemaker-scikit-learn that AWS does not publish
        raise ImageError(f"API error (404): manifest for {uri} not found: manifest unknown: "
                         f"Requested image not found ({problem})", where="ImageUri",
                         fix="use a published image, e.g. "
                             f"{default_scikit_image('us-east-1')}")
    registry = ImageRegistry(home)
    record = registry.get(uri)
    if record is not None and record.get("Engine", "local") == chosen:
        return _from_record(uri, record)
    release = sklearn_release(uri)
    if chosen == "docker":
        image = sklearn_lookalike(uri, release, echo) if release else docker_image(uri)
        if image is not None:
            return image
    elif release is not None:
        return LocalImage(uri=uri, bin_dir=sklearn_runtime(release, home, echo), entrypoint=None,
                          cmd=None, env=dict(PREBUILT_SKLEARN_ENV), workdir="/", files=(),
                          kind="prebuilt")
    raise _not_built(uri, record, chosen, registry)


def _not_built(uri: str, record: dict | None, engine: str, registry) -> ImageError:
    context = (record or {}).get("ContextDir", str(layout.IMAGE_CONTEXT))
    if record is not None:
        return ImageError(f"image {uri} was built for the {record.get('Engine', 'local')} engine, "
                          f"and this job runs on the {engine} engine", where="ImageUri",
                          fix=f"rebuild it for this engine: `smlift build {context} --tag "
                              f"{record['Uri']} --engine {engine}`")
    known = ", ".join(r["Uri"] for r in registry.list()) or "none yet"
    return ImageError(f"image {uri} is not in the local registry (built images: {known})",
                      where="ImageUri",
                      fix="build it first: `smlift build containers/inference --tag NAME:TAG`; "
                          "an ECR URI resolves by its NAME:TAG")


def _from_record(uri: str, record: dict) -> LocalImage:
    files = tuple((Path(host), container) for host, container in record.get("Files", []))
    engine = record.get("Engine", "local")
    if engine == "local":
        missing = [str(h) for h, _ in files if not h.is_file()]
        if missing or not (Path(record["BinDir"]) / "python3").exists():
            raise ImageError(f"image {record['Uri']} was built, but its files are gone "
                             f"({(missing or [record['BinDir']])[0]})", where=uri,
                             fix=f"rebuild it: `smlift build {record.get('ContextDir', 'DIR')} "
                                 f"--tag {record['Uri']}`")
    return LocalImage(uri=uri, bin_dir=Path(record["BinDir"]), entrypoint=record.get("Entrypoint"),
                      cmd=record.get("Cmd"), env=dict(record.get("Env") or {}),
                      workdir=record.get("WorkingDir") or "/", files=files, kind="built",
                      engine=engine, digest=record.get("Digest", ""),
                      docker_ref=record.get("DockerImage"))


def build_image(context_dir: Path, tag: str, home: Path | None = None,
                echo: Callable[[str], None] = print, *, engine: str | None = None,
                run: Callable | None = None) -> LocalImage:
    """Build the Dockerfile in `context_dir` as `tag` (NAME[:TAG]) and record it.

    `engine`: "local", "docker" or "auto" (default: $SMLIFT_ENGINE, else auto-detect Docker).
    `run` (subprocess.run-like) is injectable for tests."""
    key = check_tag(tag)
    home = _home(home)
    context_dir = Path(context_dir).absolute()
    if not context_dir.is_dir():
        raise ImageError("the build context is not a folder", where=str(context_dir),
                         fix="pass the folder that holds the Dockerfile, e.g. containers/inference")
    run = run or subprocess.run
    chosen = choose_engine(engine)
    builder = _build_with_docker if chosen == "docker" else _build_locally

    for warning in dockerfile_warnings(context_dir):  # either engine: code under /opt/ml
        echo(f"warning: {warning}")
    record = builder(context_dir, key, home, echo, run)

    ImageRegistry(home).put(key, record)
    echo(f"Built {key} ({record['Digest'][:19]}); ImageUri NAME:TAG or "
         f"ACCOUNT.dkr.ecr.REGION.amazonaws.com/{key} resolves to it")
    return _from_record(key, record)


def _build_locally(context_dir: Path, key: str, home: Path, echo, run) -> dict:
    plan = plan_build(context_dir)
    spec = plan.spec
    echo(f"Building {key} from {spec.path} (local engine: no Docker; base {spec.base_image} "
         "stands for this machine's Python)")
    layout = snapshot(plan, home)
    echo(f"COPY/ADD: {len(layout)} file(s) snapshotted into {home / 'images' / plan.digest}")
    requirements = requirement_lines([layout[c] for c in plan.requirement_files],
                                     list(plan.packages))
    bin_dir = requirements_runtime(requirements, home, echo, run)
    if requirements:
        echo(f"RUN pip install ({len(requirements)} requirement(s)): in {bin_dir.parent}")
    for line in plan.skipped:
        echo(f"{line}: skipped (a local build runs only pip install)")
    for note in spec.notes:
        echo(f"note: {note}")
    return {"Uri": key, "Digest": f"sha256:{plan.digest}", "ContextHash": plan.digest,
            "Kind": "built", "Engine": "local", "ContextDir": str(context_dir),
            "BaseImage": spec.base_image, "BinDir": str(bin_dir), "Runtime": "venv",
            "Requirements": requirements, "Entrypoint": spec.entrypoint, "Cmd": spec.cmd,
            "Env": spec.env, "WorkingDir": spec.workdir,
            "Files": [[str(layout[c]), c] for c in sorted(layout)],
            "Skipped": list(plan.skipped), "Notes": list(spec.notes), "Created": time.time()}


def _build_with_docker(context_dir: Path, key: str, home: Path, echo, run) -> dict:
    plan = plan_build(context_dir)
    config = docker_build(context_dir, key, echo, run)
    return {"Uri": key, "Digest": config["Id"], "ContextHash": plan.digest, "Kind": "built",
            "Engine": "docker", "DockerImage": key, "ContextDir": str(context_dir),
            "BaseImage": plan.spec.base_image, "BinDir": "/usr/local/bin",
            "Entrypoint": config["Entrypoint"], "Cmd": config["Cmd"], "Env": config["Env"],
            "WorkingDir": config["WorkingDir"], "Files": [], "Created": time.time()}


def image_is_stale(context_dir: Path, tag: str, home: Path | None = None, *,
                   engine: str | None = None) -> bool:
    """True when `tag` was never built for `engine`, its files are gone, or the context changed
    since."""
    record = ImageRegistry(_home(home)).get(check_tag(tag))
    if record is None or record.get("Engine", "local") != choose_engine(engine):
        return True
    try:
        _from_record(tag, record)
    except ImageError:
        return True
    return plan_build(Path(context_dir)).digest != record.get("ContextHash")


def list_images(home: Path | None = None) -> list[dict]:
    """Every built image's record, by NAME:TAG."""
    return ImageRegistry(_home(home)).list()


def ensure_sklearn_image(version: str, region: str = "us-east-1", *,
                         echo: Callable[[str], None] = _stderr) -> LocalImage:
    """The prebuilt sagemaker-scikit-learn:VERSION-cpu-py3 image of `region` on the Docker
    engine: present, pulled, or a look-alike built once (docker_images.sklearn_lookalike)."""
    release = RELEASES.get(version.removesuffix("-cpu-py3"))
    if release is None:
        raise ImageError(f"sagemaker-scikit-learn:{version} is not a published image version",
                         where="VERSION", fix="use one of: " + ", ".join(RELEASES))
    base = default_scikit_image(region)
    if base is None:
        raise ImageError(f"AWS publishes no scikit-learn image in region {region!r}",
                         where="--region", fix="use a commercial AWS region, e.g. us-east-1")
    choose_engine("docker")
    uri = base.rsplit(":", 1)[0] + f":{release.version}-cpu-py3"
    return sklearn_lookalike(uri, release, echo)
