"""The run loop and every state type, on a virtual clock (no test sleeps for real)."""

from __future__ import annotations

import threading
import time

import pytest

from smlift.asl.clock import RealClock, VirtualClock
from smlift.asl.engine import prepare_execution, run_execution
from smlift.asl.tasks import TaskRegistry
from smlift.errors import StatesError


def run(definition, input_=None, *, tasks=None, clock=None, **options):
    clock = clock or VirtualClock()
    result = run_execution(definition, {} if input_ is None else input_, clock=clock,
                           tasks=tasks if tasks is not None else TaskRegistry(), **options)
    return result, clock


def machine(*states, **top):
    return {"StartAt": states[0][0], "States": dict(states), **top}


def registry(**handlers):
    tasks = TaskRegistry()
    for name, handler in handlers.items():
        tasks.register(f"arn:aws:states:::test:{name}", handler)
    return tasks


# -- Pass, Succeed, Fail ---------------------------------------------------------------------

def test_pass_result_is_placed_at_result_path_in_the_raw_input():
    result, _ = run(machine(("A", {"Type": "Pass", "InputPath": "$.a", "Result": {"r": 1},
                                   "ResultPath": "$.out", "End": True})), {"a": {"x": 1}})
    assert result.status == "SUCCEEDED"
    assert result.output == {"a": {"x": 1}, "out": {"r": 1}}


def test_pass_parameters_read_the_input_and_the_context_object():
    definition = machine(("A", {"Type": "Pass", "Parameters": {
        "v.$": "$.v", "state.$": "$$.State.Name", "exec.$": "$$.Execution.Name"}, "End": True}))
    result, _ = run(definition, {"v": 7}, name="run-1")
    assert result.output == {"v": 7, "state": "A", "exec": "run-1"}


def test_succeed_applies_input_path_and_output_path():
    result, _ = run(machine(("S", {"Type": "Succeed", "InputPath": "$.a",
                                   "OutputPath": "$.b"})), {"a": {"b": 3}})
    assert (result.status, result.output) == ("SUCCEEDED", 3)


def test_fail_state_ends_the_execution_with_its_error_and_cause():
    result, _ = run(machine(("F", {"Type": "Fail", "Error": "Boom", "Cause": "it broke"})))
    assert (result.status, result.error, result.cause) == ("FAILED", "Boom", "it broke")


def test_fail_error_path_and_cause_path_select_from_the_input():
    result, _ = run(machine(("F", {"Type": "Fail", "ErrorPath": "$.e",
                                   "CausePath": "States.Format('n={}', $.n)"})),
                    {"e": "E1", "n": 4})
    assert (result.error, result.cause) == ("E1", "n=4")


def test_runtime_error_names_the_state_and_its_entered_event():
    result, _ = run(machine(("P", {"Type": "Pass", "Next": "Q"}),
                            ("Q", {"Type": "Pass", "InputPath": "$.missing", "End": True})))
    assert result.error == "States.Runtime"
    assert result.cause.startswith("An error occurred while executing the state 'Q' "
                                   "(entered at the event id #4). Invalid path '$.missing'")


# -- Choice ----------------------------------------------------------------------------------

