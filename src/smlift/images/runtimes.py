"""Python runtimes that stand in for an image's interpreter: a `bin/` folder with `python` and
`python3`, put first on the job's PATH.

Two ways to get one:
- **Reuse this environment** when it already is what the image asks for: the prebuilt
  sagemaker-scikit-learn image of the same scikit-learn major.minor, or a built image whose every
  requirement is pinned (`name==version`) to exactly the version installed here. Nothing is
  built; the bin folder of this interpreter is used (a venv's bin has `python` and `python3`; if
  this interpreter has no such folder, a folder of two tiny shims is written).
- **Build a venv** otherwise, once, cached under `runtimes_dir()/NAME/`: it is made
  in a temporary folder (`python -m venv`, then `pip install`), its scripts' shebangs are
  rewritten to the final path, and only then renamed into place, so a half-built runtime is
  never used. A lock file keeps two processes from building the same runtime at once.

Processes are injected (`run`, subprocess.run-like), so tests can build without pip or network.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Callable

from ..errors import ImageError

Run = Callable[..., subprocess.CompletedProcess]
_PIN_RE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*===?\s*"
                     r"(?P<version>[A-Za-z0-9.+!_-]+)$")


# What the prebuilt images pin beside scikit-learn (aws/sagemaker-scikit-learn-container's
# docker/<version>/base/Dockerfile.cpu); older images predate NumPy 2.
SKLEARN_COMPANIONS = {"1.4": ["numpy==2.1.*"]}
NUMPY_1 = ["numpy<2"]


def runtimes_dir(home: Path) -> Path:
    """Where runtimes are cached: `$SMLIFT_RUNTIME_CACHE`, else the user's cache
    (`${XDG_CACHE_HOME:-~/.cache}/smlift/runtimes`), shared by every SMLIFT_HOME.

    A runtime depends only on its requirements and the interpreter, never on a home's state, so
    homes share them as Docker shares pulled images: a fresh home (each test has one) does not
    pay a two-minute pip install again. `SMLIFT_RUNTIME_CACHE=$SMLIFT_HOME/images/runtimes`
    keeps them per home."""
    shared = os.environ.get("SMLIFT_RUNTIME_CACHE")
    if shared:
        return Path(shared)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "smlift" / "runtimes"


def current_bin_dir(home: Path) -> Path:
    """A bin folder whose `python` and `python3` are this interpreter."""
    exe = Path(sys.executable)
    real = os.path.realpath(exe)
    folder = exe.parent
    if all(os.path.realpath(folder / name) == real for name in ("python", "python3")):
        return folder
    digest = hashlib.sha256(str(exe).encode()).hexdigest()[:12]
    shims = runtimes_dir(home) / f"current-{digest}" / "bin"
    if not (shims / "python3").exists():
        _write_shims(shims, exe)
    return shims


def _write_shims(shims: Path, exe: Path) -> None:
    temp = shims.parent.with_name(shims.parent.name + f".tmp-{uuid.uuid4().hex[:8]}") / "bin"
    temp.mkdir(parents=True)
    for name in ("python", "python3"):
        (temp / name).write_text(f'#!/bin/sh\nexec "{exe}" "$@"\n')
        (temp / name).chmod(0o755)
    try:
        temp.parent.rename(shims.parent)
    except OSError:  # another process won the race
        shutil.rmtree(temp.parent, ignore_errors=True)


def installed_version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _same_version(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        from packaging.version import Version

        return Version(a) == Version(b)
    except Exception:
        return False


def requirement_lines(files: list[Path], packages: list[str]) -> list[str]:
    """Every requirement of the files (following nested `-r`) and the packages, in order."""
    lines: list[str] = []
    seen: set[Path] = set()

    def read(path: Path) -> None:
        if path in seen:
            return
        seen.add(path)
        for raw in path.read_text().splitlines():
            line = raw.split(" #")[0].strip()
            if not line or line.startswith("#"):
                continue
            nested = re.match(r"^(?:-r|--requirement)[=\s]+(.+)$", line)
            if nested:
                read(path.parent / nested.group(1).strip())
            else:
                lines.append(line)

    for path in files:
        read(path)
    return lines + list(packages)


def all_pinned_here(requirements: list[str]) -> bool:
    """True when every requirement is `name==version` and exactly that version is installed."""
    for line in requirements:
        match = _PIN_RE.match(line)
        if not match:
            return False
        have = installed_version(match["name"])
        if have is None or not _same_version(have, match["version"]):
            return False
    return True


def ensure_venv(name: str, requirements: list[str], home: Path,
                echo: Callable[[str], None], run: Run = subprocess.run) -> Path:
    """The bin folder of the cached venv `runtimes/NAME`, building it first if absent."""
    final = runtimes_dir(home) / name
    if (final / "bin" / "python3").exists():
        return final / "bin"
    final.parent.mkdir(parents=True, exist_ok=True)
    with open(final.parent / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (final / "bin" / "python3").exists():
            _build_venv(final, requirements, echo, run)
    return final / "bin"


def _build_venv(final: Path, requirements: list[str], echo: Callable[[str], None],
                run: Run) -> None:
    temp = final.with_name(f"{final.name}.tmp-{uuid.uuid4().hex[:8]}")
    echo(f"Building Python runtime {final.name} (once; cached in {final}): "
         f"pip install {' '.join(requirements) or '(nothing)'}")
    try:
        _run_step(run, [sys.executable, "-m", "venv", str(temp)], "python -m venv", final)
        if requirements:
            req_file = temp / "smlift-requirements.txt"
            req_file.write_text("\n".join(requirements) + "\n")
            _run_step(run, [str(temp / "bin" / "python"), "-m", "pip", "install",
                            "--disable-pip-version-check", "-r", str(req_file)],
                      "pip install", final)
        _relocate(temp, final)
        temp.rename(final)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    echo(f"Built Python runtime {final.name}.")


def _run_step(run: Run, argv: list[str], what: str, final: Path) -> None:
    result = run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        tail = " | ".join(((result.stderr or "") + (result.stdout or "")).strip()
                          .splitlines()[-5:])
        raise ImageError(f"{what} failed while building runtime {final.name}: {tail}",
                         where=str(final), fix="check the requirement versions exist for "
                         f"Python {sys.version_info.major}.{sys.version_info.minor} and that "
                         "PyPI is reachable")


def _relocate(temp: Path, final: Path) -> None:
    """Rewrite the temporary path in the venv's scripts and config to the final one."""
    candidates = list((temp / "bin").iterdir()) + [temp / "pyvenv.cfg"]
    for path in candidates:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 1_000_000:
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue  # a binary
        if str(temp) in text:
            path.write_text(text.replace(str(temp), str(final)))


