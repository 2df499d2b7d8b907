"""Python runtimes that stand in for an image's interpreter: a `bin/` folder with `python` and
`python3`, put first on the job's PATH.

Each image gets a venv with exactly what it installs, never smlift's own environment, so that a
step importing a package its image lacks fails locally as it would in the container:
- a built image: the requirements its Dockerfile's `pip install` lines name;
- the prebuilt sagemaker-scikit-learn image: that image's packages (`prebuilt.RELEASES`).

A venv is built once, cached under `runtimes_dir()/NAME/` (NAME from the requirements' hash): it is made
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
from typing import Any, Callable

from ..errors import ImageError

Run = Callable[..., subprocess.CompletedProcess]


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
def sklearn_runtime(release: Any, home: Path, echo: Callable[[str], None],
                    run: Run = subprocess.run) -> Path:
    """A runtime with exactly the packages of a prebuilt sagemaker-scikit-learn image
    (`prebuilt.SklearnRelease`), never this environment: a script that imports a package the
    image lacks fails here as it would in the image."""
    return ensure_venv(f"sklearn-{release.version}-{_key(release.packages)}",
                       list(release.packages), home, echo, run)


def requirements_runtime(requirements: list[str], home: Path, echo: Callable[[str], None],
                         run: Run = subprocess.run) -> Path:
    """A runtime with exactly what a built image's `pip install` lines install (cached by the
    requirements' hash, built once); never this environment."""
    return ensure_venv(f"req-{_key(requirements)}", requirements, home, echo, run)


def _key(requirements: Any) -> str:
    return hashlib.sha256("\n".join([sys.version, os.path.realpath(sys.executable),
                                      *requirements]).encode()).hexdigest()[:16]
