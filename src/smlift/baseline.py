"""`smlift parity --baseline EXECUTION`: a run compared with an earlier run, not the legacy program.

When a change is intended (a fixed bug, a retrained model), the legacy program is no longer the
reference: the earlier run is. Both runs' published result files are compared as parity compares
(per file, per column, with the project's tolerances), and every other file the two runs wrote
under their run folders (the intermediate hand-offs: `preprocessed/`, `predictions/`, ...) is
listed when it changed. Either run may be local or on AWS: each one's result folder comes
through its own backend (`backend.fetch_result`: in place locally, downloaded from AWS):

    compare_executions(project, baseline, execution=None) -> ParityReport
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path, PurePosixPath

from .backend import fetch_result, local_backend
from .errors import InputError
from .follow import locate
from .parity import ParityReport, Tolerances, compare_outputs, merged_tolerances, same_bytes
from .project import Project


def compare_executions(project: Project, baseline: str, execution: str | None = None, *,
                       tolerances: Tolerances | None = None) -> ParityReport:
    """`execution` (default: the latest succeeded local run) against `baseline`, both ARNs or
    names, local or AWS."""
    if execution is None:
        runs = local_backend().list_executions(status="SUCCEEDED")["executions"]
        if not runs:
            raise InputError("no succeeded execution to compare", where="--baseline",
                             fix="run the pipeline first (smlift run), or pass --execution")
        execution = runs[0]["executionArn"]
    with tempfile.TemporaryDirectory(prefix="smlift-baseline-") as scratch:
        earlier = fetch_result(locate(baseline), baseline, Path(scratch) / "baseline")
        current = fetch_result(locate(execution), execution, Path(scratch) / "current")
        report = compare_outputs(earlier, current, project.results,
                                 merged_tolerances(project, tolerances))
        return replace(report, changed_intermediates=changed_files(
            earlier.parent, current.parent, skip=current.name))


def changed_files(earlier: Path, current: Path, skip: str) -> tuple[str, ...]:
    """Files under the two run folders (but `skip`, the results) that differ or exist once."""
    def files(root: Path) -> set[str]:
        return {p.relative_to(root).as_posix() for p in root.rglob("*")
                if p.is_file() and PurePosixPath(p.relative_to(root).as_posix()).parts[0] != skip}

    names = sorted(files(earlier) | files(current))
    return tuple(name for name in names
                 if not ((earlier / name).is_file() and (current / name).is_file()
                         and same_bytes(earlier / name, current / name)))
