"""States.* intrinsic functions: parsing, every function's result, and AWS's failures."""

import hashlib
import json
import uuid

import pytest

from smlift.asl.intrinsics import (INTRINSICS, check_intrinsic, evaluate_intrinsic,
                                   format_value, is_intrinsic)
from smlift.errors import StatesError


def ev(expression, value=None, **scope):
    return evaluate_intrinsic(expression, {} if value is None else value, **scope)


def fails(expression, value=None, **scope) -> str:
    with pytest.raises(StatesError) as info:
        ev(expression, value, **scope)
    assert info.value.error == "States.IntrinsicFailure"
    return info.value.cause


def test_every_documented_function_is_registered():
    assert set(INTRINSICS) == {
        "States.Format", "States.StringToJson", "States.JsonToString", "States.Array",
        "States.ArrayPartition", "States.ArrayContains", "States.ArrayRange",
        "States.ArrayGetItem", "States.ArrayLength", "States.ArrayUnique",
        "States.Base64Encode", "States.Base64Decode", "States.Hash", "States.JsonMerge",
        "States.MathRandom", "States.MathAdd", "States.StringSplit", "States.UUID"}


# ---------------------------------------------------------------- parsing

def test_literal_arguments_of_every_kind_are_parsed():
    assert ev("States.Array('a', 1, -2.5, true, false, null)") == ["a", 1, -2.5, True, False, None]


def test_string_escapes_yield_the_escaped_characters():
    assert ev(r"States.Array('it\'s', 'a\\b', '\{\}')") == ["it's", "a\\b", "{}"]


def test_paths_to_input_context_and_variables_are_arguments():
    value = {"a": {"b": [10, 20]}, "x y": 3}
    result = ev("States.Array($, $.a.b[1], $['x y'], $$.Execution.Name, $v.k)", value,
                context={"Execution": {"Name": "run"}}, variables={"v": {"k": "var"}})
    assert result == [value, 20, 3, "run", "var"]


def test_nested_calls_are_evaluated_inside_out():
    expr = ("States.ArrayGetItem(States.StringSplit($.name, '-'), "
            "States.MathAdd(States.ArrayLength(States.StringSplit($.name, '-')), -1))")
    assert ev(expr, {"name": "a-b-c"}) == "c"


def test_more_than_ten_nested_calls_are_rejected():
    expr = "States.Array(" * 11 + ")" * 11
    assert "nested" in check_intrinsic(expr)
    assert check_intrinsic("States.Array(" * 10 + ")" * 10) is None


@pytest.mark.parametrize("expression", [
    "States.Nope(1)", "States.Array(1", "States.Array('a)", "States.Array(1,)",
    "States.Array(1) x", "States.Array(foo)", "States.Array($.a[)"])
def test_malformed_calls_are_reported_by_check_intrinsic(expression):
    assert check_intrinsic(expression)


def test_wrong_argument_count_is_a_validation_problem_and_a_runtime_failure():
    assert "takes 1 argument(s), but 2 were given" in check_intrinsic("States.ArrayLength($, $)")
    assert "takes 1 argument(s)" in fails("States.ArrayLength($, $)")


def test_is_intrinsic_recognises_calls_only():
    assert is_intrinsic("States.Format('x')")
    assert not is_intrinsic("$.States")
    assert not is_intrinsic(None)


def test_a_missing_path_argument_is_a_runtime_error():
    with pytest.raises(StatesError) as info:
        ev("States.ArrayLength($.nope)", {})
    assert info.value.error == "States.Runtime"


# ---------------------------------------------------------------- States.Format

def test_format_fills_placeholders_in_order():
    assert ev("States.Format('Hello {}, welcome to {}!', $.a, $.b)", {"a": "John", "b": "X"}) \
        == "Hello John, welcome to X!"


@pytest.mark.parametrize("value, text", [
    (None, "null"), (1, "1"), (1.1, "1.1"), (True, "true"), ("", ""),
    ({"Arg1": 1, "Arg2": []}, "{Arg1=1, Arg2=[]}"), ([1, "a", None], "[1, a, null]"),
    (1e10, "1.0E10"), (0.0001, "1.0E-4")])
def test_format_renders_values_as_aws_does(value, text):
    assert ev("States.Format('{}', $.v)", {"v": value}) == text
    assert format_value(value) == text


