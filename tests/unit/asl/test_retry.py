"""Retry and Catch: which errors match, the waits computed (virtual clock), the fall-through."""

from __future__ import annotations

import pytest

from smlift.asl.clock import VirtualClock
from smlift.asl.definition import Retrier
from smlift.asl.engine import run_execution
from smlift.asl.retry import error_matches, next_delay, should_retry
from smlift.asl.tasks import TaskRegistry
from smlift.errors import StatesError


def failing_task(errors):
    """A registry whose `arn:aws:states:::test:flaky` raises `errors` in turn, then succeeds."""
    calls = []

    def handler(request):
        calls.append(request.context["State"]["RetryCount"])
        if len(calls) <= len(errors):
            raise StatesError(errors[len(calls) - 1], "failed")
        return {"ok": True}

    tasks = TaskRegistry()
    tasks.register("arn:aws:states:::test:flaky", handler)
    return tasks, calls


def task_machine(retry=None, catch=None):
    state = {"Type": "Task", "Resource": "arn:aws:states:::test:flaky", "End": True}
    if retry is not None:
        state["Retry"] = retry
    if catch is not None:
        state["Catch"] = catch
    return {"StartAt": "T", "States": {"T": state, "Handler": {"Type": "Pass", "End": True}}
            if catch else {"T": state}}


def run(definition, tasks, clock=None, input_=None, **options):
    clock = clock or VirtualClock()
    input_ = {"in": 1} if input_ is None else input_
    return run_execution(definition, input_, tasks=tasks, clock=clock, **options), clock


def test_retry_waits_interval_times_backoff_rate_to_the_power_of_the_attempt():
    tasks, calls = failing_task(["E", "E", "E"])
    result, clock = run(task_machine([{"ErrorEquals": ["E"], "IntervalSeconds": 60,
                                       "BackoffRate": 2.0, "MaxAttempts": 3}]), tasks)
    assert result.status == "SUCCEEDED"
    assert clock.sleeps == [60, 120, 240]
    assert calls == [0, 1, 2, 3]  # $$.State.RetryCount of each attempt


def test_max_delay_seconds_caps_the_backoff():
    tasks, _ = failing_task(["E"] * 4)
    _, clock = run(task_machine([{"ErrorEquals": ["E"], "IntervalSeconds": 10, "BackoffRate": 3,
                                  "MaxAttempts": 5, "MaxDelaySeconds": 50}]), tasks)
    assert clock.sleeps == [10, 30, 50, 50]


def test_full_jitter_scales_the_wait_by_the_injected_random():
    tasks, _ = failing_task(["E", "E"])
    _, clock = run(task_machine([{"ErrorEquals": ["E"], "IntervalSeconds": 10,
                                  "JitterStrategy": "FULL"}]), tasks, random=lambda: 0.25)
    assert clock.sleeps == [2.5, 5.0]


def test_retry_exhausted_falls_through_to_catch_with_the_error_output():
    tasks, calls = failing_task(["E"] * 5)
    result, clock = run(task_machine([{"ErrorEquals": ["E"], "MaxAttempts": 2}],
                                     [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error",
                                       "Next": "Handler"}]), tasks)
    assert len(calls) == 3 and clock.sleeps == [1, 2]
    assert result.status == "SUCCEEDED"
    assert result.output == {"in": 1, "error": {"Error": "E", "Cause": "failed"}}


def test_each_retrier_counts_its_own_attempts():
    tasks, calls = failing_task(["A", "B", "A", "B"])
    result, _ = run(task_machine([{"ErrorEquals": ["A"], "MaxAttempts": 2},
                                  {"ErrorEquals": ["B"], "MaxAttempts": 2}]), tasks)
    assert result.status == "SUCCEEDED" and len(calls) == 5


def test_max_attempts_zero_never_retries():
    tasks, calls = failing_task(["E"])
    result, clock = run(task_machine([{"ErrorEquals": ["E"], "MaxAttempts": 0}]), tasks)
    assert result.error == "E" and len(calls) == 1 and clock.sleeps == []


def test_retry_of_a_map_state_reruns_the_whole_map():
    definition = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemProcessor": {"StartAt": "F", "States": {
            "F": {"Type": "Fail", "Error": "ItemError", "Cause": "c"}}},
        "Retry": [{"ErrorEquals": ["ItemError"], "MaxAttempts": 2}], "End": True}}}
    result, clock = run(definition, TaskRegistry(), input_=[1])
    assert (result.error, result.cause) == ("ItemError", "c")
    assert clock.sleeps == [1, 2]
    assert [e["type"] for e in result.events].count("MapStateStarted") == 3


