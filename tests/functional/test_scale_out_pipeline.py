"""The pipeline of docs/pipeline.md at instance_count 2, end to end (`smlift run --parity`), on
smlift's runner and on Docker: chunks that split the rows unevenly over the two instances, the
published result in parts, byte parity with the legacy program, Summarize on one instance, and
each job's peak memory recorded per instance."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from smlift.local.s3 import LocalS3
from smlift.processing.service import LocalProcessing

REPO = Path(__file__).resolve().parents[2]
CHUNK = 248  # a multiple of 8; the 2,000 example rows make 9 chunks, 5 on algo-1, 4 on algo-2

pytestmark = pytest.mark.slow


def scaled_files(tmp_path: Path) -> tuple[Path, Path]:
    """The repository's definition with Preprocess in small chunks, and the local input at
    instance_count 2."""
    definition = json.loads((REPO / "statemachine/definition.asl.json").read_text())
    entry = definition["States"]["Preprocess"]["Arguments"]["AppSpecification"]
    entry["ContainerEntrypoint"] = [*entry["ContainerEntrypoint"], "--chunk-rows", str(CHUNK)]
    run_input = {**json.loads((REPO / "examples/input.local.json").read_text()),
                 "instance_count": 2}
    (tmp_path / "definition.json").write_text(json.dumps(definition))
    (tmp_path / "input.json").write_text(json.dumps(run_input))
    return tmp_path / "definition.json", tmp_path / "input.json"


def run_scaled(tmp_path: Path, engine: str, name: str) -> tuple[subprocess.CompletedProcess, Path]:
    definition, run_input = scaled_files(tmp_path)
    home = tmp_path / "home"
    env = {**os.environ, "SMLIFT_HOME": str(home)}
    done = subprocess.run([sys.executable, "-m", "smlift", "run", "--engine", engine, "--parity",
                           "--definition", str(definition), "--input", str(run_input),
                           "--name", name], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=1500)
    return done, home


def check_scaled_run(done: subprocess.CompletedProcess, home: Path, name: str,
                     sampled_from_outside: bool = False) -> None:
    """`sampled_from_outside`: on Docker a container that ends within a sample or two of
    starting may have no peak recorded (docs/local.md); Predict, which loads the model, has."""
    assert done.returncode == 0, done.stderr[-3000:]
    assert "parity with the legacy program: 2008 of 2008 rows identical" in done.stdout
    keys = [key.removeprefix(f"s3://smlift-local/output/{name}/")
            for key in LocalS3(home).list_keys(f"s3://smlift-local/output/{name}/")]
    parts = [k for k in keys if k.startswith("result/predictions.csv.parts/")]
    assert parts == [f"result/predictions.csv.parts/bookings.csv/part-{i:06d}.csv"
                     for i in range(9)]
    assert "result/segment_summary.csv" in keys and "result/predictions.csv" not in keys
    assert [k for k in keys if k.startswith(("partials/", "preprocessed/schema/"))] == [
        "partials/algo-1.json", "partials/algo-2.json",
        "preprocessed/schema/algo-1.json", "preprocessed/schema/algo-2.json"]
    jobs = LocalProcessing(home)
    peaks = {}
    for summary in jobs.list_processing_jobs()["ProcessingJobSummaries"]:
        described = jobs.job_description(summary["ProcessingJobName"])
        step = summary["ProcessingJobName"].split("-")[1]
        peaks[step] = described["SmliftLocal"].get("PeakMemoryBytes", {})
    expected = {"preprocess": ["algo-1", "algo-2"], "predict": ["algo-1", "algo-2"],
                "postprocess": ["algo-1", "algo-2"], "summarize": ["algo-1"]}
    if sampled_from_outside:
        assert all(set(peaks[step]) <= set(hosts) for step, hosts in expected.items())
        assert sorted(peaks["predict"]) == expected["predict"]
    else:
        assert {step: sorted(p) for step, p in peaks.items()} == expected
    assert all(0 < value < 2**30 for p in peaks.values() for value in p.values())


def test_instance_count_2_on_smlifts_runner(tmp_path, local_engine):
    done, home = run_scaled(tmp_path, "local", "scaled-local")
    check_scaled_run(done, home, "scaled-local")
    # one instance publishes predictions.csv itself; --baseline reads the parts as that file
    env = {**os.environ, "SMLIFT_HOME": str(home)}
    single = subprocess.run([sys.executable, "-m", "smlift", "run", "--engine", "local",
                             "--name", "single"], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=1500)
    assert single.returncode == 0, single.stderr[-3000:]
    assert LocalS3(home).exists("s3://smlift-local/output/single/result/predictions.csv")
    compared = subprocess.run([sys.executable, "-m", "smlift", "parity", "--baseline",
                               "scaled-local", "--execution", "single"], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=600)
    assert compared.returncode == 0, compared.stdout + compared.stderr
    assert "parity with the baseline: 2008 of 2008 rows identical across 2 files" in compared.stdout
    assert "intermediate output changed: partials/algo-2.json" in compared.stdout


def test_instance_count_2_on_docker(tmp_path, docker_engine):
    done, home = run_scaled(tmp_path, "docker", "scaled-docker")
    check_scaled_run(done, home, "scaled-docker", sampled_from_outside=True)
