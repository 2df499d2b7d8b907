"""Parity: prove that the migrated pipeline produces what the legacy program does.

Any project (`smlift.project`): the legacy program runs untouched, as its project file says
(`[legacy]`: its command, in a scratch copy of its folder, the data staged where it reads its
input), and its declared result files are compared with the migrated side's files of the same
names. The migrated side is either the steps of `[parity.steps]` run here as subprocesses, a
pipeline run's published result (`smlift run --parity`), or an earlier run's (`--baseline`):

    run_legacy(data, workdir, project)      -> a folder holding the legacy result files
    run_migrated(data, workdir, project)    -> the last step's output folder
    compare_outputs(legacy, migrated, ...)  -> ParityReport (per file: identical?, rows, first
                                               differing line, per column the first differing rows)
    check_parity(data)                      -> the first two, compared, in a temporary folder

A result file published in parts (a pipeline split over several instances writes
`predictions.csv.parts/<part>.csv`, one per part, only the first with the header) is compared as
one file: when `<name>` is absent and `<name>.parts/` is beside it, the file is the concatenation
of every file under that folder in key order (sorted relative path, as S3 lists keys), streamed,
never loaded whole (`ResultFile`). Either side may be in parts (`--baseline` compares two runs).

Bytes equal is identical. Otherwise tabular files (CSV, JSON, Parquet: `smlift.tables`) are
compared per column, numbers within the column's tolerance (`[parity.tolerances]`, or
`--rtol/--atol`) counting as equal. Processes are injected (`launcher`), so a test can point one
step at a changed copy and watch parity fail.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO, Callable, Mapping, Sequence

from .errors import InputError, ProcessingJobError
from .project import Project, Tolerance, load_project
from .tables import ColumnDiff, diff_tables, read_table

Launcher = Callable[[Sequence[str], Path, dict[str, str]], subprocess.CompletedProcess]
Tolerances = Mapping[str, Mapping[str, Tolerance]]
CHUNK = 1 << 20
PARTS = ".parts"  # `<name>.parts/`: the folder a result published in parts lives in


@dataclass(frozen=True)
class ResultFile:
    """One result file on one side: `path` itself, or, when it is absent and `<path>.parts/`
    is beside it, every file under that folder (dot-files aside) in key order, read as one."""

    path: Path
    parts: tuple[Path, ...] | None = None

    @classmethod
    def at(cls, path: Path | "ResultFile") -> "ResultFile":
        if isinstance(path, ResultFile):
            return path
        path = Path(path)
        folder = path.with_name(path.name + PARTS)
        if path.is_file() or not folder.is_dir():
            return cls(path)
        return cls(path, tuple(sorted(
            (p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")),
            key=lambda p: p.relative_to(folder).as_posix().encode())))

    def is_file(self) -> bool:
        return self.parts is not None or self.path.is_file()

    @property
    def suffix(self) -> str:
        return self.path.suffix

    @property
    def files(self) -> tuple[Path, ...]:
        return self.parts if self.parts is not None else (self.path,)

    def size(self) -> int:
        return sum(p.stat().st_size for p in self.files)

    def open(self) -> BinaryIO:
        """The bytes, streamed part after part (a buffered reader: read, readline)."""
        if self.parts is None:
            return open(self.path, "rb")
        return io.BufferedReader(_Chained(self.parts), CHUNK)


class _Chained(io.RawIOBase):
    """Files read one after the other as one stream, one file open at a time."""

    def __init__(self, paths: Sequence[Path]):
        self._paths, self._current = list(paths), None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while True:
            if self._current is None:
                if not self._paths:
                    return 0
                self._current = open(self._paths.pop(0), "rb")
            count = self._current.readinto(buffer)
            if count:
                return count
            self._current.close()
            self._current = None

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None
        super().close()


def find_project(root: Path | None = None) -> Project:
    """The project at or above `root` (default: the working directory)."""
    return load_project(root)


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
    columns: tuple[ColumnDiff, ...] = ()  # per column, the first differing rows


@dataclass(frozen=True)
class ParityReport:
    files: tuple[FileParity, ...]
    seconds: dict[str, float] = field(default_factory=dict)
    changed_intermediates: tuple[str, ...] = ()  # with --baseline: step outputs that changed

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

def compare_outputs(legacy_dir: Path, migrated_dir: Path, names: Sequence[str] | None = None,
                    tolerances: Tolerances | None = None) -> ParityReport:
    """Compare the result files `names` (default: every file on either side) of the legacy
    program with the migrated files of the same names."""
    legacy_dir, migrated_dir = Path(legacy_dir), Path(migrated_dir)
    for side in (legacy_dir, migrated_dir):
        if not side.is_dir():
            raise InputError("output folder does not exist", where=str(side),
                             fix="run the legacy program and the pipeline first")
    if names is None:
        names = sorted({_whole_name(p.relative_to(d).as_posix()) for d in (legacy_dir, migrated_dir)
                        for p in d.rglob("*") if p.is_file() and not p.name.startswith(".")})
    tolerances = tolerances or {}
    return ParityReport(tuple(compare_file(legacy_dir / n, migrated_dir / n, n, tolerances.get(n))
                              for n in names))


def _whole_name(relative: str) -> str:
    """`predictions.csv.parts/x/part-1.csv` -> `predictions.csv`: the file its part makes up."""
    head, sep, _ = relative.partition(PARTS + "/")
    return head if sep else relative


def compare_file(legacy: Path | ResultFile, migrated: Path | ResultFile, name: str,
                 tolerances: Mapping[str, Tolerance] | None = None) -> FileParity:
    """One result file of each side (a file, or its `.parts/` folder: `ResultFile`)."""
    legacy, migrated = ResultFile.at(legacy), ResultFile.at(migrated)
    if not legacy.is_file() or not migrated.is_file():
        if not legacy.is_file() and not migrated.is_file():
            return FileParity(name, False, 0, 0, 0, 1, "neither side wrote it")
        present = legacy if legacy.is_file() else migrated
        side = "legacy" if present is legacy else "migrated"
        rows = count_rows(present)
        return FileParity(name, False, rows if side == "legacy" else 0,
                          rows if side == "migrated" else 0, 0, 1, f"only the {side} side has it")
    if same_bytes(legacy, migrated):
        table = (read_table(legacy.path) if legacy.parts is None
                 and legacy.suffix.lower() in (".json", ".parquet") else None)
        rows = len(table.rows) if table else count_rows(legacy)
        return FileParity(name, True, rows, rows, rows)
    return compare_tables(legacy, migrated, name, tolerances) or compare_lines(legacy, migrated, name)


def compare_tables(legacy: ResultFile, migrated: ResultFile, name: str,
                   tolerances: Mapping[str, Tolerance] | None) -> FileParity | None:
    """Column by column, when both sides read as tables; None when they do not."""
    left, right = _table(legacy), _table(migrated)
    if left is None or right is None:
        return None
    diff = diff_tables(left, right, tolerances)
    lines = compare_lines(legacy, migrated, name) if legacy.suffix.lower() in (".csv", ".tsv") else None
    if diff.equal and tolerances:
        return FileParity(name, True, len(left.rows), len(right.rows), len(left.rows),
                          detail="equal within the tolerances")
    detail = "; ".join(part for part in (lines.detail if lines else "", diff.shape) if part)
    first = lines.first_difference if lines else _first_row(diff)
    return FileParity(name, False, len(left.rows), len(right.rows), diff.equal_rows, first,
                      detail or "same values, different bytes", diff.columns)


def _table(source: ResultFile):
    if source.parts is None:
        return read_table(source.path)
    with source.open() as stream:
        return read_table(source.path, stream)


def _first_row(diff) -> int | None:
    rows = [row for column in diff.columns for row, _, _ in column.first]
    return min(rows) if rows else None


def same_bytes(a: Path | ResultFile, b: Path | ResultFile) -> bool:
    a, b = ResultFile.at(a), ResultFile.at(b)
    if a.size() != b.size():
        return False
    with a.open() as fa, b.open() as fb:
        while True:
            chunk_a, chunk_b = fa.read(CHUNK), fb.read(CHUNK)
            if chunk_a != chunk_b:
                return False
            if not chunk_a:
                return True


def count_rows(path: Path | ResultFile) -> int:
    """Data rows: lines after the header."""
    lines, last = 0, b"\n"
    with ResultFile.at(path).open() as f:
        while chunk := f.read(CHUNK):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    lines += last != b"\n"
    return max(lines - 1, 0)


def compare_lines(legacy: Path | ResultFile, migrated: Path | ResultFile, name: str) -> FileParity:
    """Line by line: how many data rows match at the same position, and the first that does not."""
    legacy_rows = migrated_rows = same = 0
    first: int | None = None
    detail = ""
    with ResultFile.at(legacy).open() as fl, ResultFile.at(migrated).open() as fm:
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
    """Inputs are only read, so a symlink is enough (to a file or a folder); copy where
    symlinks are refused."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        target.unlink()
    try:
        target.symlink_to(source.resolve(), target_is_directory=source.is_dir())
    except OSError:
        (shutil.copytree if source.is_dir() else shutil.copyfile)(source, target)


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


