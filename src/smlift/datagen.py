"""Input data for runs at scale, made by the project's own generator (`[data]` in smlift.toml).

    [data]
    command = "python make_data.py --rows {rows} --seed {seed} --out {out}"
    folder = "legacy_src"       # where the command runs
    file = "bookings.csv"       # the file it makes, by name

    make_data(project, rows, out=None, seed=1)   -> Path of the file written (default: into
                                                    the project's data folder, paths.data)
    generated_data(project, rows, seed=1)        -> a folder holding exactly that file, made
                                                    once under the smlift home ($SMLIFT_HOME,
                                                    else .smlift/) data/, and reused

With `batch_rows`, a larger request is made in batches of at most that many rows, with seeds
seed, seed+1, ..., each appended to the file without its first (header) line: the generator's
memory stays that of one batch. Values a generator numbers itself (booking_id here) then
repeat from batch to batch.

The command runs as the project file says (`python` is this Python, which has the legacy
program's libraries), with {rows}, {seed} and {out} filled in; it writes a temporary file next
to the target, renamed into place only when the command succeeded, so an interrupted run never
leaves half a data file. An existing file is replaced only when asked (`replace=True`).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Callable, Sequence

from .errors import InputError, ProcessingJobError
from .parity import legacy_command
from .project import Project, project_home

DEFAULT_SEED = 1
DATA_FIX = ('add to smlift.toml: [data] command = "python make_data.py --rows {rows} --out '
            '{out}", folder = "legacy_src", file = "bookings.csv" (docs/local.md, "Data for '
            'large runs")')
Launcher = Callable[[Sequence[str], Path], subprocess.CompletedProcess]


def _run(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True)


def _maker(project: Project):
    """The project file's [data] table, or an InputError saying how to add one."""
    if project.file.data is None:
        raise InputError("the project file has no [data] generator", where="smlift.toml",
                         fix=DATA_FIX)
    return project.file.data


def generator_command(project: Project, rows: int, seed: int, out: Path) -> list[str]:
    """The project's data command with its placeholders filled in (`python`: this Python)."""
    values = {"{rows}": str(rows), "{seed}": str(seed), "{out}": str(out)}
    args = []
    for word in shlex.split(_maker(project).command):
        for key, value in values.items():
            word = word.replace(key, value)
        args.append(word)
    return legacy_command(args) if args else args


def make_data(project: Project, rows: int, out: Path | None = None, seed: int = DEFAULT_SEED,
              *, replace: bool = False, launcher: Launcher = _run) -> Path:
    """Run the generator for `rows` rows into `out` (a folder, or a file path ending in the
    generator's file name; default: the project's data folder). Returns the file written."""
    if rows < 1:
        raise InputError(f"--rows must be at least 1, not {rows}", where="--rows",
                         fix="pass a whole number of rows, e.g. --rows 1000000")
    maker = _maker(project)
    target = _target(Path(out) if out is not None else project.data_dir, maker.file)
    if target.exists() and not replace:
        raise InputError("the data file already exists", where=str(target),
                         fix="pass --force to replace it, or --out ANOTHER_FOLDER")
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.parent / f".{target.stem}.{uuid.uuid4().hex[:8]}.tmp{target.suffix}"
    batch = target.parent / f".{target.stem}.{uuid.uuid4().hex[:8]}.batch{target.suffix}"
    size = maker.batch_rows or rows
    try:
        for index, start in enumerate(range(0, rows, size)):
            count = min(size, rows - start)
            _generate(project, count, seed + index, temp if index == 0 else batch, launcher)
            if index:
                _append_without_header(batch, temp)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
        batch.unlink(missing_ok=True)
    return target


def _generate(project: Project, rows: int, seed: int, out: Path, launcher: Launcher) -> None:
    args = generator_command(project, rows, seed, out)
    maker = project.file.data
    done = launcher(args, project.path(maker.folder))
    if done.returncode != 0:
        lines = (done.stderr or "").strip().splitlines()
        raise ProcessingJobError(
            f"the data generator failed (exit {done.returncode}): "
            f"{lines[-1] if lines else 'no message'}", where=f"[data] command = {maker.command!r}",
            fix=f"run it by hand in {maker.folder}: {' '.join(args)}")


def _append_without_header(batch: Path, target: Path) -> None:
    with open(batch, "rb") as source, open(target, "ab") as sink:
        source.readline()
        shutil.copyfileobj(source, sink, 1 << 20)


def _target(out: Path, name: str) -> Path:
    """`out` is a folder unless it names the generator's file itself."""
    return out if out.name == name and not out.is_dir() else out / name


def generated_data(project: Project, rows: int, seed: int = DEFAULT_SEED,
                   launcher: Launcher = _run) -> Path:
    """A folder holding only `rows` generated rows (seed `seed`), under the project's home;
    made on first use, reused after (the generator is seeded, so the rows are the same)."""
    folder = project_home(project.root) / "data" / f"rows-{rows}-seed-{seed}"
    maker = project.file.data
    if maker is not None and (folder / maker.file).is_file():
        return folder
    make_data(project, rows, folder, seed, replace=True, launcher=launcher)
    return folder