CHOICE = machine(
    ("C", {"Type": "Choice", "Choices": [
        {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"},
        {"And": [{"Variable": "$.n", "IsNumeric": True},
                 {"Variable": "$.n", "NumericLessThanPath": "$.limit"}], "Next": "Small"}],
           "Default": "Other"}),
    ("Big", {"Type": "Pass", "Result": "big", "End": True}),
    ("Small", {"Type": "Pass", "Result": "small", "End": True}),
    ("Other", {"Type": "Pass", "Result": "other", "End": True}))


@pytest.mark.parametrize("value, expected", [({"n": 11}, "big"), ({"n": 1, "limit": 5}, "small"),
                                             ({"n": 7, "limit": 5}, "other")])
def test_choice_follows_the_first_matching_rule_or_the_default(value, expected):
    result, _ = run(CHOICE, value)
    assert result.output == expected


def test_choice_without_match_or_default_fails_with_no_choice_matched():
    definition = machine(("C", {"Type": "Choice", "Choices": [
        {"Variable": "$.n", "NumericEquals": 1, "Next": "D"}]}), ("D", {"Type": "Succeed"}))
    result, _ = run(definition, {"n": 2})
    assert (result.status, result.error) == ("FAILED", "States.NoChoiceMatched")


def test_choice_jsonata_condition_and_rule_output():
    definition = machine(("C", {"Type": "Choice", "QueryLanguage": "JSONata", "Choices": [
        {"Condition": "{% $states.input.n > 1 %}", "Output": {"seen": "{% $states.input.n %}"},
         "Next": "D"}], "Default": "D"}), ("D", {"Type": "Succeed"}))
    result, _ = run(definition, {"n": 2})
    assert result.output == {"seen": 2}


def test_choice_state_level_assign_and_output_serve_only_the_default():
    definition = machine(("C", {"Type": "Choice", "QueryLanguage": "JSONata", "Choices": [
        {"Condition": "{% $states.input.n = 1 %}", "Assign": {"how": "rule"}, "Next": "D"}],
        "Default": "D", "Assign": {"how": "default"}, "Output": {"via": "default"}}),
        ("D", {"Type": "Pass", "QueryLanguage": "JSONata",
               "Output": {"how": "{% $how %}", "in": "{% $states.input %}"}, "End": True}))
    matched, _ = run(definition, {"n": 1})
    assert matched.output == {"how": "rule", "in": {"n": 1}}
    defaulted, _ = run(definition, {"n": 2})
    assert defaulted.output == {"how": "default", "in": {"via": "default"}}


# -- Wait ------------------------------------------------------------------------------------

def test_wait_seconds_sleeps_on_the_engine_clock():
    result, clock = run(machine(("W", {"Type": "Wait", "Seconds": 3600, "End": True})), {"k": 1})
    assert result.output == {"k": 1}
    assert clock.sleeps == [3600]


def test_wait_seconds_path_and_timestamp_path():
    clock = VirtualClock(start=1_000.0)
    definition = machine(("A", {"Type": "Wait", "SecondsPath": "$.s", "Next": "B"}),
                         ("B", {"Type": "Wait", "TimestampPath": "$.t", "End": True}))
    run(definition, {"s": 5, "t": "1970-01-01T00:20:05Z"}, clock=clock)
    assert clock.sleeps == [5, 200]  # 1005 s -> 1205 s


@pytest.mark.parametrize("value, cause", [
    (None, "The SecondsPath parameter does not reference an input value: $.s"),
    ({"s": "ten"}, "The SecondsPath parameter cannot be parsed as a long value: $.s == ten"),
    ({"s": -1}, "The SecondsPath parameter references a negative value: $.s == -1"),
])
def test_wait_seconds_path_errors_use_aws_words(value, cause):
    result, _ = run(machine(("W", {"Type": "Wait", "SecondsPath": "$.s", "End": True})),
                    value or {})
    assert result.error == "States.Runtime" and result.cause.endswith(cause)


def test_wait_for_a_past_timestamp_does_not_sleep():
    result, clock = run(machine(("W", {"Type": "Wait", "Timestamp": "2016-03-14T01:59:00Z",
                                       "End": True})))
    assert result.status == "SUCCEEDED" and clock.sleeps == []


def test_wait_timestamp_without_offset_fails_as_aws_does():
    result, _ = run(machine(("W", {"Type": "Wait", "TimestampPath": "$.t", "End": True})),
                    {"t": "2016-12-05T21:29:29"})
    assert result.error == "States.Runtime"
    assert result.cause.endswith("The TimestampPath parameter does not reference a valid "
                                 "ISO-8601 extended offset date-time format string: "
                                 "$.t == 2016-12-05T21:29:29")


def test_wait_jsonata_seconds_expression():
    _, clock = run(machine(("W", {"Type": "Wait", "QueryLanguage": "JSONata",
                                  "Seconds": "{% $states.input.s * 2 %}", "End": True})),
                   {"s": 4})
    assert clock.sleeps == [8]


# -- Parallel --------------------------------------------------------------------------------

def test_parallel_gives_each_branch_the_input_and_collects_outputs_in_order():
    branch = lambda name, result: {"StartAt": name, "States": {  # noqa: E731
        name: {"Type": "Pass", "Result": result, "End": True}}}
    definition = machine(("P", {"Type": "Parallel", "Branches": [
        branch("A", 1), {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}},
        branch("C", 3)], "End": True}))
    result, _ = run(definition, {"in": 1})
    assert result.output == [1, {"in": 1}, 3]


