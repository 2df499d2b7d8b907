"""`smlift parity --baseline EXECUTION`: a run compared with an earlier run, not the legacy program.

When a change is intended (a fixed bug, a retrained model), the legacy program is no longer the
reference: the earlier run is. Both runs' published result files are compared as parity compares
(per file, per column, with the project's tolerances), and every other file the two runs wrote
under their run folders (the intermediate hand-offs: `preprocessed/`, `predictions/`, ...) is
listed when it changed:

    compare_with_baseline(project, baseline, execution=None) -> ParityReport
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path, PurePosixPath

from ..errors import InputError
from ..local.s3 import LocalS3
from ..parity import ParityReport, Tolerances, compare_outputs, merged_tolerances, same_bytes
from ..project import Project
from .sfn import LocalStepFunctions


def compare_with_baseline(project: Project, baseline: str, execution: str | None = None, *,
                          home: Path | None = None,
                          tolerances: Tolerances | None = None) -> ParityReport:
    """`execution` (default: the latest succeeded one) vs `baseline`, both ARNs or names."""
    store = LocalStepFunctions(home=home).store
    current = _result_folder(store, execution or _latest(store), home)
    earlier = _result_folder(store, baseline, home)
    report = compare_outputs(earlier, current, project.results,
                             merged_tolerances(project, tolerances))
    return replace(report, changed_intermediates=changed_files(earlier.parent, current.parent,
                                                               skip=current.name))


def _latest(store) -> str:
    runs = store.list_executions(status="SUCCEEDED")
    if not runs:
        raise InputError("no succeeded execution to compare", where="--baseline",
                         fix="run the pipeline first: smlift run")
    return runs[0]["arn"]


def _result_folder(store, execution: str, home: Path | None) -> Path:
    record = store.get_execution(execution)
    output = record.get("output")
    output = json.loads(output) if isinstance(output, str) else output
    uri = (output or {}).get("result_uri") if isinstance(output, dict) else None
    if record["status"] != "SUCCEEDED" or not uri:
        raise InputError(f"execution {record['name']} did not publish a result "
                         f"(status {record['status']})", where=execution,
                         fix="pick a succeeded execution: smlift executions list")
    return LocalS3(home).path_for(uri).resolve()


def changed_files(earlier: Path, current: Path, skip: str) -> tuple[str, ...]:
    """Files under the two run folders (but `skip`, the results) that differ or exist once."""
    def files(root: Path) -> set[str]:
        return {p.relative_to(root).as_posix() for p in root.rglob("*")
                if p.is_file() and PurePosixPath(p.relative_to(root).as_posix()).parts[0] != skip}

    names = sorted(files(earlier) | files(current))
    return tuple(name for name in names
                 if not ((earlier / name).is_file() and (current / name).is_file()
                         and same_bytes(earlier / name, current / name)))
