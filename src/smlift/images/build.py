"""A local `docker build`: Dockerfile -> snapshot of the COPY'd files + a Python runtime + a record.

`plan_build` reads the Dockerfile and the build context without writing anything: which context
file lands at which container path (COPY/ADD, in order, later copies winning, `.dockerignore`
applied), which requirements the RUN lines' `pip install` name, which RUN parts a local build
skips, and a content digest over all of it. The digest changes exactly when the built image would,
so `image_is_stale` compares digests and `build_image` reuses a snapshot that is already there.

`snapshot` copies the files into `$SMLIFT_HOME/images/<digest>/rootfs/<container path>` (built in a
temporary folder, then renamed), so later edits to the context do not change a built image.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from .. import dockerignore
from ..dockerfile import CopyStep, DockerfileSpec, RunStep, pip_installs, read_dockerfile
from ..errors import ImageError
from ..local.s3 import copy_file

# Folders every base image has: `COPY x /tmp` puts x *into* /tmp, as Docker does.
_BASE_DIRS = {"/", "/tmp", "/opt", "/usr", "/usr/local", "/usr/local/bin", "/usr/bin", "/bin",
              "/etc", "/root", "/home", "/var", "/srv", "/opt/ml", "/opt/ml/code"}


@dataclass(frozen=True)
class BuildPlan:
    context_dir: Path
    spec: DockerfileSpec
    files: dict[str, Path]            # container path -> context file
    requirement_files: tuple[str, ...]  # container paths named by `pip install -r`
    packages: tuple[str, ...]         # named directly by `pip install`
    skipped: tuple[str, ...]          # RUN parts a local build does not run
    digest: str                       # hex sha256 of everything above that shapes the image


def plan_build(context_dir: Path, build_args: dict[str, str] | None = None) -> BuildPlan:
    context_dir = Path(context_dir).absolute()
    spec = read_dockerfile(context_dir, build_args)
    ignore = _dockerignore(context_dir)
    files: dict[str, Path] = {}
    dirs = set(_BASE_DIRS)
    req_files, packages, skipped = [], [], []
    for step in spec.steps:
        if isinstance(step, CopyStep):
            files.update(_expand_copy(context_dir, step, ignore, dirs, spec.path))
            dirs.update(_parents(files))
            continue
        installs, others = pip_installs(step.expanded())
        for install in installs:
            for name in install.requirement_files:
                req_files.append(_copied_file(step, name, files, spec.path))
            packages.extend(install.packages)
        skipped.extend(f"line {step.line}: RUN {part}" for part in others)
    digest = _digest(spec, files, build_args or {})
    return BuildPlan(context_dir, spec, files, tuple(req_files), tuple(packages),
                     tuple(skipped), digest)


def _copied_file(step: RunStep, name: str, files: dict[str, Path], dockerfile: Path) -> str:
    container = posixpath.normpath(posixpath.join(step.workdir, name))
    if container not in files:
        raise ImageError(f"RUN pip install -r {name}: {container} was not COPY'd into the image "
                         "before this RUN", where=f"{dockerfile}:{step.line}",
                         fix=f"add `COPY {posixpath.basename(name)} {container}` before it")
    return container


def _parents(files: dict[str, Path]) -> set[str]:
    out = set()
    for path in files:
        parent = posixpath.dirname(path)
        while parent not in out and parent != "/":
            out.add(parent)
            parent = posixpath.dirname(parent)
    return out


def _expand_copy(context: Path, step: CopyStep, ignore: list, dirs: set[str],
                 dockerfile: Path) -> dict[str, Path]:
    """container path -> context file for one COPY/ADD, as Docker lays it out."""
    where = f"{dockerfile}:{step.line}"
    matches: list[Path] = []
    for source in step.sources:
        rel = posixpath.normpath(source.lstrip("/")) if source.strip("/") else "."
        if rel == ".." or rel.startswith("../"):
            raise ImageError(f"{step.instruction} {source}: forbidden path outside the build "
                             "context", where=where, fix="move the file into the build context")
        found = sorted(context.glob(rel)) if any(c in rel for c in "*?[") else [context / rel]
        found = [p for p in found if p.exists()  # .dockerignore'd files are not in the context
                 and (p == context or not _ignored(p.relative_to(context).as_posix(), ignore))]
        if not found:
            raise ImageError(f"{step.instruction} failed: file not found in build context: "
                             f"{source}", where=where, fix="check the name; paths are relative "
                             f"to {context}")
        matches.extend(found)
    dest = step.dest
    into_dir = step.into_dir or len(matches) > 1 or dest in dirs or any(m.is_dir() for m in matches)
    out: dict[str, Path] = {}
    for match in matches:
        _check_inside(context, match, step, where)
        if match.is_dir():
            for path in _walk_files(match):
                _check_inside(context, path, step, where)
                out[posixpath.join(dest, path.relative_to(match).as_posix())] = path
        else:
            out[posixpath.join(dest, match.name) if into_dir else dest] = match
    return {c: p for c, p in out.items()
            if not _ignored(p.relative_to(context).as_posix(), ignore)}


def _check_inside(context: Path, path: Path, step: CopyStep, where: str) -> None:
    """A source that is (or passes through) a symbolic link leaving the build context is
    refused, as Docker refuses it: a build never copies a host file from outside the context."""
    real = Path(os.path.realpath(path))
    if real.is_relative_to(os.path.realpath(context)):
        return
    rel = path.relative_to(context).as_posix()
    raise ImageError(f"{step.instruction} {rel}: it is a symbolic link (or lies behind one) to "
                     f"{real}, outside the build context", where=where,
                     fix=f"copy the file into {context} instead of linking to it; Docker refuses "
                         "links that leave the context too")


def _walk_files(folder: Path) -> list[Path]:
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        found.extend(Path(root) / f for f in sorted(files) if (Path(root) / f).is_file())
    return found


def _dockerignore(context: Path) -> list:
    """The context's `.dockerignore` patterns (Docker's own rules: smlift.dockerignore)."""
    path = context / ".dockerignore"
    return dockerignore.parse(path.read_text(encoding="utf-8")) if path.is_file() else []


def _ignored(rel: str, patterns: list) -> bool:
    return bool(patterns) and dockerignore.is_excluded(rel, patterns)


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _digest(spec: DockerfileSpec, files: dict[str, Path], build_args: dict[str, str]) -> str:
    digest = hashlib.sha256(spec.path.read_bytes())
    digest.update(json.dumps(build_args, sort_keys=True).encode())
    for container in sorted(files):
        host = files[container]
        executable = os.access(host, os.X_OK)
        digest.update(f"\0{container}\0{_file_hash(host)}\0{executable}".encode())
    return digest.hexdigest()


def image_dir(home: Path, digest: str) -> Path:
    return Path(home) / "images" / digest


def snapshot(plan: BuildPlan, home: Path) -> dict[str, Path]:
    """Copy the image's files to `images/<digest>/rootfs/...` (once); container path -> copy."""
    final = image_dir(home, plan.digest)
    rootfs = final / "rootfs"
    layout = {c: rootfs / c.lstrip("/") for c in plan.files}
    if final.is_dir():
        return layout
    _sweep_abandoned(final.parent)
    temp = final.with_name(f".tmp-{uuid.uuid4().hex[:8]}-{plan.digest[:12]}")
    try:
        for container, host in plan.files.items():
            target = temp / "rootfs" / container.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            copy_file(host, target)
            shutil.copymode(host, target)
        (temp / "rootfs").mkdir(parents=True, exist_ok=True)
        temp.rename(final)
    except BaseException as exc:  # an interrupted build leaves no temp folder behind either
        shutil.rmtree(temp, ignore_errors=True)
        if not isinstance(exc, OSError) or not final.is_dir():  # not merely another process
            raise                                                  # finishing first
    return layout


ABANDONED_AFTER_SECONDS = 3600


def _sweep_abandoned(images: Path) -> None:
    """Remove temp folders of builds that were killed outright (SIGKILL, power loss) over an
    hour ago; a build in progress elsewhere is younger than that."""
    if not images.is_dir():
        return
    now = time.time()
    for temp in images.glob(".tmp-*"):
        try:
            if now - temp.lstat().st_mtime > ABANDONED_AFTER_SECONDS:
                shutil.rmtree(temp, ignore_errors=True)
        except OSError:
            pass
