"""Each step, run as SageMaker runs it (a subprocess with input/output folders), refuses bad input:
exit 1, one line on stderr and in the failure message file, and no output files at all."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
PREPROCESSING = ROOT / "scripts" / "preprocessing.py"
PREDICT = ROOT / "containers" / "inference" / "predict.py"
POSTPROCESSING = ROOT / "scripts" / "postprocessing.py"
MODEL = ROOT / "containers" / "inference" / "model.pkl"
EXAMPLE = ROOT / "examples" / "data" / "bookings.csv"
STEPS = {"preprocessing": PREPROCESSING, "predict": PREDICT, "postprocessing": POSTPROCESSING}

pytestmark = pytest.mark.slow


def run_step(script: Path, input_dir: Path, output_dir: Path, *extra: str, message: Path | None = None):
    env = dict(os.environ)
    env.pop("SM_OUTPUT_MESSAGE", None)
    if message is not None:
        env["SM_OUTPUT_MESSAGE"] = str(message)
    return subprocess.run([sys.executable, str(script), "--input-dir", str(input_dir),
                           "--output-dir", str(output_dir), *extra],
                          capture_output=True, text=True, env=env, timeout=300)


def files_in(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) if folder.exists() else []


def assert_refused(done, message: Path, output_dir: Path, *words: str) -> str:
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for word in words:
        assert word in lines[0]
    assert message.read_text() == lines[0] + "\n"
    assert files_in(output_dir) == []
    return lines[0]


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    """Real inputs for each step: the raw CSV, and the example's Parquet parts of features and of
    scored rows (chunks of 800 rows: three parts), made once."""
    root = tmp_path_factory.mktemp("upstream")
    (root / "raw").mkdir()
    shutil.copyfile(EXAMPLE, root / "raw" / "bookings.csv")
    assert run_step(PREPROCESSING, root / "raw", root / "features", "--chunk-rows", "800").returncode == 0
    assert run_step(PREDICT, root / "features" / "parts", root / "scored", "--model", str(MODEL)).returncode == 0
    return {"preprocessing": root / "raw", "predict": root / "features" / "parts",
            "postprocessing": root / "scored"}


def first_input(folder: Path) -> Path:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".csv", ".parquet"))[0]


def write_like(source: Path, target: Path, frame: pd.DataFrame) -> None:
    """`frame` in the format of `source` (CSV or Parquet)."""
    if source.suffix == ".parquet":
        frame.to_parquet(target.with_suffix(".parquet"), index=False)
    else:
        frame.to_csv(target, index=False)


def read_any(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def extra_args(step: str) -> list[str]:
    return ["--model", str(MODEL)] if step == "predict" else []


@pytest.mark.parametrize("step", STEPS)
def test_empty_input_folder_is_refused(step, tmp_path):
    (tmp_path / "in").mkdir()
    done = run_step(STEPS[step], tmp_path / "in", tmp_path / "out", *extra_args(step),
                    message=tmp_path / "message")
    line = assert_refused(done, tmp_path / "message", tmp_path / "out", "no CSV files", str(tmp_path / "in"))
    assert line.startswith(f"{step}: ")


@pytest.mark.parametrize("step,column", [("preprocessing", "adr"), ("predict", "lead_time"),
                                         ("postprocessing", "cancel_probability")])
def test_input_missing_a_required_column_is_refused_by_name(step, column, upstream, tmp_path):
    source = first_input(upstream[step])
    (tmp_path / "in").mkdir()
    write_like(source, tmp_path / "in" / "bookings.csv", read_any(source).drop(columns=[column]).head(20))
    done = run_step(STEPS[step], tmp_path / "in", tmp_path / "out", *extra_args(step),
                    message=tmp_path / "message")
    assert_refused(done, tmp_path / "message", tmp_path / "out", "missing required column", column,
                   "bookings.")


@pytest.mark.parametrize("step", STEPS)
def test_a_bad_file_after_a_good_one_publishes_nothing(step, upstream, tmp_path):
    source = first_input(upstream[step])
    (tmp_path / "in").mkdir()
    shutil.copyfile(source, (tmp_path / "in" / "a").with_suffix(source.suffix))
    write_like(source, tmp_path / "in" / "b.csv", pd.DataFrame({"booking_id": [1], "nothing_else": [2]}))
    done = run_step(STEPS[step], tmp_path / "in", tmp_path / "out", *extra_args(step),
                    message=tmp_path / "message")
    assert_refused(done, tmp_path / "message", tmp_path / "out", "b.", "missing required column")


@pytest.mark.parametrize("step", ["predict", "postprocessing"])
def test_a_corrupt_part_after_good_ones_publishes_nothing(step, upstream, tmp_path):
    shutil.copytree(upstream[step], tmp_path / "in")
    (tmp_path / "in" / "bookings.csv" / "part-000009.parquet").write_bytes(b"PAR1 not really")
    done = run_step(STEPS[step], tmp_path / "in", tmp_path / "out", *extra_args(step),
                    message=tmp_path / "message")
    assert_refused(done, tmp_path / "message", tmp_path / "out", "part-000009.parquet",
                   "not a readable Parquet file")


def test_a_bad_row_in_a_later_chunk_publishes_nothing(tmp_path):
    (tmp_path / "in").mkdir()
    lines = EXAMPLE.read_text().splitlines(keepends=True)
    lines[1500] = lines[1500].rstrip("\n") + ",1,2,3\n"  # too many fields, in chunk 1 of 2
    (tmp_path / "in" / "bookings.csv").write_text("".join(lines))
    done = run_step(PREPROCESSING, tmp_path / "in", tmp_path / "out", "--chunk-rows", "1000",
                    message=tmp_path / "message")
    assert_refused(done, tmp_path / "message", tmp_path / "out", "bookings.csv", "not a readable CSV")


def test_postprocessing_on_several_hosts_without_the_schema_is_refused(upstream, tmp_path):
    (tmp_path / "rc.json").write_text('{"current_host": "algo-1", "hosts": ["algo-1", "algo-2"]}')
    done = run_step(POSTPROCESSING, upstream["postprocessing"], tmp_path / "out",
                    "--resource-config", str(tmp_path / "rc.json"), "--schema-dir", str(tmp_path / "none"),
                    message=tmp_path / "message")
    assert_refused(done, tmp_path / "message", tmp_path / "out", "--schema-dir", "2 hosts")


def test_summarize_without_every_host_is_refused(upstream, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "algo-2.json").write_text(
        '{"host": "algo-2", "hosts": ["algo-1", "algo-2"], "segments": {}}')
    done = run_step(POSTPROCESSING, tmp_path / "in", tmp_path / "out", "--summarize",
                    message=tmp_path / "message")
    assert_refused(done, tmp_path / "message", tmp_path / "out", "algo-1", "missing")


@pytest.mark.parametrize("step", STEPS)
def test_a_zero_byte_csv_is_refused(step, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "bookings.csv").write_bytes(b"")
    done = run_step(STEPS[step], tmp_path / "in", tmp_path / "out", *extra_args(step),
                    message=tmp_path / "message")
    assert_refused(done, tmp_path / "message", tmp_path / "out", "bookings.csv", "empty")


@pytest.mark.parametrize("corrupt", {
    "truncated": lambda: MODEL.read_bytes()[: len(MODEL.read_bytes()) // 2],
    "not a pickle": lambda: b"this is not a model\n" * 10,
    "empty": lambda: b"",
}.items(), ids=lambda item: item[0])
def test_a_corrupt_model_is_refused(corrupt, upstream, tmp_path):
    model = tmp_path / "model.pkl"
    model.write_bytes(corrupt[1]())
    done = run_step(PREDICT, upstream["predict"], tmp_path / "out", "--model", str(model),
                    message=tmp_path / "message")
    assert_refused(done, tmp_path / "message", tmp_path / "out", "cannot load model", str(model),
                   "make model")


def test_a_missing_model_is_refused(upstream, tmp_path):
    done = run_step(PREDICT, upstream["predict"], tmp_path / "out", "--model", str(tmp_path / "nope.pkl"),
                    message=tmp_path / "message")
    assert_refused(done, tmp_path / "message", tmp_path / "out", "not found", "nope.pkl")


def test_the_message_file_argument_wins_over_the_environment(tmp_path):
    (tmp_path / "in").mkdir()
    done = run_step(PREPROCESSING, tmp_path / "in", tmp_path / "out",
                    "--failure-message-file", str(tmp_path / "job" / "output" / "message"),
                    message=tmp_path / "env-message")
    assert done.returncode == 1
    assert "no CSV files" in (tmp_path / "job" / "output" / "message").read_text()
    assert not (tmp_path / "env-message").exists()


def test_good_input_writes_parts_under_the_same_relative_names(tmp_path):
    (tmp_path / "in" / "2024").mkdir(parents=True)
    shutil.copyfile(EXAMPLE, tmp_path / "in" / "2024" / "part-1.csv")
    done = run_step(PREPROCESSING, tmp_path / "in", tmp_path / "out", message=tmp_path / "message")
    assert done.returncode == 0, done.stderr
    assert files_in(tmp_path / "out") == ["parts", "parts/2024", "parts/2024/part-1.csv",
                                          "parts/2024/part-1.csv/part-000000.parquet",
                                          "schema", "schema/algo-1.json"]
    assert not (tmp_path / "message").exists()
