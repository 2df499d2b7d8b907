"""Definition loading: dataclasses out, every problem reported with its JSON pointer."""

from __future__ import annotations

import pytest

from smlift.asl.definition import (ABSENT, MapState, ParallelState, PassState, TaskState,
                                   load_definition)
from smlift.asl.tasks import TaskRegistry
from smlift.errors import DefinitionError


def problems(definition, tasks=None):
    with pytest.raises(DefinitionError) as caught:
        load_definition(definition, tasks)
    return caught.value.problems


def pointers(definition, tasks=None):
    return [where for where, _ in problems(definition, tasks)]


def test_a_valid_definition_loads_into_frozen_dataclasses():
    machine = load_definition({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "ResultPath": None, "Next": "M"},
        "M": {"Type": "Map", "ItemProcessor": {"StartAt": "I", "States": {
            "I": {"Type": "Pass", "End": True}}}, "Next": "P"},
        "P": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {
            "B": {"Type": "Succeed"}}}], "End": True}}})
    a, m, p = machine.states["A"], machine.states["M"], machine.states["P"]
    assert isinstance(a, PassState) and a.result_path is None and a.input_path is ABSENT
    assert isinstance(m, MapState) and m.processor.start_at == "I"
    assert isinstance(p, ParallelState) and p.branches[0].states["B"].type == "Succeed"
    with pytest.raises(AttributeError):
        a.next = "X"


def test_definition_text_is_parsed_and_bad_json_is_reported():
    assert load_definition('{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}').start_at == "A"
    with pytest.raises(DefinitionError, match="not valid JSON"):
        load_definition("{nope")


def test_unknown_fields_are_reported_where_they_are():
    found = problems({"StartAt": "A", "Extra": 1, "States": {
        "A": {"Type": "Pass", "Color": "red", "End": True}}})
    assert [w for w, _ in found] == ["/Extra", "/States/A/Color"]
    assert "'Color' is not supported" in found[1][1]


def test_a_state_needs_next_or_end_and_its_targets_must_exist():
    assert pointers({"StartAt": "A", "States": {"A": {"Type": "Pass"}}}) == ["/States/A"]
    found = problems({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}})
    assert found == [("/States/A/Next", "MISSING_TRANSITION_TARGET: Missing 'Next' target: "
                                        "Nowhere")]


def test_unreachable_states_are_reported():
    found = problems({"StartAt": "A", "States": {"A": {"Type": "Succeed"},
                                                 "Lost": {"Type": "Succeed"}}})
    assert found[0][0] == "/States/Lost" and "UNREACHABLE_STATE" in found[0][1]


def test_states_reached_only_by_catch_or_choice_are_reachable():
    states = {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": True,
                                             "Next": "T"}], "Default": "D"},
        "T": {"Type": "Parallel", "Branches": [{"StartAt": "X", "States": {
            "X": {"Type": "Succeed"}}}], "Catch": [{"ErrorEquals": ["States.ALL"],
                                                    "Next": "H"}], "End": True},
        "H": {"Type": "Succeed"}, "D": {"Type": "Succeed"}}
    machine = load_definition({"StartAt": "C", "States": states})
    assert sorted(machine.states) == ["C", "D", "H", "T"]
    assert machine.states["T"].catch[0].next == "H"
    # the same machine with a state nothing leads to is refused: the check above was live
    orphan = {**states, "U": {"Type": "Succeed"}}
    assert pointers({"StartAt": "C", "States": orphan}) == ["/States/U"]


def test_every_problem_is_reported_at_once_including_nested_machines():
    found = pointers({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "InputPath": "$[", "Next": "M"},
        "M": {"Type": "Map", "ItemProcessor": {"StartAt": "I", "States": {
            "I": {"Type": "Wait", "End": True}}}, "End": True}}})
    assert found == ["/States/A/InputPath", "/States/M/ItemProcessor/States/I"]


def test_bad_payload_paths_intrinsics_and_jsonata_are_reported():
    found = pointers({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Parameters": {"x.$": "States.Nope(1)", "y.$": "$$["},
              "Next": "B"},
        "B": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $states.input. %}",
              "End": True}}})
    assert found == ["/States/A/Parameters/x.$", "/States/A/Parameters/y.$", "/States/B/Output"]


def test_query_language_fields_belong_to_their_language():
    found = problems({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
        "A": {"Type": "Pass", "InputPath": "$.a", "Next": "B"},
        "B": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": True}}})
    assert [w for w, _ in found] == ["/States/A/InputPath", "/States/B/QueryLanguage"]
    assert pointers({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Output": {}, "End": True}}}) == ["/States/A/Output"]


def test_a_task_resource_without_a_local_handler_is_a_definition_error():
    tasks = TaskRegistry()
    tasks.register("arn:aws:states:::sagemaker:createProcessingJob.sync", lambda r: None)
    found = problems({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}}}, tasks)
    assert found[0][0] == "/States/T/Resource"
    assert "createProcessingJob.sync" in found[0][1]
    machine = load_definition({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::sagemaker:createProcessingJob.sync",
        "End": True}}}, tasks)
    assert isinstance(machine.states["T"], TaskState) and machine.blocking


def test_states_all_must_be_alone_and_last():
    found = pointers({"StartAt": "T", "States": {"T": {
        "Type": "Parallel", "Branches": [{"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}],
        "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["E"]}],
        "Catch": [{"ErrorEquals": ["States.ALL", "E"], "Next": "T"}], "End": True}}})
    assert found == ["/States/T/Retry/0/ErrorEquals", "/States/T/Catch/0/ErrorEquals"]


def test_retrier_values_are_checked():
    found = pointers({"StartAt": "T", "States": {"T": {
        "Type": "Parallel", "Branches": [{"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}],
        "Retry": [{"ErrorEquals": ["E"], "BackoffRate": 0.5, "MaxAttempts": -1,
                   "JitterStrategy": "SOME"}], "End": True}}})
    assert found == ["/States/T/Retry/0/MaxAttempts", "/States/T/Retry/0/BackoffRate",
                     "/States/T/Retry/0/JitterStrategy"]


def test_wait_needs_exactly_one_form_and_a_valid_timestamp():
    assert pointers({"StartAt": "W", "States": {"W": {
        "Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "End": True}}}) == ["/States/W"]
    assert pointers({"StartAt": "W", "States": {"W": {
        "Type": "Wait", "Timestamp": "2016-03-14 01:59:00", "End": True}}}) == \
        ["/States/W/Timestamp"]


def test_the_error_message_names_the_first_problem_and_counts_the_rest():
    with pytest.raises(DefinitionError) as caught:
        load_definition({"StartAt": "Z", "States": {"A": {"Type": "Bogus"}}})
    error = caught.value
    assert error.where == "/States/A/Type"
    assert "(and 1 more)" in error.message
