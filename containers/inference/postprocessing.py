"""Postprocessing step: the business rules. Risk bands, the overbooking flag and the per-segment summary.

Lifted from legacy_src/predict.py (everything after `predict_proba`). The thresholds that were
globals in legacy_src/config.py are arguments here, with the legacy values as defaults.

SageMaker Processing contract (script mode, on the prebuilt scikit-learn image):

    python3 postprocessing.py [--input-dir /opt/ml/processing/input/data]
                              [--output-dir /opt/ml/processing/output]
                              [--schema-dir /opt/ml/processing/input/schema]
                              [--low-risk 0.3] [--high-risk 0.6] [--threshold 0.5]
                              [--resource-config /opt/ml/config/resourceconfig.json]
                              [--failure-message-file /opt/ml/output/message]
    python3 postprocessing.py --summarize [--input-dir ...] [--output-dir ...]

Scoring (the default): the parts under the input directory (the predict step's Parquet output, or
CSVs, sorted by relative path) are read one at a time. Each part's columns are first cast to the
type the whole table has (the union over every schema/<host>.json the preprocessing step wrote,
in --schema-dir: int and float make float, anything with text makes object; without that folder,
the union over this instance's own parts, which is right only on one host), so every value is
written as the legacy program's one big frame would write it. Outputs, under --output-dir:

    results/predictions.csv            one host: every part in key order, one header
    results/predictions.csv.parts/<part>.csv
                                       several hosts (resourceconfig.json): one file per part,
                                       only the globally first part with the header, so that
                                       `cat` in key order is the legacy predictions.csv
    partials/<current host>.json       per market segment: bookings, high-risk bookings and the
                                       exact sums of cancel_probability and revenue_at_risk
                                       (integers counting 2**-1074), so shards combine exactly
                                       in any order

`--summarize` reads every partials/*.json under --input-dir, checks that every host reported, and
writes segment_summary.csv under --output-dir: the legacy `groupby(...).agg(...)` table, its
sums the correctly rounded exact sums, byte for byte what the legacy program writes.

`predictions.csv` is written by `write_result_csv`, which gives pandas' `to_csv(index=False)`
bytes several times faster (the cells are formatted as pandas formats them, the rows are joined
by pyarrow). Outputs are renamed into place together at the end. Bad input exits 1 with a
one-line reason on stderr and in the failure message file (SageMaker's ExitMessage).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

STEP = "postprocessing"
DEFAULT_INPUT_DIR = "/opt/ml/processing/input/data"
DEFAULT_OUTPUT_DIR = "/opt/ml/processing/output"
DEFAULT_MESSAGE_FILE = "/opt/ml/output/message"
DEFAULT_SCHEMA_DIR = "/opt/ml/processing/input/schema"
DEFAULT_RESOURCE_CONFIG = "/opt/ml/config/resourceconfig.json"
RESULTS_DIR = "results"
PARTIALS_DIR = "partials"
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
    p = probability.to_numpy()
    return pd.Series(np.where(p < low, "low", np.where(p < high, "medium", "high")),
                     index=probability.index, dtype=object)


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

STEP_SUFFIXES = (".csv", ".parquet")


def step_files(input_dir: Path, hosts: int = 1) -> list[Path]:
    """Every *.csv and *.parquet under input_dir (hidden files and folders skipped), sorted by
    relative path. With several hosts an instance may be given no part at all: that is no error."""
    if not input_dir.is_dir():
        if hosts > 1:
            return []
        raise StepError(f"input directory {input_dir} does not exist; "
                        "check the ProcessingInput LocalPath or --input-dir")
    found = [p for p in input_dir.rglob("*") if p.is_file() and p.suffix.lower() in STEP_SUFFIXES
             and not any(part.startswith(".") for part in p.relative_to(input_dir).parts)]
    if not found and hosts == 1:
        raise StepError(f"no CSV files in {input_dir} (nor Parquet parts); check the S3 input prefix")
    return sorted(found, key=lambda p: p.relative_to(input_dir).as_posix())


def csv_files(input_dir: Path) -> list[Path]:
    """Every *.csv under input_dir (hidden files and folders skipped), sorted by relative path."""
    found = [p for p in step_files(input_dir) if p.suffix.lower() == ".csv"]
    if not found:
        raise StepError(f"no CSV files in {input_dir}; check the S3 input prefix")
    return found


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


def read_part(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """One part (Parquet or CSV) as a frame with its own dtypes; only `columns` (checked first)."""
    if path.suffix.lower() == ".csv":
        return read_step_csv(path, columns)
    import pyarrow.parquet as pq
    try:
        names = pq.read_schema(path).names
        if columns is not None:
            check_columns(pd.DataFrame(columns=names), columns, path.name)
        return pq.read_table(path, columns=columns).to_pandas()
    except (pa.ArrowInvalid, OSError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise StepError(f"{path.name}: not a readable Parquet file ({reason})") from None


def part_dtypes(path: Path) -> dict[str, list[str]]:
    """The dtype of each column of one part (a Parquet file's schema alone; a CSV is read)."""
    if path.suffix.lower() == ".csv":
        frame = read_step_csv(path)
    else:
        import pyarrow.parquet as pq
        try:
            frame = pq.read_schema(path).empty_table().to_pandas()
        except (pa.ArrowInvalid, OSError) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise StepError(f"{path.name}: not a readable Parquet file ({reason})") from None
    return {str(c): [str(frame[c].dtype)] for c in frame.columns}


# --- hosts and the whole table's types ---------------------------------------------------------

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


def read_schemas(schema_dir: Path) -> tuple[list[str], dict[str, list[str]]] | None:
    """(every part, sorted; each column's dtypes) from the preprocessing step's schema files, or
    None when the folder does not exist."""
    if not schema_dir.is_dir():
        return None
    files = sorted(p for p in schema_dir.rglob("*.json") if not p.name.startswith("."))
    if not files:
        raise StepError(f"no schema files (*.json) in {schema_dir}; pass --schema-dir the "
                        "preprocessing step's schema/ output")
    parts: set[str] = set()
    dtypes: dict[str, list[str]] = {}
    for path in files:
        try:
            schema = json.loads(path.read_text())
            listed, types = list(schema["parts"]), dict(schema["dtypes"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StepError(f"{path}: not a preprocessing schema file ({type(exc).__name__}: {exc}); "
                            "it needs \"parts\" and \"dtypes\"") from None
        parts.update(str(p) for p in listed)
        for col, names in types.items():
            seen = dtypes.setdefault(str(col), [])
            seen.extend(str(n) for n in names if str(n) not in seen)
    return sorted(parts), dtypes


def dtype_kind(name: str) -> str:
    """'i' for ints, 'f' for floats, 'b' for bool, 'O' for anything else (text, objects)."""
    try:
        kind = np.dtype(name).kind
    except TypeError:
        return "O"
    return {"u": "i"}.get(kind, kind) if kind in "iufb" else "O"


def common_dtype(names: list[str]) -> str:
    """The dtype pandas gives a column whose pieces had these dtypes: one dtype is itself;
    ints of any width make int64; ints and floats make float64; anything with text makes object."""
    unique = list(dict.fromkeys(names))
    if len(unique) == 1:
        return unique[0]
    kinds = {dtype_kind(n) for n in unique}
    if kinds == {"i"}:
        return "int64"
    if kinds <= {"i", "f"}:
        return "float64"
    return "object"


def cast_to(df: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    """The part's columns as the whole table's dtypes (only where they differ)."""
    changed = {c: dtypes[c] for c in df.columns if c in dtypes and str(df[c].dtype) != dtypes[c]}
    return df.astype(changed) if changed else df


# --- exact per-segment sums --------------------------------------------------------------------
#
# Every finite float is an integer multiple of 2**-1074, so a sum of floats is exactly an integer
# count of that unit: shards add up in any order to the same integer, and float(Fraction) rounds
# it once, correctly.

UNIT_EXPONENT = 1074
HALF = 26


def exact_sums(values: np.ndarray, codes: np.ndarray, groups: int) -> list[int]:
    """Per group (codes 0..groups-1), the exact sum of the non-missing values in units of 2**-1074."""
    values = np.asarray(values, dtype="float64")
    keep = ~np.isnan(values)
    values, codes = values[keep], np.asarray(codes)[keep]
    if not np.isfinite(values).all():
        raise StepError("an infinite cancel_probability or revenue_at_risk cannot be summed; "
                        "check the predict step's output")
    totals = [0] * groups
    if not len(values):
        return totals
    mantissa, exponent = np.frexp(values)
    whole = (mantissa * 2.0 ** 53).astype(np.int64)          # values == whole * 2**(exponent-53)
    high = whole >> HALF                                     # split so 2**26-size pieces add
    low = whole - (high << HALF)                             # up in int64 without overflow
    shift = exponent.astype(np.int64) - 53 + UNIT_EXPONENT
    sums = pd.DataFrame({"g": codes, "s": shift, "h": high, "l": low}).groupby(["g", "s"]).sum()
    for (group, bits), (h, l) in zip(sums.index.tolist(), sums.to_numpy().tolist()):
        units = (int(h) << HALF) + int(l)
        totals[group] += units << bits if bits >= 0 else units >> -bits
    return totals


PARTIAL_FIELDS = ["bookings", "expected_cancellations", "high_risk_bookings", "revenue_at_risk"]


def add_partials(totals: dict[str, list[int]], bookings: pd.DataFrame) -> None:
    """Add one scored part's per-segment count, exact sums and high-risk count to `totals`."""
    if not len(bookings):
        return
    codes, segments = pd.factorize(bookings["market_segment"], sort=False)
    if (codes < 0).any():  # no segment: groupby leaves such rows out of the summary
        bookings, codes = bookings[codes >= 0], codes[codes >= 0]
    groups = len(segments)
    count = np.bincount(codes, minlength=groups)
    high = pd.Series(bookings["high_risk"].to_numpy()).groupby(codes).sum().reindex(range(groups), fill_value=0)
    expected = exact_sums(bookings["cancel_probability"].to_numpy(dtype="float64"), codes, groups)
    revenue = exact_sums(bookings["revenue_at_risk"].to_numpy(dtype="float64", na_value=np.nan), codes, groups)
    for g, segment in enumerate(segments):
        row = totals.setdefault(str(segment), [0, 0, 0, 0])
        for i, value in enumerate((int(count[g]), expected[g], int(high.iloc[g]), revenue[g])):
            row[i] += value


def partials_json(totals: dict[str, list[int]], current: str, hosts: list[str]) -> str:
    segments = {seg: dict(zip(PARTIAL_FIELDS, [row[0], str(row[1]), row[2], str(row[3])]))
                for seg, row in sorted(totals.items())}
    return json.dumps({"host": current, "hosts": hosts, "unit": f"2**-{UNIT_EXPONENT}",
                       "segments": segments}) + "\n"


def read_partials(input_dir: Path) -> dict[str, list[int]]:
    """Every partials/*.json under input_dir, added up; refuses a set that misses a host."""
    if not input_dir.is_dir():
        raise StepError(f"input directory {input_dir} does not exist; "
                        "check the ProcessingInput LocalPath or --input-dir")
    files = sorted(p for p in input_dir.rglob("*.json")
                   if not any(part.startswith(".") for part in p.relative_to(input_dir).parts))
    if not files:
        raise StepError(f"no partial sums (*.json) in {input_dir}; the input must be the "
                        "postprocessing step's partials/ output")
    totals: dict[str, list[int]] = {}
    reported: set[str] = set()
    expected: set[str] = set()
    for path in files:
        try:
            partial = json.loads(path.read_text())
            host, hosts, segments = str(partial["host"]), [str(h) for h in partial["hosts"]], partial["segments"]
            rows = {str(seg): [int(v[f]) for f in PARTIAL_FIELDS] for seg, v in segments.items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StepError(f"{path.name}: not a partial-sums file ({type(exc).__name__}: {exc}); "
                            "the input must be the postprocessing step's partials/ output") from None
        if host in reported:
            raise StepError(f"{path.name}: host {host} reported twice; keep one partials file per host")
        reported.add(host)
        expected.update(hosts)
        for seg, row in rows.items():
            total = totals.setdefault(seg, [0, 0, 0, 0])
            for i, value in enumerate(row):
                total[i] += value
    if reported != expected:
        missing = ", ".join(sorted(expected - reported)) or "none"
        raise StepError(f"partial sums missing for host(s) {missing} in {input_dir} "
                        f"(found {', '.join(sorted(reported))}); every postprocessing instance "
                        "must have finished")
    return totals


def summary_from_partials(totals: dict[str, list[int]]) -> pd.DataFrame:
    """The legacy segment summary from exact totals: what `segment_summary` gives the whole table."""
    segments = sorted(totals)
    rows = [totals[s] for s in segments]
    unit = 2 ** UNIT_EXPONENT
    bookings = np.array([r[0] for r in rows], dtype="int64")
    expected = np.array([float(Fraction(r[1], unit)) for r in rows], dtype="float64")
    high = np.array([r[2] for r in rows], dtype="int64")
    revenue = np.array([float(Fraction(r[3], unit)) for r in rows], dtype="float64")
    summary = pd.DataFrame({
        "bookings": bookings, "expected_cancellations": expected,
        "mean_probability": expected / bookings, "high_risk_bookings": high,
        "revenue_at_risk": revenue,
    }, index=pd.Index(segments, name="market_segment"))
    summary["high_risk_share"] = summary["high_risk_bookings"] / summary["bookings"]
    return summary.round(SUMMARY_ROUNDING)


# --- the result file: pandas' to_csv bytes, faster -----------------------------------------------

CSV_SPECIAL = r'[,"\n]'


def cell_texts(values: pd.Series) -> pa.Array | None:
    """One column as the cells `to_csv` writes, or None for a dtype this writer does not handle.

    Numbers are formatted as pandas formats them (`ndarray.astype(str)`: decimal ints, numpy's
    shortest round-trip repr for floats), missing values are empty, and text is quoted only when it
    holds a comma, a quote or a newline, with quotes doubled (the csv module's QUOTE_MINIMAL). A
    column with few distinct values (categories, day numbers) is formatted once per distinct value.
    """
    kind = values.dtype.kind
    if kind in "iu" and values.dtype.itemsize == 8:
        return pc.cast(pa.array(values.to_numpy()), pa.string())  # same digits as numpy's
    if kind in "iu":
        return pa.array(values.to_numpy().astype(str))
    if kind == "f" and values.dtype.itemsize == 8:
        array = values.to_numpy()
        codes, uniques = pd.factorize(array.view(np.int64))  # by bits: -0.0 is not 0.0
        if len(uniques) * 4 <= len(array):
            return float_texts(np.asarray(uniques).view(np.float64)).take(pa.array(codes))
        return float_texts(array)
    if kind != "O":
        return None
    if isinstance(values.dtype, pd.StringDtype):
        text = pa.array(values.array)
    elif pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        text = pa.array(values.to_numpy(), type=pa.string(), from_pandas=True)
    else:
        return None
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    if text.type != pa.string():
        text = text.cast(pa.string())
    encoded = pc.dictionary_encode(text)
    if len(encoded.dictionary) * 4 <= len(text):
        cells = text_cells(encoded.dictionary)
        return None if cells is None else pc.fill_null(cells.take(encoded.indices), "")
    return text_cells(text)


def text_cells(text: pa.Array) -> pa.Array | None:
    """Text as CSV cells (QUOTE_MINIMAL; missing is empty), or None when it holds a "\r"."""
    if pc.any(pc.match_substring(text, "\r")).as_py():
        return None  # whether "\r" is quoted depends on the Python version: ask pandas
    special = pc.fill_null(pc.match_substring_regex(text, CSV_SPECIAL), False)
    quoted = pc.binary_join_element_wise("\"", pc.replace_substring(text, "\"", "\"\""), "\"", "")
    return pc.fill_null(pc.if_else(special, quoted, text), "")


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


def result_csv_bytes(df: pd.DataFrame, header: bool = True, chunk_rows: int = 200_000) -> list | None:
    """The bytes `df.to_csv(index=False, header=header)` writes, as pieces to write in order, or
    None when this writer does not handle the frame (a dtype or header it does not format)."""
    names = [str(c) for c in df.columns]
    if not names or any(re.search(CSV_SPECIAL, n) or "\r" in n or n == "" for n in names):
        return None
    pieces: list = [(",".join(names) + "\n").encode()] if header else []
    for start in range(0, len(df), chunk_rows):
        part = df.iloc[start:start + chunk_rows]
        cells = [cell_texts(part[c]) for c in part.columns]
        if any(c is None for c in cells):
            return None
        lines = pc.binary_join_element_wise(*cells, ",") if len(cells) > 1 else cells[0]
        lines = pc.binary_join_element_wise(lines, "", "\n")
        pieces.append(string_bytes(lines))
    return pieces


def append_result_csv(df: pd.DataFrame, out, header: bool = True,
                      chunk_rows: int = 200_000) -> None:
    """Append `df.to_csv(index=False, header=header)`'s bytes to the binary file `out`."""
    pieces = result_csv_bytes(df, header, chunk_rows)
    if pieces is None:
        out.write(df.to_csv(index=False, header=header, lineterminator="\n").encode())
        return
    for piece in pieces:
        out.write(piece)


def write_result_csv(df: pd.DataFrame, path: Path, chunk_rows: int = 200_000) -> None:
    """`df.to_csv(path, index=False)`, byte for byte (the unit and parity tests hold it to that).

    Falls back to pandas itself for a frame with a column of another dtype (bool, dates, mixed
    objects) or a header that needs quoting.
    """
    with open(path, "wb") as out:
        append_result_csv(df, out, True, chunk_rows)


def string_bytes(strings: pa.Array) -> memoryview:
    """The characters of a string array, back to back, without copying them."""
    strings = pa.concat_arrays([strings]) if strings.offset else strings
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int32, count=len(strings) + 1)
    return memoryview(strings.buffers()[2])[offsets[0]:offsets[-1]]


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
    parser.add_argument("--schema-dir", type=Path, default=Path(DEFAULT_SCHEMA_DIR),
                        help="the preprocessing step's schema/ files (default: the Processing "
                             "input path; absent = this instance's own parts, one host only)")
    parser.add_argument("--summarize", action="store_true",
                        help="combine the partials/*.json under --input-dir into segment_summary.csv")
    parser.add_argument("--low-risk", type=float, default=LOW_RISK)
    parser.add_argument("--high-risk", type=float, default=HIGH_RISK)
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    parser.add_argument("--resource-config", type=Path, default=Path(DEFAULT_RESOURCE_CONFIG),
                        help="this instance's host and all hosts (default: SageMaker's file; "
                             "absent = one host)")
    parser.add_argument("--failure-message-file", default=None,
                        help=f"default: ${MESSAGE_FILE_ENV} or {DEFAULT_MESSAGE_FILE}")
    return parser.parse_args(argv)


def result_name(relative: str) -> str:
    """The published file of one part when there are several hosts."""
    stem = relative[: -len(".parquet")] if relative.lower().endswith(".parquet") else relative
    stem = stem if stem.lower().endswith(".csv") else stem + ".csv"
    return f"{RESULTS_DIR}/{PREDICTIONS_FILE}.parts/{stem}"


def table_dtypes(files: list[Path], relatives: list[str], schema_dir: Path,
                 hosts: list[str]) -> tuple[dict[str, str], str | None]:
    """(each column's dtype in the whole table, the globally first part's relative path)."""
    schema = read_schemas(schema_dir)
    if schema is None:
        if len(hosts) > 1:
            raise StepError(f"schema directory {schema_dir} does not exist; with {len(hosts)} hosts "
                            "each instance needs every host's schema file: pass --schema-dir the "
                            "preprocessing step's schema/ output (FullyReplicated)")
        dtypes: dict[str, list[str]] = {}
        for path in files:
            for col, names in part_dtypes(path).items():
                dtypes.setdefault(col, []).extend(names)
        first = relatives[0] if relatives else None
    else:
        parts, dtypes = schema
        listed = set(parts)
        unknown = [r for r in relatives if r.lower().endswith(".parquet") and r not in listed]
        if unknown:
            raise StepError(f"part {unknown[0]} is not listed by any schema file in {schema_dir}; "
                            "the data and --schema-dir must come from the same run")
        if len(hosts) == 1 and (absent := sorted(listed - set(relatives))):
            raise StepError(f"part {absent[0]} listed in {schema_dir} is not in the input; "
                            "the predict step must have scored every part")
        first = parts[0] if parts else (relatives[0] if relatives else None)
    return {col: common_dtype(names) for col, names in dtypes.items()}, first


def score_part(path: Path, dtypes: dict[str, str], low: float, high: float,
               threshold: float) -> pd.DataFrame:
    return score_bookings(cast_to(read_part(path, REQUIRED_COLS), dtypes), low, high, threshold)


def run(input_dir: Path, output_dir: Path, low: float = LOW_RISK, high: float = HIGH_RISK,
        threshold: float = THRESHOLD, schema_dir: Path | None = None,
        resource_config: Path | None = None) -> int:
    """Score this instance's parts into results/ and partials/<host>.json; returns the bookings."""
    check_thresholds(low, high, threshold)
    current, hosts = read_hosts(Path(resource_config or DEFAULT_RESOURCE_CONFIG))
    files = step_files(input_dir, len(hosts))
    relatives = [p.relative_to(input_dir).as_posix() for p in files]
    dtypes, first = table_dtypes(files, relatives, Path(schema_dir or DEFAULT_SCHEMA_DIR), hosts)
    staged = StagedOutput(output_dir)
    totals: dict[str, list[int]] = {}
    rows = 0
    try:
        if len(hosts) == 1:
            with open(staged.path(f"{RESULTS_DIR}/{PREDICTIONS_FILE}"), "wb") as out:
                for index, path in enumerate(files):
                    bookings = score_part(path, dtypes, low, high, threshold)
                    append_result_csv(bookings, out, header=index == 0)
                    add_partials(totals, bookings)
                    rows += len(bookings)
        else:
            for path, relative in zip(files, relatives):
                bookings = score_part(path, dtypes, low, high, threshold)
                with open(staged.path(result_name(relative)), "wb") as out:
                    append_result_csv(bookings, out, header=relative == first)
                add_partials(totals, bookings)
                rows += len(bookings)
        staged.path(f"{PARTIALS_DIR}/{current}.json").write_text(partials_json(totals, current, hosts))
        staged.commit()
    except BaseException:
        staged.discard()
        raise
    return rows


def summarize(input_dir: Path, output_dir: Path) -> int:
    """segment_summary.csv from every host's partial sums; returns the bookings counted."""
    totals = read_partials(input_dir)
    summary = summary_from_partials(totals)
    staged = StagedOutput(output_dir)
    try:
        summary.to_csv(staged.path(SUMMARY_FILE))
        staged.commit()
    except BaseException:
        staged.discard()
        raise
    return int(summary["bookings"].sum())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.summarize:
            rows = summarize(args.input_dir, args.output_dir)
        else:
            rows = run(args.input_dir, args.output_dir, args.low_risk, args.high_risk, args.threshold,
                       args.schema_dir, args.resource_config)
    except StepError as exc:
        report_failure(str(exc), *message_file(args.failure_message_file))
        return 1
    except Exception as exc:
        report_failure(f"unexpected {type(exc).__name__}: {exc}", *message_file(args.failure_message_file))
        raise
    print(f"{STEP}: {'summarized' if args.summarize else 'wrote'} {rows} bookings to {args.output_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
