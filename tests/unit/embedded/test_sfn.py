"""LocalStepFunctions: boto3-like calls and AWS shapes over the engine and the store."""

from __future__ import annotations

import json
import threading

import pytest

from smlift.asl.tasks import TaskRegistry
from smlift.errors import (DefinitionError, ExecutionAlreadyExists, ExecutionDoesNotExist,
                           InputError)
from smlift.embedded.sfn import LocalStepFunctions
from smlift.local.store import Store

PASS = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": {"ok": 1}, "End": True}}}


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "smlift.db")


def blocking_registry():
    started, release = threading.Event(), threading.Event()
    tasks = TaskRegistry()

    def handler(request):
        started.set()
        request.cancelled.wait(10)
        return {"cancelled": request.cancelled.is_set()}

    tasks.register("arn:aws:states:::test:block", handler)
    return tasks, started


def test_start_execution_answers_at_once_and_wait_returns_describe(store):
    sfn = LocalStepFunctions(store=store, tasks=TaskRegistry())
    arn = sfn.create_state_machine(name="demo", definition=json.dumps(PASS))["stateMachineArn"]
    started = sfn.start_execution(stateMachineArn=arn, name="e1", input='{"x": 1}')
    assert started["executionArn"].endswith(":execution:demo:e1")
    described = sfn.wait(started["executionArn"], timeout=10)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"ok": 1}
    assert json.loads(described["input"]) == {"x": 1}
    assert described["startDate"].tzinfo is not None


def test_an_execution_without_name_gets_a_uuid_and_a_duplicate_name_is_refused(store):
    sfn = LocalStepFunctions(store=store, tasks=TaskRegistry())
    arn = sfn.create_state_machine(name="demo", definition=PASS)["stateMachineArn"]
    result = sfn.start_sync_execution(stateMachineArn=arn)
    assert len(result["name"]) == 36 and result["status"] == "SUCCEEDED"
    sfn.start_sync_execution(stateMachineArn=arn, name="same")
    with pytest.raises(ExecutionAlreadyExists):
        sfn.start_sync_execution(stateMachineArn=arn, name="same")


def test_create_state_machine_validates_the_definition(store):
    sfn = LocalStepFunctions(store=store, tasks=TaskRegistry())
    with pytest.raises(DefinitionError):
        sfn.create_state_machine(name="bad", definition={"StartAt": "X", "States": {}})


def test_stop_execution_aborts_and_cancels_the_running_task(store):
    tasks, started = blocking_registry()
    sfn = LocalStepFunctions(store=store, tasks=tasks)
    arn = sfn.create_state_machine(name="block", definition={"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::test:block", "End": True}}})
    execution = sfn.start_execution(stateMachineArn=arn["stateMachineArn"])["executionArn"]
    assert started.wait(10)
    other = LocalStepFunctions(store=store, tasks=TaskRegistry())  # another object, same process
    assert other.describe_execution(executionArn=execution)["processAlive"] is True
    other.stop_execution(executionArn=execution, error="Manual", cause="stopped by test")
    described = sfn.describe_execution(executionArn=execution)
    assert (described["status"], described["error"]) == ("ABORTED", "Manual")
    events = sfn.get_execution_history(executionArn=execution)["events"]
    assert events[-1]["type"] == "ExecutionAborted"
    assert [e["type"] for e in events][:4] == ["ExecutionStarted", "TaskStateEntered",
                                               "TaskScheduled", "TaskStarted"]


def test_a_running_record_of_a_dead_process_says_so_and_can_be_marked_aborted(store):
    store.create_execution("arn:x:execution:sm:orphan", "arn:x:stateMachine:sm", "orphan", {},
                           1.0, pid=2 ** 22 + 12345)
    sfn = LocalStepFunctions(store=store, tasks=TaskRegistry())
    described = sfn.describe_execution(executionArn="orphan")
    assert (described["status"], described["processAlive"]) == ("RUNNING", False)
    sfn.stop_execution(executionArn="orphan")
    assert sfn.describe_execution(executionArn="orphan")["status"] == "ABORTED"


def test_list_executions_filters_by_state_machine_and_status(store):
    sfn = LocalStepFunctions(store=store, tasks=TaskRegistry())
    ok = sfn.create_state_machine(name="ok", definition=PASS)["stateMachineArn"]
    bad = sfn.create_state_machine(name="bad", definition={"StartAt": "F", "States": {
        "F": {"Type": "Fail", "Error": "E"}}})["stateMachineArn"]
    sfn.start_sync_execution(stateMachineArn=ok, name="a")
    sfn.start_sync_execution(stateMachineArn=bad, name="b")
    assert [e["name"] for e in sfn.list_executions(statusFilter="FAILED")["executions"]] == ["b"]
    assert [e["name"] for e in sfn.list_executions(stateMachineArn=ok)["executions"]] == ["a"]
    with pytest.raises(ExecutionDoesNotExist):
        sfn.describe_execution(executionArn="nope")


def test_history_can_be_read_newest_first(store):
    sfn = LocalStepFunctions(store=store, tasks=TaskRegistry())
    arn = sfn.create_state_machine(name="demo", definition=PASS)["stateMachineArn"]
    execution = sfn.start_sync_execution(stateMachineArn=arn)["executionArn"]
    events = sfn.get_execution_history(executionArn=execution, reverseOrder=True)["events"]
    assert [e["id"] for e in events] == [4, 3, 2, 1]


def test_names_follow_aws_rules(store):
    sfn = LocalStepFunctions(store=store, tasks=TaskRegistry())
    with pytest.raises(InputError, match="Invalid Name"):
        sfn.create_state_machine(name="bad name", definition=PASS)
    arn = sfn.create_state_machine(name="good_name-1", definition=PASS)["stateMachineArn"]
    with pytest.raises(InputError, match="Invalid Name"):
        sfn.start_execution(stateMachineArn=arn, name="x" * 81)


