"""`smlift parity`: the legacy program and the migrated steps on the same data, compared.

Thin: `smlift.parity.check_parity` runs both sides and compares; this prints its report.
With --baseline, each execution's result files come through the backend seam
(`smlift.backend.fetch_result`): in place for a local run, downloaded into a temporary folder
for an AWS execution (an executionArn picks its side, as everywhere).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import click

from .output import emit, output_option, parity_text


def report_text(report, title: str = "parity:") -> str:
    """`parity_text`, then per differing column its first differing rows with both values."""
    lines = [parity_text(report).replace("parity:", title, 1)]
    for file in report.files:
        for column in file.columns:
            rows = ", ".join(f"row {row}: legacy {legacy!r} vs migrated {migrated!r}"
                             for row, legacy, migrated in column.first)
            lines.append(f"    {file.name} column {column.column!r}: {column.differing} "
                         f"row(s) differ; {rows}")
    for name in getattr(report, "changed_intermediates", ()):
        lines.append(f"  intermediate output changed: {name}")
    return "\n".join(lines)


def parity_document(report) -> dict:
    """A parity report as JSON: every file's comparison, `ok` and the summary line."""
    return dict(dataclasses.asdict(report), ok=report.ok, summary=report.summary())


def _tolerances(values: tuple[str, ...], option: str) -> dict[str, float]:
    """`COLUMN=VALUE` (or `FILE:COLUMN=VALUE`) pairs -> {"FILE:COLUMN" or "*:COLUMN": value}."""
    parsed = {}
    for value in values:
        key, sep, number = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{value!r} is not COLUMN=NUMBER", param_hint=option)
        try:
            parsed[key if ":" in key else f"*:{key}"] = float(number)
        except ValueError:
            raise click.BadParameter(f"{value!r} is not COLUMN=NUMBER (e.g. score=1e-9)",
                                     param_hint=option) from None
    return parsed


def _merge(rtol: dict[str, float], atol: dict[str, float]) -> dict:
    from ..tables import tolerance

    merged: dict = {}
    for key in {*rtol, *atol}:
        name, column = key.split(":", 1)
        merged.setdefault(name, {})[column] = tolerance(rtol.get(key), atol.get(key))
    return merged


@click.command()
@click.option("--data", type=click.Path(path_type=Path),
              help="The input, a file or a folder (default: the project file's paths.data).")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path),
              help="Keep both runs here instead of in a temporary folder.")
@click.option("--rtol", multiple=True, metavar="[FILE:]COLUMN=X",
              help="Relative tolerance for a numeric column (repeatable).")
@click.option("--atol", multiple=True, metavar="[FILE:]COLUMN=X",
              help="Absolute tolerance for a numeric column (repeatable).")
@click.option("--baseline", metavar="EXECUTION",
              help="Compare the latest succeeded local run (or --execution) with this earlier "
                   "run's results instead of the legacy program, to accept an intended change; "
                   "intermediate outputs that changed between the runs are listed too. A local "
                   "execution name or ARN, or an AWS executionArn (its results are downloaded).")
@click.option("--execution", metavar="EXECUTION",
              help="With --baseline: the run to check, local or AWS (default: the latest "
                   "succeeded local one).")
@click.option("--project-root", type=click.Path(file_okay=False, path_type=Path),
              help="Where to look for the project (default: the working directory, upwards).")
@output_option(default="text")
def parity(data, workdir, rtol, atol, baseline, execution, project_root, output) -> None:
    """Run the legacy program (the project file's [legacy]) and the migrated steps
    ([[parity.steps]]) on the same data and compare every declared result file: per file
    and per column, the first differing rows with both values. Exit 1 unless every file is
    identical (or equal within the tolerances).

    \b
    Example:
      smlift parity
      smlift parity --data my-bookings-export.csv --workdir /tmp/parity
      smlift parity --rtol cancel_probability=1e-9 --atol predictions.csv:adr=0.005
      smlift parity --baseline nightly-2026-11-22    # the latest run vs an earlier one
      smlift parity --baseline arn:aws:states:eu-west-1:111122223333:execution:smlift:churn-1
      smlift parity --output json
    """
    from ..baseline import compare_executions
    from ..parity import check_parity, find_project

    tolerances = _merge(_tolerances(rtol, "--rtol"), _tolerances(atol, "--atol"))
    project = find_project(project_root)
    if baseline:
        report = compare_executions(project, baseline, execution, tolerances=tolerances)
        title = "parity with the baseline:"
    else:
        report = check_parity(data, workdir, project, tolerances=tolerances)
        title = "parity:"
    value = parity_document(report)
    emit(value, output, value["files"], ("name", "identical", "legacy_rows", "migrated_rows",
                               "identical_rows", "detail"), text=report_text(report, title))
    if not report.ok:
        sys.exit(1)
