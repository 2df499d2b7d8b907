"""`smlift run` end to end, when things go wrong: each fault of issue 5 through the real CLI.

Every test runs the repository's own definition on the embedded default in its own SMLIFT_HOME,
with a copy of scripts/ that it breaks on purpose.
"""

from __future__ import annotations

import contextlib
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


def smlift(*args, env, timeout=600, **kwargs):
    return subprocess.run([sys.executable, "-m", "smlift", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, **kwargs)


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "SMLIFT_HOME": str(tmp_path / "home"), "COLUMNS": "200"}


@pytest.fixture
def broken_code(tmp_path):
    """A copy of scripts/ whose preprocessing step can be replaced by a test."""
    code = tmp_path / "code"
    shutil.copytree(ROOT / "scripts", code, ignore=shutil.ignore_patterns("__pycache__"))

    def replace(body: str) -> Path:
        (code / "preprocessing.py").write_text(body)
        return code

    return replace


def local_input(tmp_path, **changes) -> Path:
    data = json.loads((ROOT / "examples" / "input.local.json").read_text())
    data.update(changes)
    path = tmp_path / "input.json"
    path.write_text(json.dumps(data))
    return path


def describe(name, env) -> dict:
    done = smlift("executions", "describe", name, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def published(env, prefix: str) -> list[Path]:
    root = Path(env["SMLIFT_HOME"]) / "s3" / "smlift-local" / "output"
    return [p for p in root.rglob("*") if p.is_file() and f"/{prefix}/" in p.as_posix()]


FAILING_STEP = """
import os, sys
os.makedirs("/opt/ml/processing/output", exist_ok=True)
open("/opt/ml/processing/output/half-written.csv", "w").write("a,b\\n1,2\\n")
with open("/opt/ml/output/message", "w") as message:
    message.write("bookings.csv: column lead_time is missing")
raise SystemExit("bookings.csv: column lead_time is missing")
"""


def test_a_step_that_raises_fails_the_execution_naming_the_step_and_its_exit_message(
        tmp_path, env, broken_code):
    code = broken_code(FAILING_STEP)
    done = smlift("run", "--code", str(code), "--name", "raises", env=env)
    assert done.returncode == 1
    execution = describe("raises", env)
    assert execution["status"] == "FAILED"
    assert execution["error"] == "PreprocessFailed"
    assert "States.TaskFailed" in execution["cause"]
    assert "column lead_time is missing" in execution["cause"]
    assert "ExitMessage: bookings.csv: column lead_time is missing" in done.stderr
    assert "failed step: Preprocess" in done.stderr
    assert published(env, "preprocessed") == []  # nothing of the failed step was published


def test_run_off_a_terminal_prints_a_line_per_step_change_and_never_wraps_an_arn(
        tmp_path, env, broken_code):
    code = broken_code(FAILING_STEP)
    done = smlift("run", "--code", str(code), "--name", "unwrapped-" + "x" * 70, env=env)
    arn = describe("unwrapped-" + "x" * 70, env)["executionArn"]
    lines = done.stderr.splitlines()
    assert f"execution: {arn}" in lines and f"FAILED {arn}" in lines
    # a step that fails at once may go from PENDING to FAILED between two polls: RUNNING is
    # printed only when seen, FAILED always
    assert any(line.startswith("Preprocess: FAILED") for line in lines)
    assert "┃" not in done.stderr  # no table redrawn into a log


def test_a_step_over_its_max_runtime_ends_stopped_and_the_execution_fails(
        tmp_path, env, broken_code):
    code = broken_code("import time\ntime.sleep(120)\n")
    started = time.monotonic()
    done = smlift("run", "--code", str(code), "--name", "too-slow",
                  "--input", str(local_input(tmp_path, max_runtime=2)), env=env)
    assert done.returncode == 1
    assert time.monotonic() - started < 90
    execution = describe("too-slow", env)
    assert execution["status"] == "FAILED"
    cause = execution["cause"]
    assert '"ProcessingJobStatus":"Stopped"' in cause.replace(" ", "")
    jobs = json.loads(smlift("jobs", "list", env=env).stdout)["ProcessingJobSummaries"]
    assert [job["ProcessingJobStatus"] for job in jobs] == ["Stopped"]


def no_execution_ran(env) -> bool:
    done = smlift("executions", "list", env=env)
    return json.loads(done.stdout)["executions"] == []


def test_a_missing_input_prefix_is_an_error_before_anything_runs(tmp_path, env):
    empty = tmp_path / "empty"
    empty.mkdir()
    done = smlift("run", "--data", str(empty), env=env)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "Error: input_uri: no objects under s3://smlift-local/input/ "
        "(fix: upload them first: smlift s3 sync DIR s3://smlift-local/input/)")
    assert no_execution_ran(env)


def test_an_unbuilt_image_is_an_error_naming_smlift_build_before_anything_runs(tmp_path, env):
    done = smlift("run", "--no-build", env=env)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: custom_image_uri: ") and "smlift build" in last
    assert "Traceback" not in done.stderr
    assert no_execution_ran(env)


