"""History: AWS event names and details, ids and previousEventId, batched writes to the store."""

from __future__ import annotations

import json

from smlift.asl.clock import VirtualClock
from smlift.asl.engine import run_execution
from smlift.asl.history import HistorySink
from smlift.asl.tasks import TaskRegistry
from smlift.local.store import Store


def run(definition, input_=None, **options):
    options.setdefault("tasks", TaskRegistry())
    return run_execution(definition, {} if input_ is None else input_, clock=VirtualClock(),
                         **options)


def chain(ids_and_types):
    return [(e["id"], e["previousEventId"], e["type"]) for e in ids_and_types]


def test_a_pass_chain_records_entered_and_exited_events_linked_in_order():
    result = run({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"},
                                             "B": {"Type": "Pass", "Result": 1, "End": True}}},
                 {"x": 1})
    assert chain(result.events) == [
        (1, 0, "ExecutionStarted"), (2, 1, "PassStateEntered"), (3, 2, "PassStateExited"),
        (4, 3, "PassStateEntered"), (5, 4, "PassStateExited"), (6, 5, "ExecutionSucceeded")]
    entered = result.events[1]["details"]["stateEnteredEventDetails"]
    assert entered == {"name": "A", "input": '{"x":1}', "inputDetails": {"truncated": False}}
    assert result.events[-1]["details"] == {"executionSucceededEventDetails": {
        "output": "1", "outputDetails": {"truncated": False}}}


def test_map_iteration_events_link_to_the_map_state_started_event():
    result = run({"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemProcessor": {"StartAt": "P", "States": {
            "P": {"Type": "Pass", "End": True}}}, "End": True}}}, ["a", "b"])
    assert chain(result.events) == [
        (1, 0, "ExecutionStarted"), (2, 1, "MapStateEntered"), (3, 2, "MapStateStarted"),
        (4, 3, "MapIterationStarted"), (5, 4, "PassStateEntered"), (6, 5, "PassStateExited"),
        (7, 6, "MapIterationSucceeded"),
        (8, 3, "MapIterationStarted"), (9, 8, "PassStateEntered"), (10, 9, "PassStateExited"),
        (11, 10, "MapIterationSucceeded"),
        (12, 11, "MapStateSucceeded"), (13, 12, "MapStateExited"), (14, 13, "ExecutionSucceeded")]
    assert result.events[2]["details"] == {"mapStateStartedEventDetails": {"length": 2}}
    assert result.events[7]["details"] == {"mapIterationStartedEventDetails": {"name": "M",
                                                                               "index": 1}}


def test_task_events_carry_resource_type_resource_and_parameters():
    tasks = TaskRegistry()

    def handler(request):
        request.emit_submitted({"JobArn": "arn:job"})
        return {"done": True}

    tasks.register("arn:aws:states:::sagemaker:createProcessingJob.sync", handler)
    result = run({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::sagemaker:createProcessingJob.sync",
        "Parameters": {"ProcessingJobName.$": "$.name"}, "TimeoutSeconds": 60, "End": True}}},
        {"name": "job-1"}, tasks=tasks)
    kinds = [e["type"] for e in result.events]
    assert kinds == ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted",
                     "TaskSubmitted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"]
    scheduled = result.events[2]["details"]["taskScheduledEventDetails"]
    assert scheduled == {"resourceType": "sagemaker", "resource": "createProcessingJob.sync",
                         "region": "us-east-1", "parameters": '{"ProcessingJobName":"job-1"}',
                         "timeoutInSeconds": 60}
    assert result.events[4]["details"]["taskSubmittedEventDetails"]["output"] == \
        '{"JobArn":"arn:job"}'


def test_a_failed_execution_ends_with_execution_failed_details():
    result = run({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}})
    assert chain(result.events) == [(1, 0, "ExecutionStarted"), (2, 1, "FailStateEntered"),
                                    (3, 2, "ExecutionFailed")]
    assert result.events[-1]["details"] == {"executionFailedEventDetails": {"error": "E"}}


def test_assigned_variables_appear_in_the_exited_event():
    result = run({"StartAt": "A", "States": {"A": {"Type": "Pass", "Assign": {"v": [1]},
                                                   "End": True}}})
    details = result.events[2]["details"]["stateExitedEventDetails"]
    assert details["assignedVariables"] == {"v": "[1]"}


class CountingStore:
    """A fake store that records each batch of event rows it is given (the door the sink uses:
    `Store.append_event_rows`)."""

    def __init__(self):
        self.batches = []

    def append_event_rows(self, arn, rows):
        self.batches.append(list(rows))


def test_sink_batches_events_until_flushed():
    store = CountingStore()
    sink = HistorySink(store, "arn", flush_interval=3600)
    for _ in range(500):
        sink.emit("PassStateEntered", sink.last_id)
    assert store.batches == []
    sink.flush()
    assert [len(b) for b in store.batches] == [500]
    event_id, previous, _, type_, details = store.batches[0][-1]
    assert (event_id, previous, type_, details) == (500, 499, "PassStateEntered", None)


def test_history_is_in_the_store_while_a_task_runs(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    seen = []
    tasks = TaskRegistry()
    arn = "arn:aws:states:us-east-1:123456789012:execution:sm:run-1"
    tasks.register("arn:aws:states:::test:peek",
                   lambda request: seen.extend(e["type"] for e in store.get_events(arn)))
    result = run_execution({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::test:peek", "End": True}}}, {},
        name="run-1", state_machine_name="sm", store=store, tasks=tasks)
    assert seen == ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted"]
    stored = store.get_events(arn)
    assert [e["type"] for e in stored] == [e["type"] for e in result.events]
    assert store.get_execution(arn)["status"] == "SUCCEEDED"
    assert json.loads(json.dumps(stored[0]["details"]))["executionStartedEventDetails"]["input"] \
        == "{}"
