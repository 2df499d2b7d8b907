"""Where a command's defaults come from: the project around the working directory.

Every command that takes a project path by default (the definition, the input, iam/, the
containers, the deploy root) or reads the embedded default's state without being told which
(a list, the local registry) asks here. Inside a project (found walking up, as git does) the
default is the project file's path; outside any, the command says so in one line, the
`InputError` of `smlift.project.load_project` (exit 1), unless the default exists where the
command runs (a folder laid out as a project without a project file; an existing `.smlift/` or
$SMLIFT_HOME for the state). Commands given what they work on (a FILE, an s3:// URI, an ARN)
never ask.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, NoReturn

from ..errors import InputError
from ..project import Project, find_root, load_project, read_project


def current_project() -> Project | None:
    """The project around the working directory, or None outside any."""
    root = find_root()
    return read_project(root) if root is not None else None


def project_default(pick: Callable[[Project], Path], fallback: Path, option: str) -> Path:
    """The project's path for a part (`pick`), shown relative to the working directory when
    it is under it; else `fallback` when it exists here; else the one-line error, whose fix
    also names `option` (how to go without a project)."""
    project = current_project()
    if project is not None:
        return shown(pick(project))
    if Path(fallback).exists():
        return Path(fallback)
    _not_in_project(option)


def require_state(option: str = "set SMLIFT_HOME to the state folder") -> None:
    """The embedded default's state is known: inside a project, $SMLIFT_HOME, or a `.smlift/`
    here. Else the one-line error (rather than a new, empty `.smlift/` in this folder)."""
    if os.environ.get("SMLIFT_HOME") or Path(".smlift").is_dir() or find_root() is not None:
        return
    _not_in_project(option)


def _not_in_project(option: str) -> NoReturn:
    try:
        load_project()
    except InputError as exc:
        exc.fix = f"{exc.fix}; or {option}"
        raise
    raise AssertionError("a project appeared while smlift looked for one")


def shown(path: Path) -> Path:
    """`path` relative to the working directory when it is under it (as messages show it)."""
    try:
        return Path(path).relative_to(Path.cwd())
    except ValueError:
        return Path(path)
