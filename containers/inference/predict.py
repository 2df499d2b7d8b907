"""Predict step: load the model baked into this image and add each booking's cancel probability.

Lifted from legacy_src/predict.py (the `pickle.load` + `predict_proba` lines). Runs in the custom
image built from this folder (WORKDIR /opt/program, the model next to this file).

SageMaker Processing contract:

    python3 /opt/program/predict.py [--input-dir /opt/ml/processing/input/data]
                                    [--output-dir /opt/ml/processing/output]
                                    [--model /opt/program/model.pkl]
                                    [--resource-config /opt/ml/config/resourceconfig.json]
                                    [--failure-message-file /opt/ml/output/message]

SageMaker hosting runs the same image as `docker run IMAGE serve`: `predict.py serve` starts the
HTTP server of serve.py instead (GET /ping, POST /invocations on port 8080).

Every Parquet part under the input directory (the preprocessing step's `parts/`, sorted by
relative path) becomes a Parquet file of the same relative path under the output directory: the
input columns, as they were, plus `cancel_probability`, one part at a time (a part is one chunk,
so memory stays bounded whatever the rows). A CSV input becomes a CSV output, as before. With
several instances (/opt/ml/config/resourceconfig.json, or --resource-config) each scores the parts
SageMaker gave it (ShardedByS3Key); an instance given none writes nothing. Outputs are renamed
into place only when every file succeeded.
Bad input or a missing/corrupt model exits 1 with a one-line reason on stderr and in the failure
message file (SageMaker's ExitMessage).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

STEP = "predict"
DEFAULT_INPUT_DIR = "/opt/ml/processing/input/data"
DEFAULT_OUTPUT_DIR = "/opt/ml/processing/output"
DEFAULT_MODEL = Path(__file__).resolve().parent / "model.pkl"
DEFAULT_MESSAGE_FILE = "/opt/ml/output/message"
DEFAULT_RESOURCE_CONFIG = "/opt/ml/config/resourceconfig.json"
MESSAGE_FILE_ENV = "SM_OUTPUT_MESSAGE"
PROBABILITY_COL = "cancel_probability"


# pandas 3 parses floats exactly and deprecates the option; pandas 2 (the SageMaker image) needs it
EXACT_FLOATS = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}


class StepError(Exception):
    """Bad input: reported as one line on stderr and in the failure message file."""


# --- the model ---------------------------------------------------------------------------------

def load_model(path: Path):
    """Unpickle the scikit-learn pipeline written by legacy_src/train.py (`make model`)."""
    if not path.is_file():
        raise StepError(f"model file {path} not found; bake it into the image with `make model` "
                        "or pass --model")
    try:
        with open(path, "rb") as f:
            model = pickle.load(f)
    except Exception as exc:  # a truncated or foreign file fails in many ways
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise StepError(f"cannot load model {path} ({type(exc).__name__}: {reason}); "
                        "rebuild it with `make model`") from None
    if not hasattr(model, "predict_proba") or not hasattr(model, "feature_names_in_"):
        raise StepError(f"model {path} is not a fitted scikit-learn classifier pipeline; "
                        "rebuild it with `make model`")
    return model


def model_features(model) -> list[str]:
    return [str(name) for name in model.feature_names_in_]


def predict_probability(features: pd.DataFrame, model) -> np.ndarray:
    """The probability of cancellation for each row (the legacy `predict_proba(...)[:, 1]`)."""
    if not len(features):
        return np.empty(0, dtype="float64")
    return model.predict_proba(features[model_features(model)])[:, 1]


def add_probability(features: pd.DataFrame, probability: np.ndarray) -> pd.DataFrame:
    """The input rows, unchanged, plus the probability column."""
    scored = features.copy()
    scored[PROBABILITY_COL] = probability
    return scored


def append_column(source: Path, target: Path, name: str, values: np.ndarray) -> bool:
    """Copy `source` to `target` with one more column at the end, without re-formatting the rest.

    The input columns pass through byte for byte (and re-writing ~30 columns of a million rows is
    most of this step's time otherwise). Only possible when the file has one record per line and
    does not already have the column; returns False otherwise, and the caller writes with pandas.
    """
    data = source.read_bytes()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if b"\r" in data or len(lines) != len(values) + 1 or name.encode() in lines[0]:
        return False
    texts = [repr(v).encode() for v in values.tolist()]
    with open(target, "wb") as out:
        out.write(lines[0] + b"," + name.encode() + b"\n")
        out.writelines(line + b"," + text + b"\n" for line, text in zip(lines[1:], texts))
    return True


def check_columns(df: pd.DataFrame, required: list[str], source: str) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise StepError(f"{source}: missing required column(s) {', '.join(missing)}; "
                        "the input must be the preprocessing step's output")


# --- files -------------------------------------------------------------------------------------

STEP_SUFFIXES = (".csv", ".parquet")


def step_files(input_dir: Path, hosts: int = 1) -> list[Path]:
    """Every *.csv and *.parquet under input_dir (hidden files and folders skipped), sorted by
    relative path. With several hosts an instance may be given no file at all: that is no error."""
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


def read_parquet_columns(path: Path, required: list[str]):
    """A Parquet part as an Arrow table, after checking it has the `required` columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    try:
        check_columns(pd.DataFrame(columns=pq.read_schema(path).names), required, path.name)
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise StepError(f"{path.name}: not a readable Parquet file ({reason})") from None


def plain_text(features: pd.DataFrame) -> pd.DataFrame:
    """Text columns as numpy object arrays: the same strings, which scikit-learn's encoders take
    about twice as fast as pandas' Arrow-backed `str` columns (pandas 3 reads Parquet text so)."""
    text = [c for c in features.columns if isinstance(features[c].dtype, pd.StringDtype)]
    return features.astype({c: object for c in text}) if text else features


def score_parquet(source: Path, target: Path, model) -> int:
    """One part: its columns unchanged, plus the probability, written as Parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    features = model_features(model)
    table = read_parquet_columns(source, required=features)
    probability = predict_probability(plain_text(table.select(features).to_pandas()), model)
    column = pa.array(probability, type=pa.float64())
    if PROBABILITY_COL in table.column_names:
        table = table.set_column(table.column_names.index(PROBABILITY_COL), PROBABILITY_COL, column)
    else:
        table = table.append_column(PROBABILITY_COL, column)
    pq.write_table(table, target)
    return len(probability)


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


def write_csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False)


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
    parser = argparse.ArgumentParser(prog="predict.py", description=__doc__.splitlines()[0])
    parser.add_argument("--input-dir", type=Path, default=Path(DEFAULT_INPUT_DIR))
    parser.add_argument("--output-dir", type=Path, default=Path(DEFAULT_OUTPUT_DIR))
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--resource-config", type=Path, default=Path(DEFAULT_RESOURCE_CONFIG),
                        help="this instance's host and all hosts (default: SageMaker's file; "
                             "absent = one host)")
    parser.add_argument("--failure-message-file", default=None,
                        help=f"default: ${MESSAGE_FILE_ENV} or {DEFAULT_MESSAGE_FILE}")
    return parser.parse_args(argv)


def run(input_dir: Path, output_dir: Path, model_path: Path, resource_config: Path | None = None) -> int:
    """Score every input part (Parquet in, Parquet out; CSV in, CSV out); returns the rows written."""
    _, hosts = read_hosts(Path(resource_config or DEFAULT_RESOURCE_CONFIG))
    files = step_files(input_dir, len(hosts))
    model = load_model(model_path)
    staged = StagedOutput(output_dir)
    rows = 0
    try:
        for path in files:
            target = staged.path(path.relative_to(input_dir).as_posix())
            if path.suffix.lower() == ".parquet":
                rows += score_parquet(path, target, model)
                continue
            probability = predict_probability(read_step_csv(path, model_features(model)), model)
            if not append_column(path, target, PROBABILITY_COL, probability):
                write_csv(add_probability(read_step_csv(path), probability), target)
            rows += len(probability)
        staged.commit()
    except BaseException:
        staged.discard()
        raise
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        rows = run(args.input_dir, args.output_dir, args.model, args.resource_config)
    except StepError as exc:
        report_failure(str(exc), *message_file(args.failure_message_file))
        return 1
    except Exception as exc:
        report_failure(f"unexpected {type(exc).__name__}: {exc}", *message_file(args.failure_message_file))
        raise
    print(f"{STEP}: wrote {rows} rows to {args.output_dir}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:  # SageMaker hosting: `docker run IMAGE serve` (serve.py)
        from serve import main as serve
        sys.exit(serve(sys.argv[2:]))
    sys.exit(main())
