"""Byte parity with the legacy program when the three steps run in chunks on 1, 2 and 3 hosts.

Each step runs as SageMaker runs it (a subprocess, its own resourceconfig.json per instance).
Between steps, the instances' outputs are gathered as SageMaker publishes them under one S3
prefix, and the next step's instances get their inputs as the pipeline gives them: the raw CSV
FullyReplicated to every preprocessing instance, the Parquet parts ShardedByS3Key (sorted keys
dealt round-robin) to predict and postprocessing, the schema files FullyReplicated. Then
`--summarize` combines the partial sums, and the result parts are concatenated in key order."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from smlift.parity import find_project, run_legacy

ROOT = Path(__file__).resolve().parents[2]
PREPROCESSING = ROOT / "scripts" / "preprocessing.py"
PREDICT = ROOT / "containers" / "inference" / "predict.py"
POSTPROCESSING = ROOT / "scripts" / "postprocessing.py"
EXAMPLE = ROOT / "examples" / "data" / "bookings.csv"

pytestmark = pytest.mark.slow


def step(script: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SM_OUTPUT_MESSAGE"}
    done = subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr


def files(folder: Path, suffix: str) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob(f"*{suffix}") if p.is_file())


def gather(source: Path, target: Path) -> None:
    """One instance's outputs published under the job's prefix (each under its own keys); an
    instance that had nothing to write publishes nothing."""
    if source.exists():
        shutil.copytree(source, target, dirs_exist_ok=True)


def shard(folder: Path, names: list[str], index: int, count: int, target: Path) -> Path:
    """ShardedByS3Key: instance `index` of `count` gets every count-th object of the sorted keys."""
    target.mkdir(parents=True)
    for name in names[index::count]:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / name, target / name)
    return target


def run_pipeline(data: Path, work: Path, hosts: int, chunk_rows: int) -> Path:
    """The three steps and the summary on `hosts` instances; returns the published result folder
    with predictions.csv (the parts concatenated in key order) and segment_summary.csv."""
    names = [f"algo-{i + 1}" for i in range(hosts)]
    configs = {}
    for host in names:
        configs[host] = work / "config" / f"{host}.json"
        configs[host].parent.mkdir(parents=True, exist_ok=True)
        configs[host].write_text(json.dumps({"current_host": host, "hosts": names}))
    raw = work / "raw"
    raw.mkdir()
    shutil.copyfile(data, raw / "bookings.csv")
    preprocessed, predictions, result, partials = (work / n for n in
                                                   ("preprocessed", "predictions", "result", "partials"))
    for host in names:
        out = work / "pre" / host
        step(PREPROCESSING, "--input-dir", raw, "--output-dir", out, "--chunk-rows", chunk_rows,
             "--resource-config", configs[host])
        gather(out, preprocessed)
    parts = files(preprocessed / "parts", ".parquet")
    for i, host in enumerate(names):
        mine = shard(preprocessed / "parts", parts, i, hosts, work / "predict-in" / host)
        out = work / "predict" / host
        step(PREDICT, "--input-dir", mine, "--output-dir", out, "--resource-config", configs[host])
        gather(out, predictions)
    scored = files(predictions, ".parquet")
    assert scored == parts
    for i, host in enumerate(names):
        mine = shard(predictions, scored, i, hosts, work / "post-in" / host)
        out = work / "post" / host
        step(POSTPROCESSING, "--input-dir", mine, "--output-dir", out, "--schema-dir",
             preprocessed / "schema", "--resource-config", configs[host])
        gather(out / "results", result)
        gather(out / "partials", partials)
    step(POSTPROCESSING, "--summarize", "--input-dir", partials, "--output-dir", result)
    if hosts > 1:
        folder = result / "predictions.csv.parts"
        pieces = files(folder, ".csv")
        assert len(pieces) == len(parts)
        (result / "predictions.csv").write_bytes(b"".join((folder / p).read_bytes() for p in pieces))
    return result


@pytest.fixture(scope="module")
def legacy_example(tmp_path_factory) -> Path:
    return run_legacy(EXAMPLE, tmp_path_factory.mktemp("legacy"), find_project(ROOT))


def assert_same_bytes(legacy: Path, migrated: Path) -> None:
    for name in ("predictions.csv", "segment_summary.csv"):
        assert (migrated / name).read_bytes() == (legacy / name).read_bytes(), name


@pytest.mark.parametrize("hosts,chunk_rows", [(1, 304), (2, 304), (3, 248), (2, 2000)],
                         ids=["1-host-7-chunks", "2-hosts", "3-hosts", "2-hosts-one-chunk"])
def test_parts_on_every_host_count_give_the_legacy_bytes(hosts, chunk_rows, legacy_example, tmp_path):
    result = run_pipeline(EXAMPLE, tmp_path, hosts, chunk_rows)
    assert_same_bytes(legacy_example, result)


@pytest.fixture(scope="module")
def typed_by_chunk(tmp_path_factory) -> Path:
    """The example, tidied in its first 608 rows so that those chunks read as ints: whole-number
    prices, a valid month and date on every row, numeric children; the dirt stays in the rest,
    and a non-numeric 'children' and an unknown month only in the last chunk."""
    frame = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    head = frame.index < 608
    frame.loc[head, "adr"] = "100"
    frame.loc[head, "arrival_date_month"] = "July"
    frame.loc[head, "arrival_date_year"] = "2016"
    frame.loc[head, "arrival_date_day_of_month"] = "14"
    for col in ("children", "babies", "adults", "stays_in_weekend_nights", "stays_in_week_nights"):
        frame.loc[head, col] = "1"
    frame.loc[frame.index[-1], "children"] = "unknown"
    frame.loc[frame.index[-2], "arrival_date_month"] = "Juli"
    path = tmp_path_factory.mktemp("typed") / "bookings.csv"
    frame.to_csv(path, index=False)
    return path


def test_a_column_int_in_some_chunks_and_float_in_others_gives_the_legacy_bytes(typed_by_chunk, tmp_path):
    legacy = run_legacy(typed_by_chunk, tmp_path / "legacy", find_project(ROOT))
    for hosts in (1, 2):
        result = run_pipeline(typed_by_chunk, tmp_path / f"hosts-{hosts}", hosts, 304)
        assert_same_bytes(legacy, result)
    schemas = [json.loads(p.read_text()) for p in (tmp_path / "hosts-2" / "preprocessed" / "schema").glob("*.json")]
    seen = {col: {t for s in schemas for t in s["dtypes"].get(col, [])} for col in ("adr", "arrival_month_num")}
    assert all(len(types) == 2 for types in seen.values()), seen  # the data did split the dtypes


def test_more_hosts_than_chunks_leaves_some_hosts_idle_and_still_matches(legacy_example, tmp_path):
    result = run_pipeline(EXAMPLE, tmp_path, 3, 1600)  # 2 chunks: algo-3 has nothing to do
    assert json.loads((tmp_path / "pre" / "algo-3" / "schema" / "algo-3.json").read_text())["parts"] == []
    assert_same_bytes(legacy_example, result)