@pytest.mark.parametrize("content, expected", [
    ("{not json", "input.json"),
    (json.dumps({"input_uri": "/data/in"}), "input_uri: must be an s3:// URI"),
])
def test_an_invalid_input_json_is_an_error_naming_the_file_or_field(tmp_path, env, content,
                                                                    expected):
    path = tmp_path / "input.json"
    path.write_text(content)
    done = smlift("run", "--input", str(path), env=env)
    assert done.returncode == 1
    assert expected in done.stderr and "Traceback" not in done.stderr
    assert no_execution_ran(env)


def wait_for_running_job(env, timeout=300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listing = smlift("jobs", "list", env=env)
        if listing.returncode == 0 and '"InProgress"' in listing.stdout:
            return
        time.sleep(0.5)
    raise AssertionError("no job started in time")


@contextlib.contextmanager
def run_in_background(code: Path, name: str, env):
    """`smlift run --code CODE --name NAME` as a child process, yielded once its job runs; killed
    on the way out whatever happened."""
    process = subprocess.Popen([sys.executable, "-m", "smlift", "run", "--code", str(code),
                                "--name", name], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_running_job(env)
        yield process
    finally:
        process.kill()


def test_killing_smlift_run_mid_job_leaves_the_execution_recorded_as_not_finished(
        tmp_path, env, broken_code):
    code = broken_code("import time\ntime.sleep(120)\n")
    with run_in_background(code, "killed", env) as process:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    execution = describe("killed", env)
    assert execution["status"] == "RUNNING"
    assert execution["processAlive"] is False
    assert "stopDate" not in execution
    history = json.loads(smlift("executions", "history", "killed", env=env).stdout)["events"]
    assert [e["type"] for e in history][:2] == ["ExecutionStarted", "PassStateEntered"]
    assert "TaskScheduled" in [e["type"] for e in history]  # recorded before the crash


def test_interrupting_smlift_run_aborts_the_execution_and_stops_its_job(
        tmp_path, env, broken_code):
    code = broken_code("import time\ntime.sleep(120)\n")
    with run_in_background(code, "interrupted", env) as process:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 143  # 128 + SIGTERM; Ctrl-C stays 130
    execution = describe("interrupted", env)
    assert execution["status"] == "ABORTED"
    jobs = json.loads(smlift("jobs", "list", env=env).stdout)["ProcessingJobSummaries"]
    assert [job["ProcessingJobStatus"] for job in jobs] == ["Stopped"]


MARKUP_MESSAGE = """
with open("/opt/ml/output/message", "w") as message:
    message.write("bad row [/oops] in [bold]bookings.csv")
raise SystemExit(1)
"""


def test_an_exit_message_with_rich_markup_is_shown_as_written(tmp_path, env, broken_code):
    code = broken_code(MARKUP_MESSAGE)
    done = smlift("run", "--code", str(code), "--name", "markup", env=env)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "ExitMessage: bad row [/oops] in [bold]bookings.csv" in done.stderr


def test_rerunning_a_killed_run_under_its_name_ends_it_failed_and_says_so_instead_of_hanging(
        tmp_path, env, broken_code):
    code = broken_code("import time\ntime.sleep(120)\n")
    with run_in_background(code, "killed-again", env) as process:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    again = smlift("run", "--code", str(code), "--name", "killed-again", env=env, timeout=120)
    assert again.returncode == 1
    last = again.stderr.strip().splitlines()[-1]
    assert "was left RUNNING by smlift process" in last and "now recorded FAILED" in last, last
    assert "Traceback" not in again.stderr
    execution = describe("killed-again", env)
    assert (execution["status"], execution["error"]) == ("FAILED", "States.Runtime")
    assert "ended before the execution did" in execution["cause"]
    history = json.loads(smlift("executions", "history", "killed-again", env=env).stdout)
    assert history["events"][-1]["type"] == "ExecutionFailed"


SLOW_TO_STOP = """
import os, signal, sys, time
def on_term(signum, frame):
    os.makedirs("/opt/ml/processing/output", exist_ok=True)
    open("/opt/ml/processing/output/partial.csv", "w").write("a,b\\n")
    time.sleep(4)  # cleaning up takes a while, within the grace period
    sys.exit(1)
signal.signal(signal.SIGTERM, on_term)
time.sleep(120)
"""


def test_a_second_ctrl_c_during_the_grace_period_still_ends_the_job_stopped_unpublished(
        tmp_path, env, broken_code):
    code = broken_code(SLOW_TO_STOP)
    with run_in_background(code, "twice", env) as process:
        process.send_signal(signal.SIGINT)
        for _ in range(3):  # the job is in its grace period now: an impatient user
            time.sleep(0.8)
            process.send_signal(signal.SIGINT)
        assert process.wait(timeout=90) == 130
    assert describe("twice", env)["status"] == "ABORTED"
    jobs = json.loads(smlift("jobs", "list", env=env).stdout)["ProcessingJobSummaries"]
    assert [job["ProcessingJobStatus"] for job in jobs] == ["Stopped"]
    assert published(env, "preprocessed") == []
