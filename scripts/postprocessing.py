"""Postprocessing step: the business rules. Risk bands, the overbooking flag and the per-segment summary.

Lifted from legacy_src/predict.py (everything after `predict_proba`). The thresholds that were
globals in legacy_src/config.py are arguments here, with the legacy values as defaults.

SageMaker Processing contract (script mode, on the prebuilt scikit-learn image):

    python3 postprocessing.py [--input-dir /opt/ml/processing/input/data]
                              [--output-dir /opt/ml/processing/output]
                              [--low-risk 0.3] [--high-risk 0.6] [--threshold 0.5]
                              [--failure-message-file /opt/ml/output/message]

All CSVs under the input directory (the predict step's output, sorted by relative path) are
read as one table, in that order. Writes exactly two
files, the legacy program's result files: `predictions.csv` and `segment_summary.csv`, renamed
into place together at the end. `predictions.csv` is written by `write_result_csv`, which gives
pandas' `to_csv(index=False)` bytes several times faster (the cells are formatted as pandas
formats them, the rows are joined by pyarrow). Bad input exits 1 with a one-line reason on stderr
and in the failure message file (SageMaker's ExitMessage).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

STEP = "postprocessing"
DEFAULT_INPUT_DIR = "/opt/ml/processing/input/data"
DEFAULT_OUTPUT_DIR = "/opt/ml/processing/output"
DEFAULT_MESSAGE_FILE = "/opt/ml/output/message"
MESSAGE_FILE_ENV = "SM_OUTPUT_MESSAGE"

PREDICTIONS_FILE = "predictions.csv"
SUMMARY_FILE = "segment_summary.csv"
LOW_RISK = 0.3
HIGH_RISK = 0.6
THRESHOLD = 0.5
OUTPUT_COLS = [
    "booking_id", "hotel", "country", "market_segment", "distribution_channel", "deposit_type",
    "customer_type", "lead_time", "arrival_date_year", "arrival_month_num",
    "arrival_date_day_of_month", "arrival_weekday", "total_nights", "total_guests", "adr",
    "adr_per_person", "cancel_probability", "risk_band", "high_risk", "revenue_at_risk",
]
DERIVED_COLS = ["risk_band", "high_risk", "revenue_at_risk"]
REQUIRED_COLS = [c for c in OUTPUT_COLS if c not in DERIVED_COLS]
SUMMARY_ROUNDING = {"expected_cancellations": 2, "mean_probability": 4, "revenue_at_risk": 2,
                    "high_risk_share": 4}


# pandas 3 parses floats exactly and deprecates the option; pandas 2 (the SageMaker image) needs it
EXACT_FLOATS = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}


class StepError(Exception):
    """Bad input: reported as one line on stderr and in the failure message file."""


# --- the business rules (pure) -----------------------------------------------------------------

def risk_bands(probability: pd.Series, low: float = LOW_RISK, high: float = HIGH_RISK) -> pd.Series:
    """low below `low`, high from `high` up, medium between (the legacy `risk_band`, vectorised)."""
    bands = pd.Series("high", index=probability.index, dtype=object)
    bands[probability < high] = "medium"
    bands[probability < low] = "low"
    return bands


def score_bookings(scored: pd.DataFrame, low: float = LOW_RISK, high: float = HIGH_RISK,
                   threshold: float = THRESHOLD) -> pd.DataFrame:
    """Add risk_band, high_risk and revenue_at_risk; keep the report's columns in order."""
    df = scored.copy()
    p = df["cancel_probability"]
    df["risk_band"] = risk_bands(p, low, high)
    df["high_risk"] = (p >= threshold).astype(int)
    df["revenue_at_risk"] = (df["adr"] * df["total_nights"] * p).round(2)
    return df[OUTPUT_COLS]


