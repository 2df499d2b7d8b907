"""`smlift execute` and `smlift executions` end to end, through the real console script."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SMLIFT = [sys.executable, "-m", "smlift"]


def smlift(*args, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SMLIFT_HOME": str(home)}
    return subprocess.run([*SMLIFT, *args], capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture
def files(tmp_path):
    def write(name, value):
        path = tmp_path / name
        path.write_text(value if isinstance(value, str) else json.dumps(value))
        return str(path)
    return write


def test_execute_prints_one_json_object_with_the_parsed_output(files, tmp_path):
    definition = files("double.asl.json", {"StartAt": "A", "States": {"A": {
        "Type": "Pass", "Parameters": {"v.$": "States.MathAdd($.v, $.v)"}, "End": True}}})
    done = smlift("execute", "--definition", definition, "--input", files("in.json", {"v": 4}),
                  "--name", "run-1", home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary == {
        "executionArn": "arn:aws:states:us-east-1:123456789012:execution:double:run-1",
        "name": "run-1", "status": "SUCCEEDED", "output": {"v": 8}, "error": None,
        "cause": None}


def test_a_failed_execution_still_exits_zero(files, tmp_path):
    definition = files("f.json", {"StartAt": "F", "States": {"F": {
        "Type": "Fail", "Error": "E", "Cause": "c"}}})
    done = smlift("execute", "--definition", definition, home=tmp_path / "home")
    assert done.returncode == 0
    summary = json.loads(done.stdout)
    assert (summary["status"], summary["error"], summary["cause"]) == ("FAILED", "E", "c")
    assert len(summary["name"]) == 36  # a UUID when no --name is given


def test_a_definition_error_exits_one_naming_the_file_and_pointer(files, tmp_path):
    definition = files("bad.json", {"StartAt": "A", "States": {"A": {"Type": "Pass",
                                                                      "Next": "Gone"}}})
    done = smlift("execute", "--definition", definition, home=tmp_path / "home")
    assert done.returncode == 1 and done.stdout == ""
    assert f"{definition}#/States/A/Next" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_missing_input_file_is_a_usage_error(files, tmp_path):
    definition = files("ok.json", {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})
    done = smlift("execute", "--definition", definition, "--input", str(tmp_path / "nope.json"),
                  home=tmp_path / "home")
    assert done.returncode == 1 and "nope.json" in done.stderr


def test_the_same_name_twice_is_refused(files, tmp_path):
    definition = files("ok.json", {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})
    first = smlift("execute", "--definition", definition, "--name", "x", home=tmp_path / "h")
    second = smlift("execute", "--definition", definition, "--name", "x", home=tmp_path / "h")
    assert first.returncode == 0
    assert second.returncode == 1 and "Execution Already Exists" in second.stderr


def test_executions_list_describe_and_history_answer_like_the_aws_cli(files, tmp_path):
    definition = files("sm.json", {"StartAt": "A", "States": {"A": {"Type": "Pass",
                                                                     "End": True}}})
    home = tmp_path / "home"
    smlift("execute", "--definition", definition, "--name", "one", home=home)
    listed = json.loads(smlift("executions", "list", home=home).stdout)
    assert [(e["name"], e["status"]) for e in listed["executions"]] == [("one", "SUCCEEDED")]
    described = json.loads(smlift("executions", "describe", "one", home=home).stdout)
    assert described["stateMachineArn"].endswith(":stateMachine:sm")
    assert described["output"] == "{}" and "startDate" in described and "stopDate" in described
    events = json.loads(smlift("executions", "history", "one", home=home).stdout)["events"]
    assert [e["type"] for e in events] == ["ExecutionStarted", "PassStateEntered",
                                           "PassStateExited", "ExecutionSucceeded"]
    assert events[1]["stateEnteredEventDetails"]["name"] == "A"


def test_ctrl_c_ends_the_execution_aborted_in_the_store(files, tmp_path):
    definition = files("wait.json", {"StartAt": "W", "States": {"W": {
        "Type": "Wait", "Seconds": 60, "End": True}}})
    home = tmp_path / "home"
    process = subprocess.Popen([*SMLIFT, "execute", "--definition", definition, "--name", "w"],
                               env={**os.environ, "SMLIFT_HOME": str(home)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # wait until the Wait state has begun
        listed = smlift("executions", "history", "w", home=home)
        if listed.returncode == 0 and "WaitStateEntered" in listed.stdout:
            break
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    assert process.wait(30) == 130
    described = json.loads(smlift("executions", "describe", "w", home=home).stdout)
    assert (described["status"], described["error"]) == ("ABORTED", "KeyboardInterrupt")
