"""JSONPath selection and path checks (`smlift.asl.jsonpath`)."""

import pytest

from smlift.asl.jsonpath import (PathNotFound, check_path, check_reference_path, json_equal,
                                 json_type, select_path, to_json)
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


SETS = {"l": [{"id": 1, "t": ["a", "b"]}, {"id": 2, "t": []}, {"id": 3, "t": ["c"]}]}


@pytest.mark.parametrize("condition, ids", [
    ("@.t subsetof ['a', 'b', 'c']", [1, 2, 3]), ("@.t anyof ['c', 'q']", [3]),
    ("@.t noneof ['a']", [2, 3]), ("@.t size 2", [1]), ("@.t empty true", [2])])
def test_filters_support_jayway_set_operators(condition, ids):
    assert select_path(f"$.l[?({condition})].id", SETS) == ids


# ------------------------------------------------------------------ JSON values

def test_json_helpers_follow_json_not_python():
    assert to_json({"a": [1, "é", None, True]}) == '{"a":[1,"é",null,true]}'
    assert [json_type(v) for v in (None, True, 1, 1.5, "s", [], {})] == [
        "null", "boolean", "number", "number", "string", "array", "object"]
    assert json_equal({"a": [1, 2.0]}, {"a": [1.0, 2]})
    assert not json_equal(True, 1) and not json_equal([1], [1, 2])