# -- the runtimes images ask for --------------------------------------------------------------
def sklearn_runtime(version: str, home: Path, echo: Callable[[str], None],
                    run: Run = subprocess.run) -> Path:
    """A runtime with scikit-learn `version` (major.minor) and pandas, as in the prebuilt
    sagemaker-scikit-learn image: this environment when its scikit-learn matches."""
    have = installed_version("scikit-learn")
    if have and ".".join(have.split(".")[:2]) == version:
        return current_bin_dir(home)
    older = tuple(int(p) for p in version.split(".")) < (1, 4)
    companions = SKLEARN_COMPANIONS.get(version, NUMPY_1 if older else [])
    requirements = [f"scikit-learn=={version}.*", *companions, "pandas"]
    return ensure_venv(f"sklearn-{version}", requirements, home, echo, run)


def requirements_runtime(requirements: list[str], home: Path, echo: Callable[[str], None],
                         run: Run = subprocess.run) -> tuple[Path, str]:
    """A runtime for a built image's requirements -> (bin folder, how: "reused" or "venv")."""
    if all_pinned_here(requirements):
        return current_bin_dir(home), "reused"
    key = hashlib.sha256("\n".join([sys.version, os.path.realpath(sys.executable),
                                    *requirements]).encode()).hexdigest()[:16]
    return ensure_venv(f"req-{key}", requirements, home, echo, run), "venv"
