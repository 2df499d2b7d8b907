"""Redrive in the engine: AWS's rules, what runs again and what is replayed, the history."""

from __future__ import annotations

import pytest

from smlift.asl.clock import VirtualClock as FakeClock
from smlift.asl.engine import run_execution
from smlift.asl.redrive import prepare_redrive, redrive_status
from smlift.asl.tasks import TaskRegistry, fail
from smlift.errors import ExecutionDoesNotExist, ExecutionNotRedrivable
from smlift.local.store import Store

DAY = 24 * 3600


class Flaky:
    """A task that fails while `broken` holds its name, and counts its calls by name."""

    def __init__(self, *broken: str):
        self.broken, self.calls = set(broken), []

    def __call__(self, request):
        name = request.parameters["name"]
        self.calls.append(name)
        if name in self.broken:
            raise fail("Job.Failed", f"{name} is broken")
        return {"done": name, "redrive": request.parameters.get("redrive")}

    def registry(self) -> TaskRegistry:
        tasks = TaskRegistry()
        tasks.register("arn:aws:states:::test:job", self)
        return tasks


def task(name: str, **more) -> dict:
    return {"Type": "Task", "Resource": "arn:aws:states:::test:job",
            "Parameters": {"name": name, "redrive.$": "$$.Execution.RedriveCount"}, **more}


PIPELINE = {"StartAt": "Prepare", "States": {
    "Prepare": {"Type": "Pass", "Assign": {"stem": "run-1"}, "Next": "Preprocess"},
    "Preprocess": task("pre", ResultPath="$.pre", Next="Predict"),
    "Predict": task("predict", ResultPath="$.predict", Next="Publish"),
    "Publish": {"Type": "Pass", "Parameters": {"stem.$": "$stem", "pre.$": "$.pre.done",
                                               "predict.$": "$.predict"}, "End": True}}}


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "smlift.db")


def first_run(store, definition, job, clock, name="e1"):
    return run_execution(definition, {"x": 1}, name=name, state_machine_name="sm", store=store,
                         tasks=job.registry(), clock=clock)


def redrive(store, arn, job, clock):
    return prepare_redrive(store, arn, tasks=job.registry(), clock=clock).run()


def test_redrive_reruns_only_the_failed_state_and_what_follows(store):
    clock, job = FakeClock(1000.0), Flaky("predict")
    failed = first_run(store, PIPELINE, job, clock)
    assert failed.status == "FAILED" and job.calls == ["pre", "predict"]
    job.broken.clear()
    clock.advance(60)
    result = redrive(store, failed.execution_arn, job, clock)
    assert result.status == "SUCCEEDED"
    assert job.calls == ["pre", "predict", "predict"]  # Preprocess is not run again
    assert result.output == {"stem": "run-1", "pre": "pre",  # Prepare's variable is replayed
                             "predict": {"done": "predict", "redrive": 1}}
    assert result.start_date == failed.start_date


def test_redrive_continues_the_history_with_an_execution_redriven_event(store):
    clock, job = FakeClock(1000.0), Flaky("predict")
    failed = first_run(store, PIPELINE, job, clock)
    before = store.get_events(failed.execution_arn)
    job.broken.clear()
    redrive(store, failed.execution_arn, job, clock)
    events = store.get_events(failed.execution_arn)
    assert events[:len(before)] == before
    redriven = events[len(before)]
    assert redriven["type"] == "ExecutionRedriven"
    assert redriven["id"] == before[-1]["id"] + 1
    assert redriven["previousEventId"] == before[-1]["id"]
    assert redriven["details"] == {"executionRedrivenEventDetails": {"redriveCount": 1}}
    entered = [e["details"]["stateEnteredEventDetails"]["name"] for e in events[len(before):]
               if e["type"].endswith("StateEntered")]
    assert entered == ["Predict", "Publish"]
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["type"] == "ExecutionSucceeded"


def test_redrive_date_and_count_are_in_the_context_object(store):
    definition = {"QueryLanguage": "JSONata", "StartAt": "Check", "States": {"Check": {
        "Type": "Choice", "Choices": [{"Condition": "{% $states.context.Execution.RedriveCount "
                                                    "= 0 %}", "Next": "Fail"}],
        "Default": "Done"}, "Fail": {"Type": "Fail", "Error": "First"},
        "Done": {"Type": "Pass", "Output": "{% $states.context.Execution %}", "End": True}}}
    clock, job = FakeClock(1000.0), Flaky()
    failed = first_run(store, definition, job, clock)
    assert failed.error == "First"
    clock.advance(5)
    # the Choice succeeded the first time: replayed, so the redrive fails again at Fail
    assert redrive(store, failed.execution_arn, job, clock).error == "First"