def test_format_escaped_braces_are_literal_text():
    assert ev(r"States.Format('\{\} {}', 'x')") == "{} x"


def test_format_template_may_come_from_a_path():
    assert ev("States.Format($.t, 'Pikachu')", {"t": "It's {}!"}) == "It's Pikachu!"


def test_format_with_too_few_arguments_fails():
    assert "placeholders" in fails("States.Format('{} {}', 1)")


# ---------------------------------------------------------------- JSON

@pytest.mark.parametrize("text, value", [
    ('{"Arg1": 1, "Arg2": []}', {"Arg1": 1, "Arg2": []}), ("[1, 2, \"x\"]", [1, 2, "x"]),
    ("true", True), ("1.1", 1.1), ("-0", 0), ("null", None), ("", None), (" ", None),
    ('"HelloWorld"', "HelloWorld")])
def test_string_to_json_parses_any_json_text(text, value):
    assert ev("States.StringToJson($.s)", {"s": text}) == value


def test_string_to_json_rejects_invalid_json_and_non_strings():
    assert "not a valid JSON" in fails("States.StringToJson('{x')")
    assert "must be a JSON string" in fails("States.StringToJson(1)")


def test_json_to_string_is_compact():
    assert ev("States.JsonToString($)", {"test": "object", "l": [1, 2.5]}) \
        == '{"test":"object","l":[1,2.5]}'


def test_json_merge_is_shallow_and_second_wins():
    assert ev("States.JsonMerge($.a, $.b, false)", {"a": {"x": {"k": 1}, "y": 1},
                                                    "b": {"x": {"j": 2}}}) \
        == {"x": {"j": 2}, "y": 1}


def test_json_merge_refuses_deep_mode_and_non_objects():
    assert "shallow" in fails("States.JsonMerge($.a, $.a, true)", {"a": {}})
    assert "must be a JSON object" in fails("States.JsonMerge($.a, 1, false)", {"a": {}})
    assert "must be a JSON boolean" in fails("States.JsonMerge($.a, $.a, 'false')", {"a": {}})


# ---------------------------------------------------------------- arrays

def test_array_builds_an_array_of_its_arguments():
    assert ev("States.Array($.id)", {"id": 123456}) == [123456]
    assert ev("States.Array()") == []


@pytest.mark.parametrize("items, size, chunks", [
    ([1, 2, 3, 4, 5, 6, 7, 8, 9], 4, [[1, 2, 3, 4], [5, 6, 7, 8], [9]]),
    ([0], 5, [[0]]), ([], 2, [])])
def test_array_partition_chunks_the_array(items, size, chunks):
    assert ev("States.ArrayPartition($.a, $.n)", {"a": items, "n": size}) == chunks


def test_array_partition_rejects_a_non_positive_chunk_size():
    assert "greater than 0" in fails("States.ArrayPartition(States.Array(1), 0)")
    assert "integer" in fails("States.ArrayPartition(States.Array(1), 1.5)")


@pytest.mark.parametrize("items, needle, found", [
    ([], None, False), ([[1, 2, 3], 2], [1, 2, 3], True), ([{"1": 2, "2": []}], {"1": 2, "2": []},
                                                                                 True),
    ([True, False], False, True), ([1], True, False), ([1], 1.0, True)])
def test_array_contains_compares_json_values(items, needle, found):
    assert ev("States.ArrayContains($.a, $.v)", {"a": items, "v": needle}) is found


def test_array_range_includes_the_end():
    assert ev("States.ArrayRange(1, 9, 2)") == [1, 3, 5, 7, 9]
    assert ev("States.ArrayRange(5, 1, -2)") == [5, 3, 1]


def test_array_range_limits_and_zero_step_fail():
    assert "at most 1000" in fails("States.ArrayRange(1, 2000, 1)")
    assert "must not be 0" in fails("States.ArrayRange(1, 2, 0)")


def test_array_get_item_returns_the_item_at_the_index():
    assert ev("States.ArrayGetItem($.a, 5)", {"a": list(range(1, 10))}) == 6


def test_array_get_item_out_of_bounds_fails():
    assert "out of bounds" in fails("States.ArrayGetItem(States.Array(1), 1)")
    assert "out of bounds" in fails("States.ArrayGetItem(States.Array(1), -1)")


