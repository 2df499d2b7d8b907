"""Preprocessing step: clean the raw bookings export and engineer the model's features.

Lifted from legacy_src/utils.py (`clean_data`, `add_features`). The logic is unchanged, so its
output is value-for-value what the legacy program held in memory before it called the model;
only the row-by-row weekday lookup is vectorised (same result, much faster).

SageMaker Processing contract (script mode, on the prebuilt scikit-learn image):

    python3 preprocessing.py [--input-dir /opt/ml/processing/input/data]
                             [--output-dir /opt/ml/processing/output] [--parts N]
                             [--failure-message-file /opt/ml/output/message]

Every CSV under the input directory (sorted by relative path) becomes one CSV of the same
relative path under the output directory. With `--parts N` (N > 1, the pipeline's
`instance_count`), each becomes N part files instead, `<relative path>.parts/part-00000.csv` ...
`part-<N-1>.csv`: consecutive row ranges, each with the header, so the next step can shard them
(ShardedByS3Key) and reading the parts in key order gives back every row in order. Cleaning
still sees the whole file, so every part is written with the whole column's type (a column with
one missing value is float in every part). Outputs are staged and renamed into place only when
every input succeeded. Bad input exits 1 with a one-line reason on stderr and in the failure
message file (SageMaker's ExitMessage). The file is self-contained on purpose (docs/migrating.md,
"Self-contained files"): it runs, and can be swapped, on its own.
"""

from __future__ import annotations

import argparse
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

def to_number(values: pd.Series) -> pd.Series:
    """' 45 ' -> 45, 'unknown' -> NaN, inf -> NaN."""
    numbers = pd.to_numeric(values.astype(str).str.strip(), errors="coerce")
    return numbers.replace([np.inf, -np.inf], np.nan)


def to_category(values: pd.Series, missing: str, upper: bool = False) -> pd.Series:
    """' ONLINE TA' and 'online ta' are one category; empty cells become `missing`."""
    text = values.fillna(missing).astype(str).str.strip()
    text = text.str.upper() if upper else text.str.lower()
    text.loc[text == ""] = missing
    return text


def set_missing(df: pd.DataFrame, col: str, where: pd.Series) -> None:
    """`df.loc[where, col] = NaN`, the legacy statement itself.

    Kept verbatim rather than `Series.mask`: pandas 3 turns an int column into float on this
    assignment even when `where` selects nothing, `mask` does not, and "3" vs "3.0" in the CSV
    would break parity with the legacy program under whichever pandas runs both.
    """
    df.loc[where, col] = np.nan


def clean(raw: pd.DataFrame) -> pd.DataFrame:
    """The legacy `clean_data`: typed numbers, sane ranges, one spelling per category."""
    df = raw.copy()
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
    df["arrival_month_num"] = df["arrival_date_month"].astype(str).str.strip().str.lower().map(MONTHS)
    return df


def arrival_weekday(year: pd.Series, month: pd.Series, day: pd.Series) -> pd.Series:
    """Monday=0 .. Sunday=6; NaN where the date is missing or impossible (31 June).

    Same as the legacy `datetime.date(int(y), int(m), int(d)).weekday()` row by row: int()
    truncates, so we truncate too.
    """
    parts = pd.DataFrame({"year": np.trunc(year), "month": np.trunc(month), "day": np.trunc(day)})
    return pd.to_datetime(parts, errors="coerce").dt.day_of_week


def add_features(df: pd.DataFrame) -> pd.DataFrame:
    """The legacy `add_features`, vectorised."""
    df = df.copy()
    df["arrival_weekday"] = arrival_weekday(
        df["arrival_date_year"], df["arrival_month_num"], df["arrival_date_day_of_month"])
    df["total_nights"] = df["stays_in_weekend_nights"] + df["stays_in_week_nights"]
    df["total_guests"] = df["adults"] + df["children"] + df["babies"]
    df["adr_per_person"] = df["adr"] / df["total_guests"].replace(0, np.nan)
    df["is_family"] = ((df["children"] + df["babies"]) > 0).astype(int)
    return df


def preprocess(raw: pd.DataFrame) -> pd.DataFrame:
    return add_features(clean(raw))


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