def segment_summary(bookings: pd.DataFrame) -> pd.DataFrame:
    """Per market segment: volume, expected cancellations, high-risk share, revenue at risk."""
    summary = bookings.groupby("market_segment").agg(
        bookings=("booking_id", "size"),
        expected_cancellations=("cancel_probability", "sum"),
        mean_probability=("cancel_probability", "mean"),
        high_risk_bookings=("high_risk", "sum"),
        revenue_at_risk=("revenue_at_risk", "sum"),
    )
    summary["high_risk_share"] = summary["high_risk_bookings"] / summary["bookings"]
    return summary.round(SUMMARY_ROUNDING)


def check_columns(df: pd.DataFrame, required: list[str], source: str) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise StepError(f"{source}: missing required column(s) {', '.join(missing)}; "
                        "the input must be the predict step's output")


def check_thresholds(low: float, high: float, threshold: float) -> None:
    if not 0 <= low <= high <= 1 or not 0 <= threshold <= 1:
        raise StepError(f"thresholds must satisfy 0 <= --low-risk ({low}) <= --high-risk ({high}) <= 1 "
                        f"and 0 <= --threshold ({threshold}) <= 1")


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


def read_step_csv(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a CSV written by the previous step, losslessly; only `columns` if given (checked first).

    Floats parse back to exactly the float64 that was written (pandas 3 does by default, pandas 2
    needs float_precision="round_trip"); only empty cells are missing, so a category spelled
    "null" or "NA" stays a string, as it was in memory.
    """
    options = dict(keep_default_na=False, na_values=[""], **EXACT_FLOATS)
    try:
        if columns is not None:
            check_columns(pd.read_csv(path, nrows=0, **options), columns, path.name)
        return pd.read_csv(path, usecols=columns, **options)
    except pd.errors.EmptyDataError:
        raise StepError(f"{path.name}: the file is empty (no header)") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StepError(f"{path.name}: not a readable CSV ({reason})") from None


# --- the result file: pandas' to_csv bytes, faster -----------------------------------------------

CSV_SPECIAL = r'[,"\n]'


def cell_texts(values: pd.Series) -> pa.Array | None:
    """One column as the cells `to_csv` writes, or None for a dtype this writer does not handle.

    Numbers are formatted by the very call pandas makes (`ndarray.astype(str)`: numpy's shortest
    round-trip repr), missing values are empty, and text is quoted only when it holds a comma, a
    quote or a newline, with quotes doubled (the csv module's QUOTE_MINIMAL).
    """
    kind = values.dtype.kind
    if kind in "iu":
        return pa.array(values.to_numpy().astype(str))
    if kind == "f" and values.dtype.itemsize == 8:
        return float_texts(values.to_numpy())
    if kind == "O" and pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        text = pa.array(values.to_numpy(), type=pa.string(), from_pandas=True)
        if pc.any(pc.match_substring(text, "\r")).as_py():
            return None  # whether "\r" is quoted depends on the Python version: ask pandas
        special = pc.fill_null(pc.match_substring_regex(text, CSV_SPECIAL), False)
        quoted = pc.binary_join_element_wise("\"", pc.replace_substring(text, "\"", "\"\""), "\"", "")
        return pc.fill_null(pc.if_else(special, quoted, text), "")
    return None


def float_texts(array: np.ndarray) -> pa.Array:
    """`array.astype(str)` (missing as ""), ten times faster: pyarrow's shortest round-trip digits.

    Arrow and numpy pick the same shortest digits, but not the same layout: Arrow writes 3.0 as
    "3" and switches to an exponent at other magnitudes. So Arrow's text is kept only where the
    layout is plain positional (1e-4 <= |x| < 1e16, no exponent), with ".0" added to whole
    numbers; every other value (zero, tiny, huge, inf, NaN) is formatted by numpy itself.
    """
    arrow = pc.cast(pa.array(array, type=pa.float64()), pa.string())
    size = np.abs(array)
    with np.errstate(invalid="ignore"):
        plain = (size >= 1e-4) & (size < 1e16)
    plain &= ~np.asarray(pc.match_substring(arrow, "e").to_numpy(zero_copy_only=False), dtype=bool)
    whole = ~np.asarray(pc.match_substring(arrow, ".").to_numpy(zero_copy_only=False), dtype=bool)
    arrow = pc.if_else(pa.array(whole), pc.binary_join_element_wise(arrow, ".0", ""), arrow)
    others = ~plain
    if not others.any():
        return arrow
    text = array[others].astype(str)
    text[np.isnan(array[others])] = ""
    return pc.replace_with_mask(arrow, pa.array(others), pa.array(text, type=pa.string()))


def write_result_csv(df: pd.DataFrame, path: Path, chunk_rows: int = 200_000) -> None:
    """`df.to_csv(path, index=False)`, byte for byte (the unit and parity tests hold it to that).

    Falls back to pandas itself for a frame with a column of another dtype (bool, dates, mixed
    objects) or a header that needs quoting.
    """
    header = [str(c) for c in df.columns]
    if any(re.search(CSV_SPECIAL, name) or "\r" in name or name == "" for name in header) \
            or not header:
        df.to_csv(path, index=False)
        return
    with open(path, "wb") as out:
        out.write((",".join(header) + "\n").encode())
        for start in range(0, len(df), chunk_rows):
            part = df.iloc[start:start + chunk_rows]
            cells = [cell_texts(part[c]) for c in part.columns]
            if any(c is None for c in cells):
                out.close()
                df.to_csv(path, index=False)
                return
            lines = pc.binary_join_element_wise(*cells, ",") if len(cells) > 1 else cells[0]
            lines = pc.binary_join_element_wise(lines, "", "\n")
            out.write(string_bytes(lines))


def string_bytes(strings: pa.Array) -> memoryview:
    """The characters of a string array, back to back, without copying them."""
    strings = pa.concat_arrays([strings]) if strings.offset else strings
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int32, count=len(strings) + 1)
    return memoryview(strings.buffers()[2])[offsets[0]:offsets[-1]]


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

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="postprocessing.py", description=__doc__.splitlines()[0])
    parser.add_argument("--input-dir", type=Path, default=Path(DEFAULT_INPUT_DIR))
    parser.add_argument("--output-dir", type=Path, default=Path(DEFAULT_OUTPUT_DIR))
    parser.add_argument("--low-risk", type=float, default=LOW_RISK)
    parser.add_argument("--high-risk", type=float, default=HIGH_RISK)
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    parser.add_argument("--failure-message-file", default=None,
                        help=f"default: ${MESSAGE_FILE_ENV} or {DEFAULT_MESSAGE_FILE}")
    return parser.parse_args(argv)


def read_all(input_dir: Path) -> pd.DataFrame:
    frames = []
    for path in csv_files(input_dir):
        frames.append(read_step_csv(path, REQUIRED_COLS))
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def run(input_dir: Path, output_dir: Path, low: float = LOW_RISK, high: float = HIGH_RISK,
        threshold: float = THRESHOLD) -> int:
    """Write predictions.csv and segment_summary.csv; returns the number of bookings."""
    check_thresholds(low, high, threshold)
    bookings = score_bookings(read_all(input_dir), low, high, threshold)
    summary = segment_summary(bookings)
    staged = StagedOutput(output_dir)
    try:
        write_result_csv(bookings, staged.path(PREDICTIONS_FILE))
        summary.to_csv(staged.path(SUMMARY_FILE))
        staged.commit()
    except BaseException:
        staged.discard()
        raise
    return len(bookings)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        rows = run(args.input_dir, args.output_dir, args.low_risk, args.high_risk, args.threshold)
    except StepError as exc:
        report_failure(str(exc), *message_file(args.failure_message_file))
        return 1
    except Exception as exc:
        report_failure(f"unexpected {type(exc).__name__}: {exc}", *message_file(args.failure_message_file))
        raise
    print(f"{STEP}: wrote {rows} bookings to {args.output_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
