"""`smlift parity`: the legacy program and the three migrated steps on one CSV, compared.

Thin: `smlift.parity.check_parity` runs both sides and compares; this prints its report.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .output import parity_text


@click.command()
@click.option("--data", type=click.Path(dir_okay=False, path_type=Path),
              help="A bookings CSV (default: examples/data/bookings.csv in the project).")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path),
              help="Keep both runs here instead of in a temporary folder.")
@click.option("--project-root", type=click.Path(file_okay=False, path_type=Path),
              help="The smlift checkout (default: found from the package, else the cwd).")
def parity(data, workdir, project_root) -> None:
    """Run the legacy program and the three migrated steps on the same CSV and compare their
    result files byte for byte; exit 1 unless every file is identical.

    \b
    Example:
      smlift parity
      smlift parity --data my-bookings-export.csv --workdir /tmp/parity
    """
    from ..parity import check_parity, find_project

    report = check_parity(data, workdir, find_project(project_root))
    click.echo(parity_text(report))
    if not report.ok:
        sys.exit(1)
