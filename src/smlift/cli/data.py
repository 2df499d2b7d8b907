"""`smlift data make`: more input data for runs at scale, from the project's own generator.

Thin: `smlift.datagen.make_data` runs the project file's `[data]` command.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from .output import emit, output_option


@click.group()
def data() -> None:
    """Make input data with the project's generator (the project file's [data]).

    \b
    Example:
      smlift data make --rows 1000000 --out /tmp/bookings-1m
    """


@data.command("make")
@click.option("--rows", type=click.IntRange(1), required=True, help="How many rows to make.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="The generator's seed: the same seed makes the same rows.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder to write into (default: the project file's paths.data).")
@click.option("--force", is_flag=True, help="Replace the data file if it exists.")
@output_option(default="text")
def make(rows: int, seed: int, out: Path | None, force: bool, output: str) -> None:
    """Run the project's data generator for ROWS rows into the data folder (or --out).

    \b
    Example:
      smlift data make --rows 1000000 --out /tmp/bookings-1m
      smlift run --data /tmp/bookings-1m --parity
      smlift run --rows 1000000 --parity     # the same, the data made (once) under .smlift/data/
    """
    from ..datagen import make_data
    from ..project import load_project

    started = time.perf_counter()
    written = make_data(load_project(), rows, out, seed, replace=force)
    made = {"path": str(written), "rows": rows, "seed": seed, "bytes": written.stat().st_size,
            "seconds": round(time.perf_counter() - started, 1)}
    emit(made, output, columns=("path", "rows", "seed", "bytes", "seconds"),
         text=f"wrote {rows:,} rows to {written} ({made['bytes'] / 2**20:.1f} MiB, "
              f"{made['seconds']}s)")
