"""JSONPath selection, payload templates, InputPath/ResultPath/OutputPath and path checks."""

import pytest

from smlift.asl.paths import (MISSING, PathNotFound, apply_input_path, apply_output_path,
                              apply_result_path, check_path, check_payload,
                              check_reference_path, resolve_payload, select_path)
from smlift.errors import StatesError

DOC = {"a": {"b": [1, 2, {"c": 3}]}, "x y": 5, "n": None,
       "items": [{"id": 1, "x": 2, "tag": "red"}, {"id": 2, "x": 0, "tag": "blue"},
                 {"id": 3, "tag": "red"}]}


@pytest.mark.parametrize("path, expected", [
    ("$", DOC), ("$.a.b[0]", 1), ("$.a.b[-1].c", 3), ("$['x y']", 5), ('$["x y"]', 5),
    ("$.n", None), ("$.a['b'][2]['c']", 3)])
def test_definite_paths_select_one_value(path, expected):
    assert select_path(path, DOC) == expected


@pytest.mark.parametrize("path, expected", [
    ("$.items[*].id", [1, 2, 3]), ("$.a.b[1:3]", [2, {"c": 3}]), ("$.a.b[:1]", [1]),
    ("$.a.b[-2:]", [2, {"c": 3}]), ("$..id", [1, 2, 3]), ("$..c", [3]),
    ("$.items[?(@.x > 1)].id", [1]), ("$.items[?(@.x)].id", [1, 2]),
    ("$.items[?(@.tag == 'red' && @.id > 1)].id", [3]),
    ("$.items[?(@.tag == 'blue' || @.id == 1)].id", [1, 2]),
    ("$.items[?(@.tag != 'red')].id", [2]), ("$.items[0,2].id", [1, 3]),
    ("$.nope[*]", []), ("$.items[?(@.x > 5)]", []), ("$.items.length()", 3),
    ("$.items[?(@.tag in ['blue', 'green'])].id", [2]), ("$.items[?(@.id nin [1, 2])].id", [3]),
    ("$.items[?(@.tag =~ /r.*/)].id", [1, 3]), ("$.items[?(!(@.x))].id", [3])])
def test_indefinite_paths_return_a_list_of_matches(path, expected):
    assert select_path(path, DOC) == expected


def test_a_definite_path_that_matches_nothing_fails_like_aws():
    with pytest.raises(PathNotFound) as info:
        select_path("$.NoSuchInputPath", {"a": 1})
    assert info.value.error == "States.Runtime"
    assert info.value.cause == ("Invalid path '$.NoSuchInputPath' : "
                                "No results for path: $['NoSuchInputPath']")


@pytest.mark.parametrize("path", ["$.a.b[3]", "$.a.b.c", "$['x y'].z", "$.a[0]", "$.n.x"])
def test_missing_fields_indexes_and_wrong_types_are_not_found(path):
    with pytest.raises(PathNotFound):
        select_path(path, DOC)


def test_context_object_and_variables_are_roots():
    context = {"Execution": {"Id": "arn:x"}, "Map": {"Item": {"Value": 7, "Index": 0}}}
    assert select_path("$$.Map.Item.Value", {}, context=context) == 7
    assert select_path("$$", {}, context=context) == context
    assert select_path("$v", {}, variables={"v": [1]}) == [1]
    assert select_path("$v[0]", {}, variables={"v": [1]}) == 1
    assert select_path("$v.a.b", {}, variables={"v": {"a": {"b": None}}}) is None


def test_an_undefined_variable_is_a_runtime_error():
    with pytest.raises(StatesError) as info:
        select_path("$nope.a", {}, variables={})
    assert info.value.error == "States.Runtime"


def test_selection_does_not_copy_or_mutate():
    value = {"a": {"b": 1}}
    assert select_path("$.a", value) is value["a"]


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


# ------------------------------------------------------------------ validation

@pytest.mark.parametrize("path", ["$", "$.a", "$$.Execution.Id", "$var", "$var.a[0]",
                                  "$.a[*]", "$..x", "$.a[1:2]", "$.a[?(@.x > 1)]"])
def test_valid_paths_pass_check_path(path):
    assert check_path(path) is None


@pytest.mark.parametrize("path", ["a", "", "$.a[", "$.a[?(@.x >)]", "$.a.", 3, None])
def test_invalid_paths_fail_check_path(path):
    assert check_path(path)


def test_context_and_variables_can_be_refused():
    assert check_path("$$.a", allow_context=False)
    assert check_path("$v", allow_variables=False)


@pytest.mark.parametrize("path, ok", [("$", True), ("$.a.b", True), ("$.a[0]", True),
                                      ("$.a[*]", False), ("$..a", False), ("$$.a", False),
                                      ("$v", False)])
def test_result_path_must_be_a_reference_path(path, ok):
    assert (check_reference_path(path) is None) is ok


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


SETS = {"l": [{"id": 1, "t": ["a", "b"]}, {"id": 2, "t": []}, {"id": 3, "t": ["c"]}]}


@pytest.mark.parametrize("condition, ids", [
    ("@.t subsetof ['a', 'b', 'c']", [1, 2, 3]), ("@.t anyof ['c', 'q']", [3]),
    ("@.t noneof ['a']", [2, 3]), ("@.t size 2", [1]), ("@.t empty true", [2])])
def test_filters_support_jayway_set_operators(condition, ids):
    assert select_path(f"$.l[?({condition})].id", SETS) == ids