def test_parallel_fails_with_the_failing_branch_error_which_catch_handles():
    definition = machine(
        ("P", {"Type": "Parallel", "Branches": [
            {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "c"}}}],
            "Catch": [{"ErrorEquals": ["E"], "ResultPath": "$.err", "Next": "Done"}],
            "Next": "Done"}),
        ("Done", {"Type": "Succeed"}))
    result, _ = run(definition, {"a": 1})
    assert result.output == {"a": 1, "err": {"Error": "E", "Cause": "c"}}
    kinds = [e["type"] for e in result.events]
    assert kinds.index("ParallelStateFailed") < kinds.index("ParallelStateExited")


def test_parallel_jsonata_arguments_feed_every_branch_and_output_shapes_the_result():
    definition = machine(("P", {"Type": "Parallel", "QueryLanguage": "JSONata",
                                "Arguments": {"n": "{% $states.input.n + 1 %}"},
                                "Branches": [{"StartAt": "A", "States": {"A": {
                                    "Type": "Pass", "Output": "{% $states.input.n * 2 %}",
                                    "End": True}}},
                                    {"StartAt": "B", "States": {"B": {"Type": "Pass",
                                                                      "End": True}}}],
                                "Output": {"r": "{% $states.result %}"}, "End": True}))
    result, _ = run(definition, {"n": 1})
    assert result.output == {"r": [4, {"n": 2}]}


def test_retry_of_a_parallel_state_reruns_every_branch():
    calls = []

    def flaky(request):
        calls.append(1)
        if len(calls) < 3:
            raise StatesError("Flaky", "try again")
        return "ok"

    definition = machine(("P", {"Type": "Parallel", "Branches": [
        {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::test:f",
                                          "End": True}}}],
        "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 2}], "End": True}))
    result, clock = run(definition, tasks=registry(f=flaky))
    assert result.output == ["ok"] and clock.sleeps == [2, 4]
    assert [e["type"] for e in result.events].count("ParallelStateStarted") == 3


# -- Map -------------------------------------------------------------------------------------

def test_map_runs_every_item_with_the_item_selector_and_map_context():
    definition = machine(("M", {"Type": "Map", "ItemsPath": "$.xs", "ItemSelector": {
        "v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index", "k.$": "$.k"},
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "ResultPath": "$.out", "End": True}))
    result, _ = run(definition, {"xs": ["a", "b"], "k": 0})
    assert result.output["out"] == [{"v": "a", "i": 0, "k": 0}, {"v": "b", "i": 1, "k": 0}]


def test_map_max_concurrency_path_accepts_a_numeric_string():
    definition = machine(("M", {"Type": "Map", "MaxConcurrencyPath": "$.c", "ItemsPath": "$.xs",
                                "ItemProcessor": {"StartAt": "P", "States": {
                                    "P": {"Type": "Pass", "End": True}}}, "End": True}))
    result, _ = run(definition, {"c": "2", "xs": [1, 2, 3]})
    assert result.output == [1, 2, 3]
    bad, _ = run(definition, {"c": "two", "xs": [1]})
    assert bad.error == "States.Runtime" and "MaxConcurrencyPath" in bad.cause


@pytest.mark.parametrize("field, value, cause", [
    ("MaxConcurrencyPath", -1, "Expected non-negative integer for MaxConcurrency, got '-1' "
                               "instead."),
    ("ToleratedFailurePercentagePath", 101, "ToleratedFailurePercentage must be between 0 "
                                            "and 100."),
    ("ToleratedFailurePercentagePath", "x", 'The ToleratedFailurePercentagePath field refers '
                                            'to value "x" which is not a valid float: $.v'),
    ("ToleratedFailureCountPath", [], 'The ToleratedFailureCountPath field refers to value '
                                      '"[]" which is not a valid integer: $.v'),
])
def test_map_limit_paths_refuse_bad_values_in_aws_words(field, value, cause):
    definition = machine(("M", {"Type": "Map", field: "$.v", "ItemsPath": "$.xs",
                                "ItemProcessor": {"StartAt": "P", "States": {
                                    "P": {"Type": "Pass", "End": True}}}, "End": True}))
    result, _ = run(definition, {"v": value, "xs": [1]})
    assert result.error == "States.Runtime" and result.cause.endswith(cause)


def test_map_of_jsonata_items_and_output():
    definition = machine(("M", {"Type": "Map", "QueryLanguage": "JSONata",
                                "Items": "{% $states.input.xs %}",
                                "ItemProcessor": {"StartAt": "P", "States": {"P": {
                                    "Type": "Pass", "Output": "{% $states.input * 10 %}",
                                    "End": True}}},
                                "Output": "{% $sum($states.result) %}", "End": True}))
    result, _ = run(definition, {"xs": [1, 2, 3]})
    assert result.output == 60


FAILING_MAP = {"Type": "Map", "ItemProcessor": {"StartAt": "C", "States": {
    "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 0, "Next": "F"}],
          "Default": "OK"},
    "F": {"Type": "Fail", "Error": "Zero", "Cause": "item is 0"},
    "OK": {"Type": "Pass", "End": True}}}, "End": True}