@pytest.mark.parametrize("error, error_equals, expected", [
    ("Custom", ["States.ALL"], True),
    ("States.Timeout", ["States.ALL"], True),
    ("States.Runtime", ["States.ALL"], False),
    ("States.Runtime", ["States.Runtime"], False),
    ("States.DataLimitExceeded", ["States.ALL"], False),
    ("States.DataLimitExceeded", ["States.DataLimitExceeded"], True),
    ("Custom", ["States.TaskFailed"], True),
    ("States.Timeout", ["States.TaskFailed"], False),
    # "States.Timeout: a Task state either ran longer than the TimeoutSeconds value, or failed
    # to send a heartbeat for a period longer than the HeartbeatSeconds value"
    ("States.HeartbeatTimeout", ["States.Timeout"], True),
    ("States.HeartbeatTimeout", ["States.HeartbeatTimeout"], True),
    ("States.HeartbeatTimeout", ["States.TaskFailed"], False),
    ("States.Timeout", ["States.HeartbeatTimeout"], False),
    ("States.HeartbeatTimeout", ["States.ALL"], True),
    ("Other", ["Custom"], False),
])
def test_error_matching_follows_aws_rules(error, error_equals, expected):
    assert error_matches(error_equals, error) is expected


def test_states_all_does_not_catch_a_runtime_error():
    definition = {"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Branches": [{"StartAt": "X", "States": {
            "X": {"Type": "Pass", "InputPath": "$.missing", "End": True}}}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}], "End": True},
        "C": {"Type": "Succeed"}}}
    result, _ = run(definition, TaskRegistry())
    assert (result.status, result.error) == ("FAILED", "States.Runtime")


def test_next_delay_and_should_retry_as_plain_functions():
    retrier = Retrier(error_equals=("E",), interval_seconds=2, max_attempts=2, backoff_rate=1.5)
    assert [next_delay(retrier, n) for n in range(3)] == [2, 3.0, 4.5]
    assert [should_retry(retrier, n) for n in range(3)] == [True, True, False]


def test_jsonata_catcher_output_and_assign_see_the_error_output():
    tasks, _ = failing_task(["Boom"] * 3)
    definition = {"QueryLanguage": "JSONata", "StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::test:flaky", "Catch": [{
            "ErrorEquals": ["Boom"], "Next": "H",
            "Assign": {"err": "{% $states.errorOutput.Error %}"},
            "Output": {"caught": "{% $states.errorOutput %}", "in": "{% $states.input %}"}}],
              "End": True},
        "H": {"Type": "Pass", "Output": {"seen": "{% $err %}", "was": "{% $states.input %}"},
              "End": True}}}
    result, _ = run(definition, tasks)
    assert result.output == {"seen": "Boom", "was": {
        "caught": {"Error": "Boom", "Cause": "failed"}, "in": {"in": 1}}}


def test_jsonpath_catcher_assign_reads_the_error_output():
    tasks, _ = failing_task(["Boom"] * 3)
    definition = task_machine(catch=[{"ErrorEquals": ["States.ALL"], "Next": "Handler",
                                      "ResultPath": None, "Assign": {"why.$": "$.Cause"}}])
    definition["States"]["Handler"] = {"Type": "Pass", "Parameters": {"why.$": "$why"},
                                       "End": True}
    result, _ = run(definition, tasks)
    assert result.output == {"why": "failed"}



def test_the_guides_complex_retry_scenario_counts_each_retrier_across_visits():
    # Error handling page, "complex retry scenarios": errors A, B, C, B wait 1, 2 and 5 s; the
    # fourth matches the first retrier, which has used its two attempts, so Catch takes it.
    tasks, calls = failing_task(["ErrorA", "ErrorB", "ErrorC", "ErrorB"])
    retry = [{"ErrorEquals": ["ErrorA", "ErrorB"], "IntervalSeconds": 1, "BackoffRate": 2.0,
              "MaxAttempts": 2},
             {"ErrorEquals": ["ErrorC"], "IntervalSeconds": 5}]
    result, clock = run(task_machine(retry, [{"ErrorEquals": ["States.ALL"],
                                             "Next": "Handler"}]), tasks)
    assert clock.sleeps == [1, 2, 5]
    assert result.status == "SUCCEEDED" and result.output["Error"] == "ErrorB"
    assert len(calls) == 4