def test_array_length_counts_items_and_rejects_non_arrays():
    assert ev("States.ArrayLength($)", [1, 2, 3]) == 3
    assert "must be a JSON array" in fails("States.ArrayLength('abc')")


def test_array_unique_keeps_the_first_of_each_value_in_order():
    assert ev("States.ArrayUnique($)", [1, 2, 2, 3, 3, 4, True, "1", {"a": 1}, {"a": 1}]) \
        == [1, 2, 3, 4, True, "1", {"a": 1}]


# ---------------------------------------------------------------- encoding and hashing

def test_base64_round_trip():
    assert ev("States.Base64Encode('Hello World')") == "SGVsbG8gV29ybGQ="
    assert ev("States.Base64Decode('SGVsbG8gV29ybGQ=')") == "Hello World"


def test_base64_rejects_bad_input_and_long_strings():
    assert "not valid base64" in fails("States.Base64Decode('%%%')")
    assert "10000 characters" in fails("States.Base64Encode($)", "x" * 10001)


@pytest.mark.parametrize("algorithm, name", [
    ("MD5", "md5"), ("SHA-1", "sha1"), ("SHA-256", "sha256"), ("SHA-384", "sha384"),
    ("SHA-512", "sha512")])
def test_hash_supports_each_aws_algorithm(algorithm, name):
    expected = hashlib.new(name, b"input data").hexdigest()
    assert ev("States.Hash($.d, $.a)", {"d": "input data", "a": algorithm}) == expected


def test_hash_matches_an_aws_recorded_value():
    assert ev("States.Hash('input data', 'MD5')") == "812f45842bc6d66ee14572ce20db8e86"


def test_hash_rejects_unknown_algorithms():
    assert "not supported" in fails("States.Hash('x', 'SHA-3')")


# ---------------------------------------------------------------- math, strings, uuid

@pytest.mark.parametrize("a, b, total", [
    (-9, 3, -6), (1.49, 1.5, 3), (1.5, 1.51, 4), (-1.5, 0, -1), (-1.51, 0, -2), (0.5, 0, 1),
    (-0.5, 0, 0), (2.5, 0, 3), (-2.5, 0, -2), (-0.5, 0.5, 1)])
def test_math_add_rounds_each_argument_half_up_like_java(a, b, total):
    assert ev("States.MathAdd($.a, $.b)", {"a": a, "b": b}) == total


def test_math_add_rejects_non_numbers_and_out_of_range_values():
    assert "must be a JSON number" in fails("States.MathAdd('1', 2)")
    assert "between" in fails("States.MathAdd(2147483648, 0)")


def test_math_random_is_within_start_inclusive_end_exclusive():
    values = {ev("States.MathRandom(1, 3)") for _ in range(200)}
    assert values == {1, 2}


def test_math_random_with_a_seed_is_reproducible():
    assert ev("States.MathRandom(1, 1000, 7)") == ev("States.MathRandom(1, 1000, 7)")


def test_math_random_rejects_an_empty_range():
    assert "greater than" in fails("States.MathRandom(5, 5)")


def test_string_split_splits_on_each_delimiter_character():
    assert ev("States.StringSplit('This.is+a,test=string', '.+,=')") \
        == ["This", "is", "a", "test", "string"]
    assert ev("States.StringSplit($.s, '\n')", {"s": "Hello\nWorld"}) == ["Hello", "World"]


def test_string_split_rejects_non_strings():
    assert "must be a JSON string" in fails("States.StringSplit(1, ',')")


def test_uuid_is_a_version_4_uuid():
    value = ev("States.UUID()")
    assert uuid.UUID(value).version == 4
    assert value != ev("States.UUID()")


def test_uuid_takes_no_arguments():
    assert "takes 0 argument(s)" in fails("States.UUID(1)")


def test_results_are_json_serialisable():
    value = ev("States.Array(States.UUID(), States.ArrayRange(1, 3, 1))")
    assert json.loads(json.dumps(value)) == value
    assert uuid.UUID(value[0]).version == 4
    assert value[1] == [1, 2, 3]


def test_an_open_escape_backslash_fails_at_run_time_not_at_validation():
    expression = r"States.Format('a\nb')"
    assert check_intrinsic(expression) is None
    assert "open escape backslash" in fails(expression)
