"""Payload templates and InputPath/ResultPath/OutputPath (`smlift.asl.payload`)."""

import pytest

from smlift.asl.jsonpath import PathNotFound
from smlift.asl.payload import (MISSING, apply_input_path, apply_output_path, apply_result_path,
                                check_payload, resolve_payload)
from smlift.errors import StatesError

DOC = {"a": {"b": [1, 2, {"c": 3}]}, "x y": 5, "n": None,
       "items": [{"id": 1, "x": 2, "tag": "red"}, {"id": 2, "x": 0, "tag": "blue"},
                 {"id": 3, "tag": "red"}]}


# ------------------------------------------------------------------ payload templates

def test_payload_template_resolves_dollar_keys_and_keeps_literals():
    template = {"x.$": "$.a.b[0]", "lit": "$.a", "nested": {"y.$": "$['x y']"},
                "list": [{"z.$": "$$.Execution.Id"}, "plain", 3], "none": None}
    assert resolve_payload(template, DOC, context={"Execution": {"Id": "E"}}) == {
        "x": 1, "lit": "$.a", "nested": {"y": 5}, "list": [{"z": "E"}, "plain", 3],
        "none": None}


def test_payload_template_runs_intrinsic_functions():
    assert resolve_payload({"s.$": "States.Format('{}-{}', $.a.b[0], $v)"}, DOC,
                           variables={"v": "w"}) == {"s": "1-w"}


def test_payload_template_missing_path_names_the_field_and_the_input():
    with pytest.raises(StatesError) as info:
        resolve_payload({"value.$": "$.no_such_jsonpath"}, {"a": 1})
    assert info.value.error == "States.Runtime"
    assert info.value.cause == ("The JSONPath '$.no_such_jsonpath' specified for the field "
                                "'value.$' could not be found in the input '{\"a\":1}'")


def test_payload_template_does_not_mutate_the_template():
    template = {"a.$": "$"}
    resolve_payload(template, {"k": 1})
    assert template == {"a.$": "$"}


# ------------------------------------------------------------------ I/O processing

def test_input_path_absent_null_and_selected():
    assert apply_input_path({"a": 1}, MISSING) == {"a": 1}
    assert apply_input_path({"a": 1}, None) == {}
    assert apply_input_path({"a": {"b": 2}}, "$.a") == {"b": 2}
    assert apply_input_path({}, "$$.x", context={"x": 1}) == 1


def test_output_path_absent_null_and_selected():
    assert apply_output_path({"a": 1}, MISSING) == {"a": 1}
    assert apply_output_path({"a": 1}, None) == {}
    assert apply_output_path({"a": [5]}, "$.a[0]") == 5


def test_input_path_that_matches_nothing_is_a_runtime_error():
    with pytest.raises(PathNotFound):
        apply_input_path({}, "$.NoSuchInputPath")


def test_result_path_absent_replaces_null_discards_and_path_places():
    state_input = {"a": 1}
    assert apply_result_path(state_input, {"r": 2}, MISSING) == {"r": 2}
    assert apply_result_path(state_input, {"r": 2}, "$") == {"r": 2}
    assert apply_result_path(state_input, {"r": 2}, None) == {"a": 1}
    assert apply_result_path(state_input, {"r": 2}, "$.out") == {"a": 1, "out": {"r": 2}}


def test_result_path_creates_intermediate_objects_without_mutating_the_input():
    state_input = {"a": {"keep": 1}}
    result = apply_result_path(state_input, 9, "$.a.b.c")
    assert result == {"a": {"keep": 1, "b": {"c": 9}}}
    assert state_input == {"a": {"keep": 1}}


def test_result_path_replaces_an_existing_value_and_array_items():
    assert apply_result_path({"a": 1}, 2, "$.a") == {"a": 2}
    assert apply_result_path({"l": [1, 2]}, 9, "$.l[1]") == {"l": [1, 9]}


def test_result_path_into_a_non_object_fails():
    with pytest.raises(StatesError) as info:
        apply_result_path({"a": "text"}, 1, "$.a.b")
    assert info.value.error == "States.Runtime"
    with pytest.raises(StatesError):
        apply_result_path({"l": []}, 1, "$.l[0]")


def test_check_payload_reports_each_bad_dollar_value_with_its_pointer():
    template = {"ok.$": "$.a", "bad.$": "nope", "n": {"deep.$": "States.Nope()"},
                "l": [{"num.$": 1}], "fine": "nope"}
    problems = dict(check_payload(template, "/States/P/Parameters"))
    assert set(problems) == {"/States/P/Parameters/bad.$", "/States/P/Parameters/n/deep.$",
                             "/States/P/Parameters/l/0/num.$"}
    assert "must be a valid JSONPath" in problems["/States/P/Parameters/bad.$"]


def test_a_missing_path_inside_an_intrinsic_call_names_the_field():
    with pytest.raises(StatesError) as info:
        resolve_payload({"v.$": "States.Format($.nope, 1)"}, {"other": 1})
    assert info.value.error == "States.Runtime"
    assert info.value.cause == ("The JSONPath '$.nope' specified for the field 'v.$' could not "
                                "be found in the input '{\"other\":1}'")
