"""Result files as tables, compared column by column: what parity reports when bytes differ.

    read_table(path)                      -> Table (columns, rows of cells) or None
    diff_tables(legacy, migrated, tols)   -> TableDiff: per column, the first differing rows

CSV (a header row), JSON (a list of records, a record of lists, or any other value as one
cell) and Parquet (through pandas) are tables; anything else is not, and parity compares its
lines. Cells are compared as text unless the column has a tolerance: then two numbers are equal
when |a - b| <= atol + rtol * |b| (numpy's `isclose`, the migrated value as `b`).
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Mapping, Protocol

FIRST_ROWS = 5


class Tolerance(Protocol):
    rtol: float
    atol: float


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class ColumnDiff:
    """One column: how many rows differ, and the first few as (row, legacy, migrated)."""

    column: str
    differing: int
    first: tuple[tuple[int, str, str], ...]


@dataclass(frozen=True)
class TableDiff:
    rows: int  # rows compared (the shorter side)
    equal_rows: int
    columns: tuple[ColumnDiff, ...] = ()
    shape: str = ""  # a difference in columns or row counts, in words

    @property
    def equal(self) -> bool:
        return not self.columns and not self.shape


def read_table(path: Path, stream: BinaryIO | None = None) -> Table | None:
    """The table in `path` (its suffix says the format), read from `stream` when given (a
    result in parts, read as one: CSV and TSV only)."""
    suffix = Path(path).suffix.lower()
    try:
        if suffix in (".csv", ".tsv"):
            return _read_csv(path, "\t" if suffix == ".tsv" else ",", stream)
        if stream is not None:
            return None
        if suffix == ".json":
            return _from_json(json.loads(Path(path).read_text()))
        if suffix == ".parquet":
            return _read_parquet(path)
    except (ValueError, OSError, ImportError, csv.Error):  # UnicodeDecodeError is a ValueError
        return None
    return None


def _read_csv(path: Path, delimiter: str, stream: BinaryIO | None = None) -> Table:
    handle = io.TextIOWrapper(stream, newline="") if stream is not None else open(path, newline="")
    with handle:
        rows = list(csv.reader(handle, delimiter=delimiter))
    header = tuple(rows[0]) if rows else ()
    return Table(header, tuple(tuple(row) for row in rows[1:]))


def _from_json(value: Any) -> Table:
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        columns = tuple(dict.fromkeys(k for record in value for k in record))
        return Table(columns, tuple(tuple(_cell(r.get(c)) for c in columns) for r in value))
    if isinstance(value, dict) and value and all(isinstance(v, list) for v in value.values()):
        columns = tuple(value)
        length = max(len(v) for v in value.values())
        return Table(columns, tuple(tuple(_cell(value[c][i] if i < len(value[c]) else None)
                                          for c in columns) for i in range(length)))
    return Table(("value",), ((_cell(value),),))


def _read_parquet(path: Path) -> Table:
    import pandas  # only for Parquet result files; pandas is a dependency of the jobs anyway

    frame = pandas.read_parquet(path)
    return Table(tuple(str(c) for c in frame.columns),
                 tuple(tuple(_cell(v) for v in row) for row in frame.itertuples(index=False)))


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def diff_tables(legacy: Table, migrated: Table,
                tolerances: Mapping[str, Tolerance] | None = None) -> TableDiff:
    tolerances = tolerances or {}
    shape = _shape(legacy, migrated)
    shared = [c for c in legacy.columns if c in migrated.columns]
    at_legacy = {c: legacy.columns.index(c) for c in shared}
    at_migrated = {c: migrated.columns.index(c) for c in shared}
    rows = min(len(legacy.rows), len(migrated.rows))
    found: dict[str, list[tuple[int, str, str]]] = {c: [] for c in shared}
    counts = dict.fromkeys(shared, 0)
    bad_rows = set()
    for i in range(rows):
        a_row, b_row = legacy.rows[i], migrated.rows[i]
        for c in shared:
            a, b = _at(a_row, at_legacy[c]), _at(b_row, at_migrated[c])
            if not cells_equal(a, b, tolerances.get(c)):
                counts[c] += 1
                bad_rows.add(i)
                if len(found[c]) < FIRST_ROWS:
                    found[c].append((i + 1, a, b))
    columns = tuple(ColumnDiff(c, counts[c], tuple(found[c])) for c in shared if counts[c])
    return TableDiff(rows, rows - len(bad_rows), columns, shape)


def _at(row: tuple[str, ...], index: int) -> str:
    return row[index] if index < len(row) else ""


def _shape(legacy: Table, migrated: Table) -> str:
    problems = []
    if set(legacy.columns) != set(migrated.columns):
        only_l = [c for c in legacy.columns if c not in migrated.columns]
        only_m = [c for c in migrated.columns if c not in legacy.columns]
        problems.append(f"columns only in legacy {only_l}, only in migrated {only_m}")
    elif legacy.columns != migrated.columns:
        problems.append("the columns are in a different order")
    if len(legacy.rows) != len(migrated.rows):
        problems.append(f"{len(legacy.rows)} legacy rows vs {len(migrated.rows)} migrated rows")
    return "; ".join(problems)


def cells_equal(a: str, b: str, tolerance: Tolerance | None) -> bool:
    if a == b:
        return True
    if tolerance is None:
        return False
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    if math.isnan(x) and math.isnan(y):
        return True
    return abs(x - y) <= tolerance.atol + tolerance.rtol * abs(y)


@dataclass(frozen=True)
class _Exact:
    rtol: float = 0.0
    atol: float = 0.0


def tolerance(rtol: float | None, atol: float | None) -> _Exact:
    """A tolerance from command-line values (either may be None)."""
    return _Exact(rtol or 0.0, atol or 0.0)