def test_a_map_redrive_runs_only_the_failed_iterations(store):
    definition = {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1,
        "ItemProcessor": {"StartAt": "Job", "States": {"Job": {
            "Type": "Task", "Resource": "arn:aws:states:::test:job",
            "Parameters": {"name.$": "$"}, "ResultSelector": {"d.$": "$.done"},
            "End": True}}}, "End": True}}}
    clock, job = FakeClock(1000.0), Flaky("b")
    failed = run_execution(definition, {"items": ["a", "b", "c"]}, name="m",
                           state_machine_name="sm", store=store, tasks=job.registry(),
                           clock=clock)
    assert failed.status == "FAILED" and job.calls == ["a", "b"]
    job.broken.clear()
    result = redrive(store, failed.execution_arn, job, clock)
    assert result.status == "SUCCEEDED"
    assert result.output == [{"d": "a"}, {"d": "b"}, {"d": "c"}]
    assert job.calls == ["a", "b", "b", "c"]
    started = [e["details"]["mapIterationStartedEventDetails"]["index"]
               for e in result.events if e["type"] == "MapIterationStarted"]
    assert started == [1, 2]


def test_a_parallel_redrive_runs_only_the_failed_branch(store):
    definition = {"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "Branches": [
        {"StartAt": "L", "States": {"L": task("left", End=True)}},
        {"StartAt": "R", "States": {"R": task("right", End=True)}}], "End": True}}}
    clock, job = FakeClock(1000.0), Flaky("right")
    failed = first_run(store, definition, job, clock)
    assert failed.status == "FAILED"
    job.broken.clear()
    result = redrive(store, failed.execution_arn, job, clock)
    assert result.status == "SUCCEEDED"
    assert [call for call in job.calls if call == "left"] == ["left"]
    assert [r["done"] for r in result.output] == ["left", "right"]


def test_redrive_of_a_succeeded_execution_is_refused_with_aws_error(store):
    clock, job = FakeClock(1000.0), Flaky()
    done = first_run(store, PIPELINE, job, clock)
    with pytest.raises(ExecutionNotRedrivable) as refused:
        redrive(store, done.execution_arn, job, clock)
    assert refused.value.code == "ExecutionNotRedrivable"
    assert "Execution is SUCCEEDED and cannot be redriven." in refused.value.message


def test_redrive_past_the_14_day_window_is_refused(store):
    clock, job = FakeClock(1000.0), Flaky("predict")
    failed = first_run(store, PIPELINE, job, clock)
    clock.advance(14 * DAY - 1)
    record = store.get_execution(failed.execution_arn)
    assert redrive_status(record, store.get_attempts(record["arn"]), 1, clock.now())[0] == \
        "REDRIVABLE"
    clock.advance(2)
    with pytest.raises(ExecutionNotRedrivable, match="Execution redrivable period exceeded."):
        redrive(store, failed.execution_arn, job, clock)
    assert store.get_execution(failed.execution_arn)["status"] == "FAILED"


def test_redrive_of_an_unknown_execution_is_execution_does_not_exist(store):
    with pytest.raises(ExecutionDoesNotExist):
        redrive(store, "arn:aws:states:us-east-1:123456789012:execution:sm:nope", Flaky(),
                FakeClock(0.0))


def test_a_second_redrive_counts_two_and_replays_the_first_redrive_too(store):
    clock, job = FakeClock(1000.0), Flaky("pre")
    failed = first_run(store, PIPELINE, job, clock)
    job.broken = {"predict"}
    assert redrive(store, failed.execution_arn, job, clock).status == "FAILED"
    job.broken.clear()
    result = redrive(store, failed.execution_arn, job, clock)
    assert result.output["predict"]["redrive"] == 2
    assert job.calls == ["pre", "pre", "predict", "predict"]
    assert store.get_attempts(failed.execution_arn)[-1]["redrive_count"] == 2


def test_a_task_that_caught_its_error_into_a_fail_state_runs_again(store):
    caught = {"StartAt": "Pre", "States": {
        "Pre": task("pre", ResultPath="$.pre", Next="Predict"),
        "Predict": task("predict", ResultPath="$.predict", Next="Done",
                        Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Failed"}]),
        "Done": {"Type": "Succeed"},
        "Failed": {"Type": "Fail", "Error": "PredictFailed"}}}
    clock, job = FakeClock(1000.0), Flaky("predict")
    failed = first_run(store, caught, job, clock)
    assert failed.error == "PredictFailed"
    job.broken.clear()
    result = redrive(store, failed.execution_arn, job, clock)
    assert result.status == "SUCCEEDED"
    assert job.calls == ["pre", "predict", "predict"]