def read_raw_csv(path: Path) -> pd.DataFrame:
    """Read exactly as the legacy program did (pd.read_csv defaults), so values match."""
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise StepError(f"{path.name}: the file is empty (no header); expected a bookings CSV") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StepError(f"{path.name}: not a readable CSV ({reason})") from None


class StagedOutput:
    """Write outputs under a hidden staging folder, then rename them into place all at once."""

    def __init__(self, output_dir: Path):
        output_dir.mkdir(parents=True, exist_ok=True)
        self.output_dir = output_dir
        self.staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=output_dir))
        self.names: list[str] = []

    def path(self, relative: str) -> Path:
        self.names.append(relative)
        target = self.staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def commit(self) -> None:
        for relative in self.names:
            final = self.output_dir / relative
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.staging / relative, final)
        shutil.rmtree(self.staging, ignore_errors=True)

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


CSV_SPECIAL = (",", '"', "\n", "\r")


def csv_field(value) -> str:
    """One cell as pandas writes it: missing is empty, text quoted only when it must be."""
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"' if any(c in value for c in CSV_SPECIAL) else value
    if value is None or value != value:
        return ""
    return str(value)


def column_text(values: pd.Series) -> list[str]:
    """A column as CSV cells; floats as repr(), the shortest text that reads back to the same float."""
    items = values.tolist()
    if values.dtype.kind == "f":
        return ["" if x != x else repr(x) for x in items]
    if values.dtype.kind in "iub":
        return list(map(str, items))
    return [csv_field(x) for x in items]


def write_csv(df: pd.DataFrame, path: Path, chunk_rows: int = 50_000) -> None:
    """`df.to_csv(path, index=False)`, about a third faster on wide numeric frames.

    This file is only read back by the next step (never compared as text), so what matters is that
    it parses back to the same values and dtypes; the unit tests check that against pandas' writer.
    """
    with open(path, "w", newline="") as out:
        out.write(",".join(csv_field(str(c)) for c in df.columns) + "\n")
        for start in range(0, len(df), chunk_rows):
            part = df.iloc[start:start + chunk_rows]
            cells = [column_text(part[c]) for c in part.columns]
            out.write("".join(",".join(row) + "\n" for row in zip(*cells)))


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

def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return int(text)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="preprocessing.py", description=__doc__.splitlines()[0])
    parser.add_argument("--input-dir", type=Path, default=Path(DEFAULT_INPUT_DIR))
    parser.add_argument("--output-dir", type=Path, default=Path(DEFAULT_OUTPUT_DIR))
    parser.add_argument("--parts", type=positive_int, default=1,
                        help="write each input as this many part files (default 1: as is)")
    parser.add_argument("--failure-message-file", default=None,
                        help=f"default: ${MESSAGE_FILE_ENV} or {DEFAULT_MESSAGE_FILE}")
    return parser.parse_args(argv)


def part_names(relative: str, parts: int) -> list[str]:
    """The output file(s) of one input: itself, or its N parts in an order key order keeps."""
    if parts == 1:
        return [relative]
    return [f"{relative}.parts/part-{index:05d}.csv" for index in range(parts)]


def write_parts(df: pd.DataFrame, staged: "StagedOutput", relative: str, parts: int = 1) -> None:
    """`df` as `parts` consecutive row ranges (as even as can be), each a CSV with the header."""
    names = part_names(relative, parts)
    bounds = [len(df) * index // len(names) for index in range(len(names) + 1)]
    for name, start, end in zip(names, bounds, bounds[1:]):
        write_csv(df.iloc[start:end], staged.path(name))


def run(input_dir: Path, output_dir: Path, parts: int = 1) -> int:
    """Preprocess every input CSV (into `parts` part files each); returns the rows written."""
    files = csv_files(input_dir)
    staged = StagedOutput(output_dir)
    rows = 0
    try:
        for path in files:
            raw = read_raw_csv(path)
            check_columns(raw, REQUIRED_COLS, path.name)
            features = preprocess(raw)
            write_parts(features, staged, path.relative_to(input_dir).as_posix(), parts)
            rows += len(features)
        staged.commit()
    except BaseException:
        staged.discard()
        raise
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        rows = run(args.input_dir, args.output_dir, args.parts)
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