def test_map_tolerates_failures_up_to_the_tolerated_count():
    result, _ = run(machine(("M", {**FAILING_MAP, "ToleratedFailureCount": 1})), [1, 0, 2])
    assert result.status == "SUCCEEDED"
    assert result.output == [1, {"Error": "Zero", "Cause": "item is 0"}, 2]


def test_map_beyond_tolerated_failures_fails_with_exceed_threshold():
    result, _ = run(machine(("M", {**FAILING_MAP, "ToleratedFailurePercentage": 10})),
                    [1, 0, 2])
    assert result.error == "States.ExceedToleratedFailureThreshold"


def test_map_without_tolerance_fails_with_the_iteration_error():
    result, _ = run(machine(("M", FAILING_MAP)), [1, 0, 2])
    assert (result.error, result.cause) == ("Zero", "item is 0")


def test_map_runs_task_iterations_concurrently_up_to_max_concurrency():
    active, peak, lock = [0], [0], threading.Lock()

    def handler(request):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return request.parameters * 2

    definition = machine(("M", {"Type": "Map", "MaxConcurrency": 3, "ItemProcessor": {
        "StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::test:x2",
                                         "End": True}}}, "End": True}))
    result, _ = run(definition, list(range(9)), tasks=registry(x2=handler), clock=RealClock())
    assert result.output == [i * 2 for i in range(9)]
    assert peak[0] == 3


def test_item_batcher_groups_items_with_the_batch_input():
    definition = machine(("M", {"Type": "Map", "ItemsPath": "$.xs", "ItemBatcher": {
        "MaxItemsPerBatch": 2, "BatchInput": {"k.$": "$.k"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "End": True}))
    result, _ = run(definition, {"xs": [1, 2, 3], "k": 0})
    assert result.output == [{"BatchInput": {"k": 0}, "Items": [1, 2]},
                             {"BatchInput": {"k": 0}, "Items": [3]}]


def test_item_batcher_max_input_bytes_per_batch():
    definition = machine(("M", {"Type": "Map", "ItemBatcher": {"MaxInputBytesPerBatch": 7},
                                "ItemProcessor": {"StartAt": "P", "States": {
                                    "P": {"Type": "Pass", "End": True}}}, "End": True}))
    result, _ = run(definition, [1, 2, 3, 4, 5])
    assert result.output == [{"Items": [1, 2, 3]}, {"Items": [4, 5]}]


def test_a_failing_iteration_aborts_the_sleeping_ones_at_once():
    definition = machine(("M", {"Type": "Map", "MaxConcurrency": 2, "ItemProcessor": {
        "StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 0,
                                                 "Next": "F"}], "Default": "W"},
            "F": {"Type": "Fail", "Error": "Zero"},
            "W": {"Type": "Wait", "Seconds": 30, "End": True}}}, "End": True}))
    started = time.monotonic()
    result, _ = run(definition, [1, 0, 1, 1], clock=RealClock())
    assert result.error == "Zero"
    assert time.monotonic() - started < 5
    assert "MapIterationAborted" in [e["type"] for e in result.events]


# -- Task ------------------------------------------------------------------------------------

def test_task_gets_resolved_parameters_and_result_selector_shapes_the_result():
    seen = []

    def handler(request):
        seen.append((request.parameters, request.state_name, request.context["State"]["Name"]))
        return {"Payload": {"n": request.parameters["n"] + 1}, "Meta": 1}

    definition = machine(("T", {"Type": "Task", "Resource": "arn:aws:states:::test:inc",
                                "Parameters": {"n.$": "$.n"},
                                "ResultSelector": {"n.$": "$.Payload.n"},
                                "ResultPath": "$.r", "End": True}))
    result, _ = run(definition, {"n": 1}, tasks=registry(inc=handler))
    assert result.output == {"n": 1, "r": {"n": 2}}
    assert seen == [({"n": 1}, "T", "T")]


