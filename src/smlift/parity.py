"""Parity: prove that the three migrated steps produce, byte for byte, what the legacy program does.

The legacy program (`legacy_src/predict.py`) and the migrated steps (`scripts/preprocessing.py` ->
`containers/inference/predict.py` -> `scripts/postprocessing.py`) each run as real subprocesses
in their own scratch folder, on the same input CSV and the same model file (the one baked into
the inference image). Their result files are then compared byte for byte:

    run_legacy(data_csv, workdir)        -> the legacy program's output/ folder
    run_migrated(data_csv, workdir)      -> the postprocessing step's output folder
    compare_outputs(legacy, migrated)    -> ParityReport (per file: identical?, rows, first diff)
    check_parity(data_csv)               -> all three, in a temporary folder

`check_parity` is the use case (`smlift parity [--data FILE]` renders its report). `compare_outputs`
is also what checks a pipeline run's published output against the legacy output. Processes are
injected (`launcher`), and which scripts run is a `Project` (its default paths are the project
layout's, `smlift.layout`), so a test can point one step at a changed copy and watch parity fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

from . import layout
from .errors import InputError, ProcessingJobError

Launcher = Callable[[Sequence[str], Path, dict[str, str]], subprocess.CompletedProcess]
CHUNK = 1 << 20


@dataclass(frozen=True)
class Project:
    """Where the legacy program, the three steps and the model live."""

    root: Path

    @property
    def legacy_dir(self) -> Path:
        return self.root / layout.LEGACY

    @property
    def example_data(self) -> Path:
        return self.root / layout.DATA / "bookings.csv"

    preprocessing: Path | None = None
    predict: Path | None = None
    postprocessing: Path | None = None
    model: Path | None = None

    def __post_init__(self) -> None:
        defaults = {
            "preprocessing": self.root / layout.SCRIPTS / "preprocessing.py",
            "predict": self.root / layout.IMAGE_CONTEXT / "predict.py",
            "postprocessing": self.root / layout.SCRIPTS / "postprocessing.py",
            "model": self.root / layout.IMAGE_CONTEXT / "model.pkl",
        }
        for name, path in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, path)

    def with_step(self, **paths: Path) -> "Project":
        """The same project with one or more step scripts (or the model) swapped."""
        return replace(self, **paths)


def find_project(root: Path | None = None) -> Project:
    """The smlift checkout: `root`, else the one this package is installed from, else the cwd."""
    candidates = [root] if root else [Path(__file__).resolve().parents[2], Path.cwd()]
    for candidate in candidates:
        if (candidate / layout.LEGACY / "predict.py").is_file():
            return Project(candidate.resolve())
    raise InputError(f"no {layout.LEGACY / 'predict.py'} found", where=str(candidates[0]),
                     fix="run from the smlift checkout or pass --project-root")


@dataclass(frozen=True)
class FileParity:
    """One result file: identical bytes?, data rows on each side, rows equal at the same position."""

    name: str
    identical: bool
    legacy_rows: int
    migrated_rows: int
    identical_rows: int
    first_difference: int | None = None  # 1-based line number (the header is line 1)
    detail: str = ""


@dataclass(frozen=True)
class ParityReport:
    files: tuple[FileParity, ...]
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.files) and all(f.identical for f in self.files)

    @property
    def rows(self) -> int:
        return sum(f.legacy_rows for f in self.files)

    @property
    def identical_rows(self) -> int:
        return sum(f.identical_rows for f in self.files)

    def summary(self) -> str:
        noun = "file" if len(self.files) == 1 else "files"
        return (f"parity: {self.identical_rows} of {self.rows} rows identical across "
                f"{len(self.files)} {noun}")


# --- comparing ---------------------------------------------------------------------------------

def compare_outputs(legacy_dir: Path, migrated_dir: Path) -> ParityReport:
    """Compare every result file of the legacy program with the migrated file of the same name."""
    legacy_dir, migrated_dir = Path(legacy_dir), Path(migrated_dir)
    for side in (legacy_dir, migrated_dir):
        if not side.is_dir():
            raise InputError("output folder does not exist", where=str(side),
                             fix="run the legacy program and the pipeline first")
    names = sorted({p.relative_to(d).as_posix() for d in (legacy_dir, migrated_dir)
                    for p in d.rglob("*") if p.is_file() and not p.name.startswith(".")})
    return ParityReport(tuple(compare_file(legacy_dir / n, migrated_dir / n, n) for n in names))


def compare_file(legacy: Path, migrated: Path, name: str) -> FileParity:
    if not legacy.is_file() or not migrated.is_file():
        present = legacy if legacy.is_file() else migrated
        side = "legacy" if present is legacy else "migrated"
        rows = count_rows(present)
        return FileParity(name, False, rows if side == "legacy" else 0,
                          rows if side == "migrated" else 0, 0, 1, f"only the {side} side has it")
    if same_bytes(legacy, migrated):
        rows = count_rows(legacy)
        return FileParity(name, True, rows, rows, rows)
    return compare_lines(legacy, migrated, name)


def same_bytes(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            chunk_a, chunk_b = fa.read(CHUNK), fb.read(CHUNK)
            if chunk_a != chunk_b:
                return False
            if not chunk_a:
                return True


def count_rows(path: Path) -> int:
    """Data rows: lines after the header."""
    lines, last = 0, b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    lines += last != b"\n"
    return max(lines - 1, 0)


def compare_lines(legacy: Path, migrated: Path, name: str) -> FileParity:
    """Line by line: how many data rows match at the same position, and the first that does not."""
    legacy_rows = migrated_rows = same = 0
    first: int | None = None
    detail = ""
    with open(legacy, "rb") as fl, open(migrated, "rb") as fm:
        number = 0
        while True:
            a, b = fl.readline(), fm.readline()
            if not a and not b:
                break
            number += 1
            if number > 1:
                legacy_rows += bool(a)
                migrated_rows += bool(b)
            if a.rstrip(b"\r\n") == b.rstrip(b"\r\n") and (a.endswith(b"\n") == b.endswith(b"\n")):
                same += number > 1
            elif first is None:
                first = number
                detail = f"line {number}: legacy {short(a)} vs migrated {short(b)}"
    if first is None:  # same lines, different bytes elsewhere (e.g. a final newline)
        first, detail = number, "same lines, different line endings"
    return FileParity(name, False, legacy_rows, migrated_rows, same, first, detail)


def short(line: bytes, limit: int = 160) -> str:
    text = line.decode("utf-8", "replace").rstrip("\r\n") if line else "<end of file>"
    return repr(text if len(text) <= limit else text[:limit] + "...")


# --- running -----------------------------------------------------------------------------------

def run_process(args: Sequence[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True)


def step_env(message_file: Path) -> dict[str, str]:
    """The caller's environment, with failure messages kept in the scratch folder."""
    env = dict(os.environ)
    env["SM_OUTPUT_MESSAGE"] = str(message_file)
    return env