def test_starting_the_same_name_and_input_while_running_answers_with_that_execution(store):
    tasks, started = blocking_registry()
    sfn = LocalStepFunctions(store=store, tasks=tasks)
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task",
                                                   "Resource": "arn:aws:states:::test:block",
                                                   "End": True}}}
    arn = sfn.create_state_machine(name="demo", definition=definition)["stateMachineArn"]
    first = sfn.start_execution(stateMachineArn=arn, name="nightly", input='{"day": 1}')
    assert started.wait(10)
    again = sfn.start_execution(stateMachineArn=arn, name="nightly", input='{ "day" : 1 }')
    assert again == first  # idempotent while RUNNING, as AWS documents for Standard
    with pytest.raises(ExecutionAlreadyExists):
        sfn.start_execution(stateMachineArn=arn, name="nightly", input='{"day": 2}')
    sfn.stop_execution(executionArn=first["executionArn"])
    with pytest.raises(ExecutionAlreadyExists):  # closed: the name stays taken
        sfn.start_execution(stateMachineArn=arn, name="nightly", input='{"day": 1}')


def test_starting_the_name_of_an_execution_whose_process_died_ends_it_failed_and_refuses(
        tmp_path):
    import subprocess

    from smlift.errors import ExecutionAlreadyExists
    from smlift.embedded.sfn import LocalStepFunctions

    sfn = LocalStepFunctions(home=tmp_path)
    arn = sfn.create_state_machine(name="m", definition={
        "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})["stateMachineArn"]
    dead = subprocess.Popen(["true"])
    dead.wait()
    execution_arn = arn.replace(":stateMachine:", ":execution:") + ":crashed"
    sfn.store.create_execution(execution_arn, arn, "crashed", {}, 1.0, pid=dead.pid)
    with pytest.raises(ExecutionAlreadyExists) as raised:
        sfn.start_execution(stateMachineArn=arn, name="crashed", input="{}")
    assert f"left RUNNING by smlift process {dead.pid}, which has died" in str(raised.value)
    described = sfn.describe_execution(execution_arn)
    assert (described["status"], described["error"]) == ("FAILED", "States.Runtime")
    events = sfn.get_execution_history(executionArn=execution_arn)["events"]
    assert [e["type"] for e in events] == ["ExecutionFailed"]


def flaky_registry(broken: set):
    tasks, calls = TaskRegistry(), []

    def handler(request):
        calls.append(request.state_name)
        if request.state_name in broken:
            from smlift.asl.tasks import fail
            raise fail("Job.Failed", "broken")
        return {"ok": request.state_name}

    tasks.register("arn:aws:states:::test:job", handler)
    return tasks, calls


TWO_JOBS = {"StartAt": "A", "States": {
    "A": {"Type": "Task", "Resource": "arn:aws:states:::test:job", "ResultPath": "$.a",
          "Next": "B"},
    "B": {"Type": "Task", "Resource": "arn:aws:states:::test:job", "ResultPath": "$.b",
          "End": True}}}


def test_redrive_execution_in_boto3_shape_and_describe_shows_the_redrive(store):
    broken = {"B"}
    tasks, calls = flaky_registry(broken)
    sfn = LocalStepFunctions(store=store, tasks=tasks)
    arn = sfn.create_state_machine(name="demo", definition=TWO_JOBS)["stateMachineArn"]
    failed = sfn.start_sync_execution(stateMachineArn=arn, name="r1")
    assert failed["status"] == "FAILED"
    described = sfn.describe_execution(executionArn=failed["executionArn"])
    assert (described["redriveCount"], described["redriveStatus"]) == (0, "REDRIVABLE")
    broken.clear()
    answer = sfn.redrive_execution(executionArn=failed["executionArn"], clientToken="t1")
    assert answer["redriveDate"].tzinfo is not None
    assert sfn.redrive_execution(executionArn=failed["executionArn"], clientToken="t1") == answer
    described = sfn.wait(failed["executionArn"], timeout=10)
    assert described["status"] == "SUCCEEDED" and calls == ["A", "B", "B"]
    assert described["redriveCount"] == 1 and described["redriveDate"] == answer["redriveDate"]
    assert described["redriveStatus"] == "NOT_REDRIVABLE"
    assert described["redriveStatusReason"] == "Execution is SUCCEEDED and cannot be redriven."
    types = [e["type"] for e in sfn.get_execution_history(
        executionArn=failed["executionArn"])["events"]]
    assert types.count("ExecutionRedriven") == 1 and types[-1] == "ExecutionSucceeded"


def test_redriving_an_execution_whose_process_died_ends_it_failed_then_continues_it(store):
    tasks, calls = flaky_registry(set())
    sfn = LocalStepFunctions(store=store, tasks=tasks)
    arn = sfn.create_state_machine(name="demo", definition=TWO_JOBS)["stateMachineArn"]
    store.create_execution("arn:aws:states:us-east-1:123456789012:execution:demo:dead", arn,
                           "dead", {}, sfn.clock.now(), pid=2 ** 22 + 7,  # no such process
                           definition=json.dumps(TWO_JOBS))
    sfn.redrive_execution(executionArn="dead")
    described = sfn.wait("dead", timeout=10)
    assert described["status"] == "SUCCEEDED" and described["redriveCount"] == 1
    events = sfn.get_execution_history(executionArn="dead")["events"]
    failed = [e for e in events if e["type"] == "ExecutionFailed"][0]
    assert failed["executionFailedEventDetails"]["error"] == "States.Runtime"
    assert "ended before the execution did" in failed["executionFailedEventDetails"]["cause"]