def test_task_jsonata_arguments_and_output_see_states_result():
    definition = machine(("T", {"Type": "Task", "QueryLanguage": "JSONata",
                                "Resource": "arn:aws:states:::test:echo",
                                "Arguments": {"v": "{% $states.input.v %}"},
                                "Output": {"got": "{% $states.result.v %}"}, "End": True}))
    result, _ = run(definition, {"v": 5}, tasks=registry(echo=lambda r: r.parameters))
    assert result.output == {"got": 5}


def test_task_handler_error_becomes_task_failed_and_the_execution_fails():
    def handler(request):
        raise StatesError("SageMaker.ResourceInUse", "job exists")

    result, _ = run(machine(("T", {"Type": "Task", "Resource": "arn:aws:states:::test:f",
                                   "End": True})), tasks=registry(f=handler))
    assert (result.error, result.cause) == ("SageMaker.ResourceInUse", "job exists")
    assert [e["type"] for e in result.events][-2:] == ["TaskFailed", "ExecutionFailed"]


def test_task_timeout_cancels_the_handler_and_fails_with_states_timeout():
    clock = VirtualClock()
    cancelled = []

    def handler(request):
        while not request.cancelled.wait(0.01):
            clock.advance(1)
        cancelled.append(True)

    definition = machine(("T", {"Type": "Task", "Resource": "arn:aws:states:::test:slow",
                                "TimeoutSeconds": 5, "End": True}))
    result, _ = run(definition, tasks=registry(slow=handler), clock=clock)
    assert (result.error, result.cause) == ("States.Timeout", None)  # AWS records no cause
    assert cancelled == [True]
    assert "TaskTimedOut" in [e["type"] for e in result.events]
    assert result.events[-1]["details"] == {"executionFailedEventDetails": {
        "error": "States.Timeout"}}


def test_timeout_seconds_path_reads_the_effective_input():
    seen = []
    definition = machine(("T", {"Type": "Task", "Resource": "arn:aws:states:::test:t",
                                "InputPath": "$.cfg", "TimeoutSecondsPath": "$.limit",
                                "End": True}))
    run(definition, {"cfg": {"limit": 42}}, tasks=registry(t=lambda r: seen.append(
        r.timeout_seconds)))
    assert seen == [42]


@pytest.mark.parametrize("limit", [1.5, 0, -3, "10", True])
def test_timeout_seconds_path_must_lead_to_a_positive_integer(limit):
    definition = machine(("T", {"Type": "Task", "Resource": "arn:aws:states:::test:t",
                                "TimeoutSecondsPath": "$.limit", "End": True}))
    result, _ = run(definition, {"limit": limit}, tasks=registry(t=lambda r: "ran"))
    assert result.error == "States.Runtime"
    assert "not a valid positive integer" in result.cause


def test_task_without_heartbeat_fails_with_heartbeat_timeout():
    clock = VirtualClock()

    def handler(request):
        while not request.cancelled.wait(0.01):
            clock.advance(1)

    definition = machine(("T", {"Type": "Task", "Resource": "arn:aws:states:::test:quiet",
                                "HeartbeatSeconds": 3, "TimeoutSeconds": 100, "End": True}))
    result, _ = run(definition, tasks=registry(quiet=handler), clock=clock)
    # as AWS records it (TaskTimedOut and ExecutionFailed): States.Timeout, no cause
    assert (result.error, result.cause) == ("States.Timeout", None)
    timed_out = [e for e in result.events if e["type"] == "TaskTimedOut"]
    assert timed_out[0]["details"]["taskTimedOutEventDetails"] == {
        "resourceType": "test", "resource": "quiet", "error": "States.Timeout"}


def test_a_catcher_for_states_timeout_catches_a_missed_heartbeat():
    clock = VirtualClock()

    def handler(request):
        while not request.cancelled.wait(0.01):
            clock.advance(1)

    definition = machine(("T", {"Type": "Task", "Resource": "arn:aws:states:::test:quiet",
                                "HeartbeatSeconds": 3, "TimeoutSeconds": 100,
                                "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "No"},
                                          {"ErrorEquals": ["States.Timeout"], "Next": "Yes"}],
                                "End": True}),
                         ("No", {"Type": "Fail", "Error": "WrongCatcher"}),
                         ("Yes", {"Type": "Pass", "End": True}))
    result, _ = run(definition, tasks=registry(quiet=handler), clock=clock)
    assert result.status == "SUCCEEDED"
    assert result.output == {"Error": "States.Timeout"}


@pytest.mark.parametrize("limits, caught", [({"HeartbeatSeconds": 3, "TimeoutSeconds": 100}, True),
                                            ({"TimeoutSeconds": 3}, False)])