def check_exit(done: subprocess.CompletedProcess, name: str, script: Path) -> None:
    if done.returncode != 0:
        lines = (done.stderr or "").strip().splitlines()
        reason = lines[-1] if lines else f"exit code {done.returncode}"
        raise ProcessingJobError(f"{name} failed (exit {done.returncode}): {reason}", where=str(script),
                                 fix=f"run it by hand: {sys.executable} {script} --help")


def link_or_copy(source: Path, target: Path) -> None:
    """Inputs are only read, so a symlink is enough; copy where symlinks are refused."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        target.unlink()
    try:
        target.symlink_to(source.resolve())
    except OSError:
        shutil.copyfile(source, target)


def fresh_dir(path: Path) -> Path:
    """An empty folder: a rerun in the same workdir must not compare a previous run's files."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def require_file(path: Path, what: str, fix: str) -> Path:
    if not Path(path).is_file():
        raise InputError(f"{what} not found", where=str(path), fix=fix)
    return Path(path)


def run_legacy(data_csv: Path, workdir: Path, project: Project | None = None,
               launcher: Launcher = run_process) -> Path:
    """Run legacy_src/predict.py untouched: its relative paths, in a scratch copy of its folder."""
    project = project or find_project()
    data_csv = require_file(data_csv, "input CSV", "pass an existing bookings CSV")
    model = require_file(project.model, "model", "run `make model`")
    home = fresh_dir(Path(workdir) / "legacy")
    for source in project.legacy_dir.glob("*.py"):
        shutil.copyfile(source, home / source.name)
    link_or_copy(data_csv, home / "data" / "bookings.csv")
    link_or_copy(model, home / "model" / "model.pkl")
    done = launcher([sys.executable, "predict.py"], home, step_env(home / "message"))
    check_exit(done, "the legacy program", project.legacy_dir / "predict.py")
    return home / "output"


def run_migrated(data_csv: Path, workdir: Path, project: Project | None = None,
                 launcher: Launcher = run_process) -> Path:
    """Run the three steps in sequence, each one's output folder the next one's input folder."""
    project = project or find_project()
    data_csv = require_file(data_csv, "input CSV", "pass an existing bookings CSV")
    root = fresh_dir(Path(workdir) / "migrated")
    source = root / "input"
    link_or_copy(data_csv, source / Path(data_csv).name)
    steps = [("preprocessing", project.preprocessing, []),
             ("predict", project.predict, ["--model", str(project.model)]),
             ("postprocessing", project.postprocessing, [])]
    for name, script, extra in steps:
        output = root / name
        args = [sys.executable, str(script), "--input-dir", str(source), "--output-dir", str(output), *extra]
        done = launcher(args, root, step_env(root / f"{name}.message"))
        check_exit(done, f"the {name} step", Path(script))
        source = output
    return source


def timed(seconds: dict[str, float], key: str, action: Callable[[], Path]) -> Path:
    start = time.perf_counter()
    try:
        return action()
    finally:
        seconds[key] = round(time.perf_counter() - start, 3)


def check_parity(data_csv: Path | None = None, workdir: Path | None = None,
                 project: Project | None = None, launcher: Launcher = run_process) -> ParityReport:
    """Legacy vs the three migrated steps on the same CSV; a temporary workdir unless given."""
    project = project or find_project()
    data_csv = Path(data_csv) if data_csv else project.example_data
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="smlift-parity-") as tmp:
            return check_parity(data_csv, Path(tmp), project, launcher)
    seconds: dict[str, float] = {}
    legacy = timed(seconds, "legacy", lambda: run_legacy(data_csv, workdir, project, launcher))
    migrated = timed(seconds, "migrated", lambda: run_migrated(data_csv, workdir, project, launcher))
    return replace(compare_outputs(legacy, migrated), seconds=seconds)
