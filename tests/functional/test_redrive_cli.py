"""Redrive through the real CLI (issue 11): a pipeline whose Predict fails, then the fix, then
`smlift run --redrive`; the same after kill -9 during Predict; a Map with failed iterations;
redrives AWS refuses.

Each test has its own SMLIFT_HOME and a copy of containers/inference/ whose predict.py it
breaks, then restores: `run --redrive` rebuilds the changed image, as a push would on AWS.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
BROKEN = 'raise SystemExit("model file is corrupt")\n'
SLOW = "import time\ntime.sleep(120)\n"


def smlift(*args, env, timeout=600):
    return subprocess.run([sys.executable, "-m", "smlift", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def home_env(tmp_path, name: str) -> dict:
    return {**os.environ, "SMLIFT_HOME": str(tmp_path / name), "COLUMNS": "200",
            "SMLIFT_ENGINE": "local"}


@pytest.fixture
def image(tmp_path):
    """A copy of the inference image's folder; `image(body)` replaces its predict.py (None:
    the original)."""
    context = tmp_path / "inference"
    shutil.copytree(ROOT / "containers" / "inference", context)

    def predict(body: str | None = None) -> Path:
        original = (ROOT / "containers" / "inference" / "predict.py").read_text()
        (context / "predict.py").write_text(original if body is None else body)
        return context

    return predict


def jobs(env) -> list[dict]:
    done = smlift("jobs", "list", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["ProcessingJobSummaries"]


def describe(name, env) -> dict:
    done = smlift("status", name, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def result_files(env) -> dict[str, bytes]:
    root = Path(env["SMLIFT_HOME"]) / "s3" / "smlift-local" / "output"
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and "/result/" in p.as_posix()}


@pytest.fixture(scope="module")
def clean_result(tmp_path_factory):
    """What a clean run named `fixme` publishes (the reference, byte for byte)."""
    env = home_env(tmp_path_factory.mktemp("clean"), "home")
    done = smlift("run", "--name", "fixme", env=env)
    assert done.returncode == 0, done.stderr
    return result_files(env)


def preprocess_jobs(env) -> list[str]:
    return [j["ProcessingJobName"] for j in jobs(env) if "preprocess" in j["ProcessingJobName"]]


def test_a_failed_predict_fixed_then_redriven_does_not_preprocess_again(tmp_path, image,
                                                                         clean_result):
    env = home_env(tmp_path, "home")
    failed = smlift("run", "--name", "fixme", "--image-context", str(image(BROKEN)),
                    "--output", "json", env=env)
    assert failed.returncode == 1 and "failed step: Predict" in failed.stderr
    outcome = json.loads(failed.stdout)  # one document; progress stayed on stderr
    assert (outcome["status"], outcome["failedStep"], outcome["resultUri"]) == (
        "FAILED", "Predict", None)
    assert [(s["state"], s["status"]) for s in outcome["steps"]][:2] == [
        ("Preprocess", "SUCCEEDED"), ("Predict", "FAILED")]
    before = preprocess_jobs(env)
    assert len(before) == 1 and result_files(env) == {}
    assert describe("fixme", env)["redriveStatus"] == "REDRIVABLE"

    redriven = smlift("run", "--redrive", "fixme", "--image-context", str(image()), env=env)
    assert redriven.returncode == 0, redriven.stderr
    assert "building image" in redriven.stderr  # the fixed image was rebuilt first
    assert preprocess_jobs(env) == before  # no new preprocess job
    assert result_files(env) == clean_result  # byte for byte
    execution = describe("fixme", env)
    assert (execution["status"], execution["redriveCount"]) == ("SUCCEEDED", 1)
    history = smlift("history", "fixme", env=env).stdout
    assert "ExecutionRedriven" in history and "redrive #1" in history


def test_a_run_killed_during_predict_is_redriven_without_rerunning_preprocess(
        tmp_path, image, clean_result):
    env = home_env(tmp_path, "home")
    process = subprocess.Popen([sys.executable, "-m", "smlift", "run", "--name", "fixme",
                                "--image-context", str(image(SLOW))], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not any("predict" in j["ProcessingJobName"] and
                      j["ProcessingJobStatus"] == "InProgress" for j in jobs(env)):
            assert time.monotonic() < deadline, "Predict never started"
            time.sleep(0.3)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert describe("fixme", env)["processAlive"] is False
    assert result_files(env) == {}  # nothing of the killed Predict was published

    redriven = smlift("run", "--redrive", "fixme", "--image-context", str(image()), env=env)
    assert redriven.returncode == 0, redriven.stderr
    assert len(preprocess_jobs(env)) == 1
    killed = [j for j in jobs(env) if "predict" in j["ProcessingJobName"]
              and j["ProcessingJobStatus"] == "Failed"]
    assert len(killed) == 1  # the orphaned job is recorded Failed, not left InProgress
    assert result_files(env) == clean_result
    events = json.loads(smlift("history", "fixme", "--json", env=env).stdout)
    failed = [e for e in events if e["type"] == "ExecutionFailed"]
    assert failed[0]["executionFailedEventDetails"]["error"] == "States.Runtime"
    assert [e["type"] for e in events].count("ExecutionRedriven") == 1


MAP = {"QueryLanguage": "JSONata", "StartAt": "Each", "States": {"Each": {
    "Type": "Map", "Items": "{% $states.input.items %}", "ItemProcessor": {
        "StartAt": "Work", "States": {"Work": {
            "Type": "Pass", "End": True,  # fails for the bad items, until the first redrive
            "Output": "{% $states.input.bad and $states.context.Execution.RedriveCount = 0 ? "
                      "$error('bad item') : {'id': $states.input.id, "
                      "'redrive': $states.context.Execution.RedriveCount} %}"}}},
    "End": True}}}


def test_a_map_with_failed_iterations_is_redriven_local(tmp_path):
    env = home_env(tmp_path, "home")
    definition = tmp_path / "map.asl.json"
    definition.write_text(json.dumps(MAP))
    items = [{"id": i, "bad": i % 2 == 1} for i in range(4)]
    (tmp_path / "in.json").write_text(json.dumps({"items": items}))
    failed = smlift("execute", "--definition", str(definition), "--name", "m",
                    "--input", str(tmp_path / "in.json"), env=env)
    assert json.loads(failed.stdout)["status"] == "FAILED", failed.stderr
    done = smlift("redrive", "m", "--local", env=env)
    assert done.returncode == 0, done.stderr
    described = json.loads(done.stdout)
    assert described["status"] == "SUCCEEDED" and described["redriveCount"] == 1
    output = json.loads(described["output"])
    assert [o["id"] for o in output] == [0, 1, 2, 3]
    rerun = {o["id"] for o in output if o["redrive"] == 1}
    assert {1, 3} <= rerun and 0 not in rerun  # item 0 succeeded before: not run again


def test_redrive_of_a_succeeded_execution_is_refused_with_aws_error(tmp_path):
    env = home_env(tmp_path, "home")
    definition = tmp_path / "ok.asl.json"
    definition.write_text(json.dumps({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}))
    smlift("execute", "--definition", str(definition), "--name", "ok", env=env)
    refused = smlift("redrive", "ok", "--local", env=env)
    assert refused.returncode == 1
    assert "ExecutionNotRedrivable" in refused.stderr
    assert "Execution is SUCCEEDED and cannot be redriven." in refused.stderr
    unknown = smlift("redrive", "nope", "--local", env=env)
    assert unknown.returncode == 1 and "ExecutionDoesNotExist" in unknown.stderr


def test_redrive_past_the_14_day_window_is_refused_with_aws_error(tmp_path):
    import sqlite3

    env = home_env(tmp_path, "home")
    definition = tmp_path / "fail.asl.json"
    definition.write_text(json.dumps({"StartAt": "F", "States": {"F": {"Type": "Fail",
                                                                       "Error": "E"}}}))
    smlift("execute", "--definition", str(definition), "--name", "old", env=env)
    db = sqlite3.connect(Path(env["SMLIFT_HOME"]) / "smlift.db")  # it stopped 15 days ago
    with db:
        db.execute("UPDATE executions SET stop_date = stop_date - 15 * 86400")
    db.close()
    assert describe("old", env)["redriveStatusReason"] == "Execution redrivable period exceeded."
    refused = smlift("redrive", "old", "--local", env=env)
    assert refused.returncode == 1
    assert "ExecutionNotRedrivable" in refused.stderr
    assert "Execution redrivable period exceeded." in refused.stderr