def run_legacy(data: Path, workdir: Path, project: Project | None = None,
               launcher: Launcher = run_process) -> Path:
    """Run the legacy program untouched, as the project file says: its command, its relative
    paths, in a scratch copy of its folder with `data` (a file or a folder) staged where it
    reads its input. Returns a folder with its result files under their names."""
    project = project or find_project()
    data = require_input(data)
    home = fresh_dir(Path(workdir) / "legacy")
    shutil.copytree(project.legacy_dir, home, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", ".*"))
    stage_input(data, home / project.file.legacy.input)
    for target, source in project.file.legacy.files.items():
        link_or_copy(require_file(project.path(source), f"legacy.files[{target!r}]",
                                  "create it, or correct the path in the project file"),
                     home / target)
    done = launcher(legacy_command(project.legacy_command), home, step_env(home / ".message"))
    check_exit(done, "the legacy program", project.legacy_dir / project.legacy_command[-1])
    results = fresh_dir(Path(workdir) / "legacy-results")
    for relative, name in zip(project.file.legacy.results, project.results):
        if (home / relative).is_file():
            shutil.copyfile(home / relative, results / name)
    return results


def legacy_command(command: list[str]) -> list[str]:
    """`python` and `python3` are this Python (the one with the job libraries)."""
    head = sys.executable if command and command[0] in ("python", "python3") else command[0]
    return [head, *command[1:]]


def require_input(data: Path) -> Path:
    data = Path(data)
    if not data.exists():
        raise InputError("input data not found", where=str(data),
                         fix="pass an existing file or folder (default: the project's data folder)")
    return data


def stage_input(data: Path, target: Path) -> None:
    """Put `data` where the legacy program reads it: a file at its path, or a folder's files
    into its folder; a folder holding one file, for a program that reads one file, that file."""
    if data.is_dir():
        files = sorted(p for p in data.rglob("*") if p.is_file() and not p.name.startswith("."))
        if target.suffix and len(files) == 1:
            link_or_copy(files[0], target)
            return
        if target.suffix:
            raise InputError(f"the legacy program reads one file; the data folder has {len(files)}",
                             where=str(data), fix="point --data at one file")
        for file in files:
            link_or_copy(file, target / file.relative_to(data))
        return
    link_or_copy(data, target / data.name if not target.suffix else target)


def run_migrated(data: Path, workdir: Path, project: Project | None = None,
                 launcher: Launcher = run_process) -> Path:
    """Run the project's parity steps in sequence, each one reading the previous one's output
    (or its `input` folder); returns a folder holding the declared result files (each a link
    to the file, or to its `.parts/` folder) found in `[parity] results` (default: the last
    step's output folder)."""
    project = project or find_project()
    steps = project.file.parity.steps
    if not steps:
        raise InputError("the project declares no [[parity.steps]] to run here", where="smlift.toml",
                         fix="compare a pipeline run instead: smlift run --parity")
    data = require_input(data)
    root = fresh_dir(Path(workdir) / "migrated")
    source = root / "input"
    stage_input(data, source)
    for step in steps:
        output = root / step.name
        if step.input is not None:
            source = root / step.input
        script = project.path(step.script)
        args = [sys.executable, str(script), "--input-dir", str(source), "--output-dir",
                str(output), *project.step_args(step, root)]
        done = launcher(args, root, step_env(root / f"{step.name}.message"))
        check_exit(done, f"the {step.name} step", script)
        source = output
    folders = [root / folder for folder in project.file.parity.results] or [source]
    return collect_results(folders, project.results, fresh_dir(Path(workdir) / "migrated-results"))


def collect_results(folders: Sequence[Path], names: Sequence[str], into: Path) -> Path:
    """`into`, holding a link to each result file (or its `.parts/` folder) named `names`, the
    first found in `folders`, in order."""
    for name in names:
        found = next((path for folder in folders for path in (folder / name, folder / (name + PARTS))
                      if path.exists()), None)
        if found is not None:
            link_or_copy(found, into / found.name)
    return into


def timed(seconds: dict[str, float], key: str, action: Callable[[], Path]) -> Path:
    start = time.perf_counter()
    try:
        return action()
    finally:
        seconds[key] = round(time.perf_counter() - start, 3)


def check_parity(data: Path | None = None, workdir: Path | None = None,
                 project: Project | None = None, launcher: Launcher = run_process,
                 tolerances: Tolerances | None = None) -> ParityReport:
    """Legacy vs the migrated steps on the same data (default: the project's data folder),
    in a temporary workdir unless given."""
    project = project or find_project()
    data = Path(data) if data else project.data_dir
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="smlift-parity-") as tmp:
            return check_parity(data, Path(tmp), project, launcher, tolerances)
    seconds: dict[str, float] = {}
    legacy = timed(seconds, "legacy", lambda: run_legacy(data, workdir, project, launcher))
    migrated = timed(seconds, "migrated", lambda: run_migrated(data, workdir, project, launcher))
    report = compare_outputs(legacy, migrated, project.results, merged_tolerances(project, tolerances))
    return replace(report, seconds=seconds)


def merged_tolerances(project: Project, extra: Tolerances | None) -> dict:
    """Per result file, the project file's tolerances with those given on the command line on
    top (`"*"`: every file with such a column)."""
    declared = project.file.parity.tolerances
    extra = extra or {}
    return {name: {**declared.get(name, {}), **extra.get("*", {}), **extra.get(name, {})}
            for name in project.results}