def test_states_heartbeat_timeout_matches_a_missed_heartbeat_only(limits, caught):
    clock = VirtualClock()

    def handler(request):
        while not request.cancelled.wait(0.01):
            clock.advance(1)

    definition = machine(("T", {"Type": "Task", "Resource": "arn:aws:states:::test:quiet",
                                **limits, "End": True,
                                "Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"],
                                           "Next": "Yes"}]}),
                         ("Yes", {"Type": "Pass", "End": True}))
    result, _ = run(definition, tasks=registry(quiet=handler), clock=clock)
    assert (result.status == "SUCCEEDED") is caught
    assert result.error == (None if caught else "States.Timeout")


def test_stop_aborts_the_execution_and_cancels_its_running_task():
    started, cancelled = threading.Event(), threading.Event()

    def handler(request):
        started.set()
        request.cancelled.wait(5)
        cancelled.set()

    definition = machine(("T", {"Type": "Task", "Resource": "arn:aws:states:::test:long",
                                "End": True}))
    execution = prepare_execution(definition, {}, tasks=registry(long=handler),
                                  clock=RealClock())
    worker = threading.Thread(target=execution.run)
    worker.start()
    assert started.wait(5)
    execution.stop("Stopped", "by the test")
    worker.join(5)
    assert execution.result.status == "ABORTED"
    assert cancelled.is_set()
    assert execution.result.events[-1]["type"] == "ExecutionAborted"


def test_execution_timeout_seconds_ends_as_timed_out():
    result, _ = run(machine(("W", {"Type": "Wait", "Seconds": 100, "End": True}),
                            TimeoutSeconds=10))
    assert result.status == "TIMED_OUT"
    assert result.events[-1]["type"] == "ExecutionTimedOut"
    # as AWS's recorded DescribeExecution of a timed-out execution: no error, no cause
    assert "error" not in result.describe() and "cause" not in result.describe()


def test_execution_timeout_stops_an_endless_loop_of_pure_states():
    result, _ = run(machine(("A", {"Type": "Pass", "Next": "A"}), TimeoutSeconds=1),
                    clock=RealClock())
    assert result.status == "TIMED_OUT"


def test_credentials_pass_through_to_the_handler():
    seen = []
    definition = machine(("T", {"Type": "Task", "Resource": "arn:aws:states:::test:c",
                                "Credentials": {"RoleArn.$": "$.role"}, "End": True}))
    run(definition, {"role": "arn:aws:iam::1:role/x"},
        tasks=registry(c=lambda r: seen.append(r.credentials)))
    assert seen == [{"RoleArn": "arn:aws:iam::1:role/x"}]


# -- variables -------------------------------------------------------------------------------

def test_assign_sets_variables_for_later_states_in_both_languages():
    definition = machine(
        ("A", {"Type": "Pass", "Result": {"x": 2}, "Assign": {"x.$": "$.x", "k": "lit"},
               "Next": "B"}),
        ("B", {"Type": "Pass", "QueryLanguage": "JSONata",
               "Assign": {"y": "{% $x * 10 %}"}, "Output": {"x": "{% $x %}"}, "Next": "C"}),
        ("C", {"Type": "Pass", "Parameters": {"y.$": "$y", "k.$": "$k"}, "End": True}))
    result, _ = run(definition)
    assert result.output == {"y": 20, "k": "lit"}


def test_variables_assigned_inside_a_map_iteration_do_not_leak_out():
    definition = machine(
        ("A", {"Type": "Pass", "Assign": {"outer": 1}, "Next": "M"}),
        ("M", {"Type": "Map", "ItemProcessor": {"StartAt": "I", "States": {"I": {
            "Type": "Pass", "Assign": {"inner.$": "$"}, "Parameters": {"o.$": "$outer"},
            "End": True}}}, "Next": "B"}),
        ("B", {"Type": "Pass", "Parameters": {"outer.$": "$outer"}, "End": True}))
    result, _ = run(definition, [1, 2])
    assert result.output == {"outer": 1}
    assert [e for e in result.events if e["type"] == "PassStateExited"][1]["details"][
        "stateExitedEventDetails"]["assignedVariables"] == {"inner": "{\"o\":1}"}


def test_state_output_over_256_kib_fails_with_data_limit_exceeded():
    result, _ = run(machine(("A", {"Type": "Pass", "Result": "x" * 300_000, "End": True})))
    assert result.error == "States.DataLimitExceeded"
