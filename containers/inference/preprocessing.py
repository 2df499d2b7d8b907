"""Preprocessing step: clean the raw bookings export and engineer the model's features.

Lifted from legacy_src/utils.py (`clean_data`, `add_features`). The logic is unchanged, so its
output is value-for-value what the legacy program held in memory before it called the model;
the row-by-row weekday lookup is vectorised and text is parsed once per distinct value (same
results, much faster).

SageMaker Processing contract (script mode, on the prebuilt scikit-learn image):

    python3 preprocessing.py [--input-dir /opt/ml/processing/input/data]
                             [--output-dir /opt/ml/processing/output] [--chunk-rows 100000]
                             [--resource-config /opt/ml/config/resourceconfig.json]
                             [--failure-message-file /opt/ml/output/message]

Every CSV under the input directory (sorted by relative path) is read in chunks of --chunk-rows
rows (a multiple of 8), numbered 0, 1, 2, ... per file, with the legacy read options. Of N hosts
(resourceconfig.json; no file = one host) this one cleans the chunks i with i % N == its index,
so each instance holds one chunk at a time and the instances split the work. It writes

    parts/<input relative path>/part-<i:06d>.parquet   each chunk it owns, with the chunk's dtypes
    schema/<current host>.json                         {"parts": [...], "dtypes": {col: [...]},
                                                        "rows": n}: what it wrote

(a file with no data rows gives one empty part 0). A column can be int in one chunk and float in
another; the postprocessing step reads every schema file and formats each column with the type
the whole table would have had. Outputs are staged and renamed into place only when every input
succeeded. Bad input exits 1 with a one-line reason on stderr and in the failure message file
(SageMaker's ExitMessage). The file is self-contained on purpose (docs/migrating.md,
"Self-contained files"): it runs, and can be swapped, on its own.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

STEP = "preprocessing"
DEFAULT_INPUT_DIR = "/opt/ml/processing/input/data"
DEFAULT_OUTPUT_DIR = "/opt/ml/processing/output"
DEFAULT_MESSAGE_FILE = "/opt/ml/output/message"
DEFAULT_RESOURCE_CONFIG = "/opt/ml/config/resourceconfig.json"
DEFAULT_CHUNK_ROWS = 100_000  # a multiple of 8; see docs/migrating.md for how it was chosen
PARTS_DIR = "parts"
SCHEMA_DIR = "schema"
MESSAGE_FILE_ENV = "SM_OUTPUT_MESSAGE"

# What was config.py in the legacy program: constants of the cleaning rules.
NUMERIC_COLS = [
    "lead_time", "arrival_date_year", "arrival_date_day_of_month",
    "stays_in_weekend_nights", "stays_in_week_nights", "adults", "children", "babies",
    "is_repeated_guest", "previous_cancellations", "adr", "total_of_special_requests",
]
CATEGORICAL_COLS = [
    "hotel", "meal", "market_segment", "distribution_channel", "deposit_type", "customer_type",
]
COUNT_COLS = [
    "stays_in_weekend_nights", "stays_in_week_nights", "adults", "children", "babies",
    "previous_cancellations", "total_of_special_requests",
]
ZERO_IF_MISSING = ["children", "babies", "previous_cancellations", "total_of_special_requests"]
REQUIRED_COLS = ["booking_id", *NUMERIC_COLS, *CATEGORICAL_COLS, "country", "arrival_date_month"]
MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}
ADR_MAX = 1000
LEAD_TIME_MAX = 800
MIN_YEAR, MAX_YEAR = 2000, 2100
RANGES = [("lead_time", 0, LEAD_TIME_MAX), ("arrival_date_year", MIN_YEAR, MAX_YEAR),
          ("arrival_date_day_of_month", 1, 31)]


class StepError(Exception):
    """Bad input: reported as one line on stderr and in the failure message file."""


# --- the transformation (pure) ---------------------------------------------------------------
#
# The legacy statements, applied once per distinct value where that is the same thing: a column of
# a million cells holds a few hundred (or a few tens of thousands of) distinct strings, and parsing
# or normalising each once, then spreading the results back by position, gives the very values the
# row-by-row call gives. Only columns of one kind (all text, or all numbers) take that path; a
# mixed column is handled by the legacy statement itself.

FEW_ROWS = 256  # below this, the legacy statement itself is cheaper than factorising first


def distinct(values: pd.Series) -> tuple[np.ndarray, pd.Series] | None:
    """(codes, uniques) of a text column (missing = code -1), or None for any other column and
    for a few rows (an endpoint's request), where the legacy statement costs less."""
    if len(values) < FEW_ROWS or values.dtype.kind != "O" or \
            pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        return None
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, pd.Series(uniques, dtype=values.dtype)


def spread(codes: np.ndarray, results: pd.Series, missing, index: pd.Index) -> pd.Series:
    """Per-distinct-value `results` back at every position; `missing` where the code is -1."""
    if (codes < 0).any():
        results = pd.concat([results, pd.Series([missing])], ignore_index=True)
        codes = np.where(codes < 0, len(results) - 1, codes)
    return pd.Series(results.to_numpy()[codes] if results.dtype.kind in "iufb" else results.take(codes).array,
                     index=index, name=None)


def legacy_to_number(values: pd.Series) -> pd.Series:
    """The legacy statement: `pd.to_numeric(col.astype(str).str.strip(), errors="coerce")`."""
    return pd.to_numeric(values.astype(str).str.strip(), errors="coerce")


def to_number(values: pd.Series) -> pd.Series:
    """' 45 ' -> 45, 'unknown' -> NaN, inf -> NaN.

    A column read as numbers is kept as it is (the legacy str round trip gives it back unchanged:
    ints stay ints, a float's repr parses back to the same float); a text column is parsed once
    per distinct string.
    """
    if values.dtype.kind in "iu" or (values.dtype.kind == "f" and values.dtype.itemsize == 8):
        numbers = values.copy(deep=False)  # a new Series (its name is set below) on the same data
    elif (found := distinct(values)) is not None:
        codes, uniques = found
        parsed = legacy_to_number(uniques)
        if parsed.dtype.kind not in "if" or (parsed.dtype.kind == "f" and parsed.dtype.itemsize != 8):
            numbers = legacy_to_number(values)
        else:
            if (codes < 0).any():  # a missing cell is NaN, so the column is float as in the legacy
                parsed = parsed.astype("float64")
            numbers = spread(codes, parsed, np.nan, values.index)
    else:
        numbers = legacy_to_number(values)
    numbers.name = values.name
    if numbers.dtype.kind != "f" or not np.isinf(numbers.to_numpy()).any():
        return numbers  # nothing to replace: the same values and dtype, without the replace's cost
    return numbers.replace([np.inf, -np.inf], np.nan)


def legacy_to_category(values: pd.Series, missing: str, upper: bool) -> pd.Series:
    """The legacy statements. A float column (an empty one, or numbers) is filled as objects:
    the same text, without pandas' warning that filling a float column with text will raise in
    a future version."""
    if values.dtype.kind == "f":
        values = values.astype(object)
    text = values.fillna(missing).astype(str).str.strip()
    text = text.str.upper() if upper else text.str.lower()
    empty = text == ""
    if empty.any():  # assigning nowhere changes nothing: skipped, it is most of a few rows' cost
        text.loc[empty] = missing
    return text


def to_category(values: pd.Series, missing: str, upper: bool = False) -> pd.Series:
    """' ONLINE TA' and 'online ta' are one category; empty cells become `missing`."""
    found = distinct(values)
    if found is None:
        return legacy_to_category(values, missing, upper)
    codes, uniques = found
    text = spread(codes, legacy_to_category(uniques, missing, upper), missing, values.index)
    text = text.astype(legacy_to_category(values.iloc[:0], missing, upper).dtype)
    text.name = values.name
    return text


def month_number(values: pd.Series) -> pd.Series:
    """The legacy `col.astype(str).str.strip().str.lower().map(MONTHS)`, once per distinct value."""
    def legacy(v: pd.Series) -> pd.Series:
        return v.astype(str).str.strip().str.lower().map(MONTHS)
    found = distinct(values)
    if found is None:
        return legacy(values)
    codes, uniques = found
    numbers = legacy(uniques)
    if (codes < 0).any() or numbers.isna().any():
        numbers = numbers.astype("float64")
    return spread(codes, numbers, np.nan, values.index)


def set_missing(df: pd.DataFrame, col: str, where: pd.Series) -> None:
    """`df.loc[where, col] = NaN`, the legacy statement itself.

    Kept verbatim rather than `Series.mask`: pandas 3 turns an int column into float on this
    assignment even when `where` selects nothing, `mask` does not, and "3" vs "3.0" in the CSV
    would break parity with the legacy program under whichever pandas runs both. On a float
    column selecting nothing the statement changes nothing, and costs most of a few-row request's
    cleaning, so it is skipped there.
    """
    if df[col].dtype == "float64" and not where.any():
        return
    df.loc[where, col] = np.nan


def clean(raw: pd.DataFrame, copy: bool = True) -> pd.DataFrame:
    """The legacy `clean_data`: typed numbers, sane ranges, one spelling per category.

    `copy=False` cleans `raw` itself (a chunk nobody reads again), saving a copy of every column.
    """
    df = raw.copy() if copy else raw
    for col in NUMERIC_COLS:
        df[col] = to_number(df[col])
    for col in COUNT_COLS:
        set_missing(df, col, df[col] < 0)
    for col in ZERO_IF_MISSING:
        df[col] = df[col].fillna(0)
    set_missing(df, "is_repeated_guest", ~df["is_repeated_guest"].isin([0, 1]))
    for col, low, high in RANGES:
        set_missing(df, col, (df[col] < low) | (df[col] > high))
    df["adr"] = df["adr"].clip(0, ADR_MAX)
    for col in CATEGORICAL_COLS:
        df[col] = to_category(df[col], "unknown")
    df["country"] = to_category(df["country"], "UNK", upper=True)
    df["arrival_month_num"] = month_number(df["arrival_date_month"])
    return df


def arrival_weekday(year: pd.Series, month: pd.Series, day: pd.Series) -> pd.Series:
    """Monday=0 .. Sunday=6; NaN where the date is missing or impossible (31 June).

    Same as the legacy `datetime.date(int(y), int(m), int(d)).weekday()` row by row: int()
    truncates, so we truncate too. A few rows (an endpoint's request) take the legacy row-by-row
    call itself, which costs less there than building dates, with the vectorised result's dtype.
    """
    if len(year) < FEW_ROWS:
        days = [legacy_weekday(*date) for date in zip(year.tolist(), month.tolist(), day.tolist())]
        return pd.Series(days, index=year.index, dtype="float64" if any(d != d for d in days) else "int32")
    parts = pd.DataFrame({"year": np.trunc(year), "month": np.trunc(month), "day": np.trunc(day)})
    return pd.to_datetime(parts, errors="coerce").dt.day_of_week


def legacy_weekday(year, month, day) -> float:
    """The legacy `get_weekday` of one row (an infinite or huge number, which cleaning never lets
    through, is missing here as in the vectorised path, where the legacy call would raise)."""
    try:
        return datetime.date(int(year), int(month), int(day)).weekday()
    except (ValueError, TypeError, OverflowError):
        return np.nan


def add_features(df: pd.DataFrame, copy: bool = True) -> pd.DataFrame:
    """The legacy `add_features`, vectorised."""
    df = df.copy() if copy else df
    df["arrival_weekday"] = arrival_weekday(
        df["arrival_date_year"], df["arrival_month_num"], df["arrival_date_day_of_month"])
    df["total_nights"] = df["stays_in_weekend_nights"] + df["stays_in_week_nights"]
    df["total_guests"] = df["adults"] + df["children"] + df["babies"]
    df["adr_per_person"] = df["adr"] / df["total_guests"].replace(0, np.nan)
    df["is_family"] = ((df["children"] + df["babies"]) > 0).astype(int)
    return df


def preprocess(raw: pd.DataFrame, copy: bool = True) -> pd.DataFrame:
    """Cleaned rows with their features; `copy=False` works on `raw` itself (it is changed)."""
    return add_features(clean(raw, copy), copy=False)


def check_columns(df: pd.DataFrame, required: list[str], source: str) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise StepError(f"{source}: missing required column(s) {', '.join(missing)}; "
                        f"the bookings CSV needs a header with: {', '.join(required)}")


# --- files -------------------------------------------------------------------------------------

def csv_files(input_dir: Path) -> list[Path]:
    """Every *.csv under input_dir (hidden files and folders skipped), sorted by relative path."""
    if not input_dir.is_dir():
        raise StepError(f"input directory {input_dir} does not exist; "
                        "check the ProcessingInput LocalPath or --input-dir")
    found = [p for p in input_dir.rglob("*") if p.is_file() and p.suffix.lower() == ".csv"
             and not any(part.startswith(".") for part in p.relative_to(input_dir).parts)]
    if not found:
        raise StepError(f"no CSV files in {input_dir}; check the S3 input prefix")
    return sorted(found, key=lambda p: p.relative_to(input_dir).as_posix())


def not_readable(path: Path, exc: Exception) -> StepError:
    if isinstance(exc, pd.errors.EmptyDataError):
        return StepError(f"{path.name}: the file is empty (no header); expected a bookings CSV")
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return StepError(f"{path.name}: not a readable CSV ({reason})")


def read_raw_chunks(path: Path, chunk_rows: int):
    """(index, rows) of consecutive `chunk_rows`-row chunks, read as the legacy program read the
    whole file (pd.read_csv defaults), so every value matches. A header-only file is one empty
    chunk; the header's columns are checked before any row is returned."""
    try:
        reader = pd.read_csv(path, chunksize=chunk_rows)
        for index, chunk in enumerate(reader):
            if index == 0:
                check_columns(chunk, REQUIRED_COLS, path.name)
            yield index, chunk
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise not_readable(path, exc) from None


class StagedOutput:
    """Write outputs under hidden staging folders, then rename them into place all at once.

    Each top-level folder of the output (results/, partials/, ...) stages inside itself: on
    SageMaker and on a Docker engine every ProcessingOutput's LocalPath may be a mount of its own,
    and a rename cannot cross mounts.
    """

    def __init__(self, output_dir: Path):
        output_dir.mkdir(parents=True, exist_ok=True)
        self.output_dir = output_dir
        self.stagings: dict[str, Path] = {}
        self.names: list[tuple[str, str]] = []
        self.made: list[Path] = []  # folders made for staging: removed again if nothing lands

    def path(self, relative: str) -> Path:
        top, _, rest = relative.partition("/")
        folder, inside = (top, rest) if rest else ("", top)
        if folder not in self.stagings:
            if not (self.output_dir / folder).exists():
                (self.output_dir / folder).mkdir(parents=True)
                self.made.append(self.output_dir / folder)
            self.stagings[folder] = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.output_dir / folder))
        self.names.append((folder, inside))
        target = self.stagings[folder] / inside
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def commit(self) -> None:
        for folder, inside in self.names:
            final = self.output_dir / folder / inside
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.stagings[folder] / inside, final)
        self.discard()

    def discard(self) -> None:
        for staging in self.stagings.values():
            shutil.rmtree(staging, ignore_errors=True)
        for folder in reversed(self.made):
            try:
                folder.rmdir()  # only if empty: a committed file keeps its folder
            except OSError:
                pass


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """The frame as one Parquet file (no index), every column with the dtype it has here.

    A column of mixed Python objects (an untouched raw column pandas read as ints and strings)
    has no Parquet type: it is written as text, missing cells kept missing.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq
    try:
        table = pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        df = df.copy()
        for col in df.columns:
            if df[col].dtype.kind == "O" and pd.api.types.infer_dtype(df[col], skipna=True).startswith("mixed"):
                df[col] = df[col].map(lambda v: v if v is None or v != v else str(v))
        table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, path)


# --- hosts (SageMaker writes /opt/ml/config/resourceconfig.json into every instance) -------------

def read_hosts(path: Path) -> tuple[str, list[str]]:
    """(current_host, hosts) of this instance; one host, algo-1, when the file does not exist."""
    if not path.is_file():
        return "algo-1", ["algo-1"]
    try:
        config = json.loads(path.read_text())
        current, hosts = config["current_host"], list(config["hosts"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StepError(f"{path}: not a SageMaker resource config ({type(exc).__name__}: {exc}); "
                        "it needs \"current_host\" and \"hosts\", or pass --resource-config") from None
    if current not in hosts:
        raise StepError(f"{path}: current_host {current!r} is not one of hosts {hosts}")
    return current, hosts


def part_name(relative: str, index: int) -> str:
    return f"{relative}/part-{index:06d}.parquet"


def run(input_dir: Path, output_dir: Path, chunk_rows: int | None = None,
        resource_config: Path | None = None) -> int:
    """Clean the chunks this host owns (chunk i of each input: host i % N) into Parquet parts,
    and list them with their dtypes in schema/<host>.json; returns the rows written."""
    chunk_rows = chunk_rows or DEFAULT_CHUNK_ROWS
    check_chunk_rows(chunk_rows)
    current, hosts = read_hosts(Path(resource_config or DEFAULT_RESOURCE_CONFIG))
    me, count = hosts.index(current), len(hosts)
    files = csv_files(input_dir)
    staged = StagedOutput(output_dir)
    parts: list[str] = []
    dtypes: dict[str, list[str]] = {}
    rows = 0
    try:
        for path in files:
            relative = path.relative_to(input_dir).as_posix()
            for index, chunk in read_raw_chunks(path, chunk_rows):
                if index % count != me:
                    continue
                features = preprocess(chunk, copy=False)
                name = part_name(relative, index)
                write_parquet(features, staged.path(f"{PARTS_DIR}/{name}"))
                parts.append(name)
                for col in features.columns:
                    seen = dtypes.setdefault(str(col), [])
                    if str(features[col].dtype) not in seen:
                        seen.append(str(features[col].dtype))
                rows += len(features)
        schema = {"parts": parts, "dtypes": dtypes, "rows": rows}
        staged.path(f"{SCHEMA_DIR}/{current}.json").write_text(json.dumps(schema) + "\n")
        staged.commit()
    except BaseException:
        staged.discard()
        raise
    return rows


# --- failure reporting (SageMaker: /opt/ml/output/message becomes the job's ExitMessage) -------

def message_file(arg: str | None) -> tuple[Path, bool]:
    """(path, explicit): an explicit path is created; the default only used if its folder exists."""
    chosen = arg or os.environ.get(MESSAGE_FILE_ENV)
    return (Path(chosen), True) if chosen else (Path(DEFAULT_MESSAGE_FILE), False)


def report_failure(message: str, path: Path, explicit: bool) -> None:
    line = " ".join(f"{STEP}: {message}".split())[:1024]
    print(line, file=sys.stderr, flush=True)
    try:
        if explicit:
            path.parent.mkdir(parents=True, exist_ok=True)
        if path.parent.is_dir():
            path.write_text(line + "\n")
    except OSError:
        pass  # stderr already has it


# --- entry point -------------------------------------------------------------------------------

def check_chunk_rows(rows: int) -> None:
    if rows < 8 or rows % 8:
        raise StepError(f"--chunk-rows must be a positive multiple of 8 (the model scores rows in "
                        f"blocks of 8, so a chunk must start on one), not {rows}")


def chunk_rows_arg(text: str) -> int:
    try:
        check_chunk_rows(int(text) if text.isdigit() else 0)
    except StepError:
        raise argparse.ArgumentTypeError(f"must be a positive multiple of 8, not {text!r}") from None
    return int(text)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="preprocessing.py", description=__doc__.splitlines()[0])
    parser.add_argument("--input-dir", type=Path, default=Path(DEFAULT_INPUT_DIR))
    parser.add_argument("--output-dir", type=Path, default=Path(DEFAULT_OUTPUT_DIR))
    parser.add_argument("--chunk-rows", type=chunk_rows_arg, default=DEFAULT_CHUNK_ROWS,
                        help=f"rows read, cleaned and written at a time (a multiple of 8; "
                             f"default {DEFAULT_CHUNK_ROWS})")
    parser.add_argument("--resource-config", type=Path, default=Path(DEFAULT_RESOURCE_CONFIG),
                        help="this instance's host and all hosts (default: SageMaker's file; "
                             "absent = one host)")
    parser.add_argument("--failure-message-file", default=None,
                        help=f"default: ${MESSAGE_FILE_ENV} or {DEFAULT_MESSAGE_FILE}")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        rows = run(args.input_dir, args.output_dir, args.chunk_rows, args.resource_config)
    except StepError as exc:
        report_failure(str(exc), *message_file(args.failure_message_file))
        return 1
    except Exception as exc:
        report_failure(f"unexpected {type(exc).__name__}: {exc}", *message_file(args.failure_message_file))
        raise
    print(f"{STEP}: wrote {rows} rows to {args.output_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
