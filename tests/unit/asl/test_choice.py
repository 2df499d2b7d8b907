"""Choice rules: every operator and its Path variant, type mismatches, logic, validation."""

import pytest

from smlift.asl.choice import (COMPARATORS, OPERATORS, check_choice_rule, evaluate_choice_rule,
                               parse_timestamp)
from smlift.errors import StatesError


def matches(operator, variable, operand, **extra) -> bool:
    """Evaluate the literal form and the Path form; both must agree."""
    literal = evaluate_choice_rule({"Variable": "$.v", operator: operand}, {"v": variable})
    if operator in COMPARATORS and operator != "StringMatches":
        by_path = evaluate_choice_rule({"Variable": "$.v", operator + "Path": "$.o"},
                                       {"v": variable, "o": operand})
        assert by_path == literal
    return literal


CASES = [
    ("StringEquals", "a", "a", True), ("StringEquals", "a", "b", False),
    ("StringLessThan", "A", "AB", True), ("StringLessThan", "AB", "A", False),
    ("StringLessThan", "", "", False),
    ("StringGreaterThan", "AB", "A", True), ("StringGreaterThan", "A", "A ", False),
    ("StringLessThanEquals", "", "", True), ("StringLessThanEquals", "AB", "A", False),
    ("StringGreaterThanEquals", "AB", "A", True), ("StringGreaterThanEquals", "A", "AB", False),
    ("NumericEquals", 1, 1.0, True), ("NumericEquals", 1, 2, False),
    ("NumericLessThan", 0, 1, True), ("NumericLessThan", 0.0, 0, False),
    ("NumericGreaterThan", 1, 0, True), ("NumericGreaterThan", 1, 1, False),
    ("NumericLessThanEquals", 1, 1, True), ("NumericLessThanEquals", 1, 0, False),
    ("NumericGreaterThanEquals", 0.0, 0, True), ("NumericGreaterThanEquals", 0, 1, False),
    ("BooleanEquals", True, True, True), ("BooleanEquals", False, True, False),
    ("TimestampEquals", "2012-10-09T19:00:55Z", "2012-10-09T20:00:55+01:00", True),
    ("TimestampEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z", False),
    ("TimestampLessThan", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z", True),
    ("TimestampLessThan", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", False),
    ("TimestampGreaterThan", "2012-10-09T19:00:56Z", "2012-10-09T19:00:55Z", True),
    ("TimestampGreaterThan", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z", False),
    ("TimestampLessThanEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", True),
    ("TimestampLessThanEquals", "2012-10-09T19:00:56Z", "2012-10-09T19:00:55Z", False),
    ("TimestampGreaterThanEquals", "2012-10-09T19:00:55.500Z", "2012-10-09T19:00:55Z", True),
    ("TimestampGreaterThanEquals", "2012-10-09T19:00:54Z", "2012-10-09T19:00:55Z", False),
]


@pytest.mark.parametrize("operator, variable, operand, expected", CASES)
def test_each_comparison_operator_and_its_path_variant(operator, variable, operand, expected):
    assert matches(operator, variable, operand) is expected


def test_every_comparison_operator_is_covered_by_the_cases():
    covered = {case[0] for case in CASES} | {"StringMatches"}
    assert covered == set(COMPARATORS)


_TYPED = [("StringEquals", "1", str), ("NumericEquals", 1, (int, float)),
          ("BooleanEquals", True, bool), ("TimestampEquals", "2012-10-09T19:00:55Z", str),
          ("StringMatches", "*", str)]
_VALUES = [None, [], {}, 0, 0.0, "", True, "HelloWorld"]
MISMATCHES = [(op, operand, v) for op, operand, kind in _TYPED for v in _VALUES
              if not isinstance(v, kind) or (isinstance(v, bool) and kind != bool)]


@pytest.mark.parametrize("operator, operand, variable", MISMATCHES)
def test_a_value_of_another_type_never_matches(operator, operand, variable):
    assert matches(operator, variable, operand) is False


def test_a_true_is_never_numerically_equal_to_one():
    assert matches("NumericEquals", True, 1) is False


def test_a_path_operand_of_the_wrong_type_never_matches():
    assert evaluate_choice_rule({"Variable": "$.v", "BooleanEqualsPath": "$.o"},
                                {"v": "HelloWorld", "o": True}) is False
    assert evaluate_choice_rule({"Variable": "$.v", "NumericEqualsPath": "$.o"},
                                {"v": 1, "o": "1"}) is False


@pytest.mark.parametrize("pattern, value, expected", [
    ("log-*.txt", "log-2024.txt", True), ("log-*.txt", "log-.txt", True),
    ("*", "", True), ("a*b*c", "aXXbYYc", True), ("a*b", "ab!", False),
    (r"a\*b", "a*b", True), (r"a\*b", "axb", False), ("a\\\\b", "a\\b", True),
    ("a.b", "axb", False), ("x", "X", False)])
def test_string_matches_supports_wildcards_and_escapes(pattern, value, expected):
    assert matches("StringMatches", value, pattern) is expected


@pytest.mark.parametrize("value, is_timestamp", [
    ("2012-10-09T19:00:55Z", True), ("2012-10-09T19:00:55+01:00", True),
    ("2012-10-09T19:00:55.123456789Z", True), ("2012-10-09T19:00:55", False),
    ("2023-02-24", False), ("2016-12-05 21:29:29Z", False), ("2016-13-05T21:29:29Z", False),
    ("2016-12-05T25:29:29Z", False), ("2016-12-05t21:29:29z", False), (1, False)])
def test_timestamps_follow_aws_rfc3339_profile(value, is_timestamp):
    assert (parse_timestamp(value) is not None) is is_timestamp
    assert matches("IsTimestamp", value, True) is is_timestamp


@pytest.mark.parametrize("operator, value, expected", [
    ("IsNull", None, True), ("IsNull", "", False), ("IsNull", [], False),
    ("IsNumeric", 1, True), ("IsNumeric", 0.5, True), ("IsNumeric", "1", False),
    ("IsNumeric", True, False),
    ("IsString", "", True), ("IsString", "2023-02-24", True), ("IsString", None, False),
    ("IsBoolean", False, True), ("IsBoolean", 0, False), ("IsBoolean", "true", False),
    ("IsPresent", None, True)])
def test_type_tests_match_the_value_type(operator, value, expected):
    assert matches(operator, value, True) is expected
    assert matches(operator, value, False) is (not expected)


def test_is_present_is_false_for_a_missing_field_and_other_tests_too():
    assert evaluate_choice_rule({"Variable": "$.nope", "IsPresent": True}, {}) is False
    assert evaluate_choice_rule({"Variable": "$.nope", "IsPresent": False}, {}) is True
    assert evaluate_choice_rule({"Variable": "$.nope", "IsNull": False}, {}) is True


def test_a_missing_variable_is_a_runtime_error_for_comparisons():
    with pytest.raises(StatesError) as info:
        evaluate_choice_rule({"Variable": "$.nope", "StringEquals": "x"}, {})
    assert info.value.error == "States.Runtime"
    assert info.value.cause == ("Invalid path '$.nope': The choice state's condition path "
                                "references an invalid value.")


def test_a_missing_path_operand_is_a_runtime_error_too():
    with pytest.raises(StatesError) as info:
        evaluate_choice_rule({"Variable": "$.a", "NumericEqualsPath": "$.nope"}, {"a": 1})
    assert "Invalid path '$.nope'" in info.value.cause


def test_and_or_not_combine_rules():
    value = {"a": 1, "b": "x"}
    a_is_1 = {"Variable": "$.a", "NumericEquals": 1}
    b_is_y = {"Variable": "$.b", "StringEquals": "y"}
    assert evaluate_choice_rule({"And": [a_is_1, {"Not": b_is_y}]}, value) is True
    assert evaluate_choice_rule({"And": [a_is_1, b_is_y]}, value) is False
    assert evaluate_choice_rule({"Or": [b_is_y, a_is_1]}, value) is True
    assert evaluate_choice_rule({"Not": a_is_1}, value) is False


def test_variable_may_read_the_context_object_and_variables():
    assert evaluate_choice_rule({"Variable": "$$.State.Name", "StringEquals": "S"}, {},
                                context={"State": {"Name": "S"}}) is True
    assert evaluate_choice_rule({"Variable": "$status", "StringEquals": "DONE"}, {},
                                variables={"status": "DONE"}) is True


def test_a_jsonata_condition_is_evaluated_with_bindings():
    bindings = {"states": {"input": {"age": 20}}}
    assert evaluate_choice_rule({"Condition": "{% $states.input.age >= 18 %}"}, {},
                                bindings=bindings) is True
    assert evaluate_choice_rule({"Condition": True}, {}) is True


def test_a_jsonata_condition_that_is_not_boolean_fails_with_aws_cause():
    with pytest.raises(StatesError) as info:
        evaluate_choice_rule({"Condition": "{% 'yes' %}"}, {}, bindings={"states": {}})
    assert info.value.error == "States.QueryEvaluationError"
    assert "Expected 'boolean', but was 'string'" in info.value.cause


# ---------------------------------------------------------------- validation

def test_a_valid_rule_has_no_problems():
    assert check_choice_rule({"Variable": "$.a", "NumericEquals": 1, "Next": "X"}, "/c") == []
    assert check_choice_rule({"And": [{"Variable": "$.a", "IsNull": True}]}, "/c") == []


@pytest.mark.parametrize("rule, where, text", [
    ({"Variable": "$.a", "Next": "X"}, "/c", "exactly one comparison operator"),
    ({"Variable": "$.a", "NumericEquals": 1, "StringEquals": "x"}, "/c", "exactly one"),
    ({"NumericEquals": 1}, "/c", "'Variable'"),
    ({"Variable": "a", "NumericEquals": 1}, "/c/Variable", "must start with '$'"),
    ({"Variable": "$.a", "NumericEquals": "1"}, "/c/NumericEquals", "must be a number"),
    ({"Variable": "$.a", "StringEquals": 1}, "/c/StringEquals", "must be a string"),
    ({"Variable": "$.a", "BooleanEquals": "true"}, "/c/BooleanEquals", "must be a boolean"),
    ({"Variable": "$.a", "IsNull": 1}, "/c/IsNull", "must be a boolean"),
    ({"Variable": "$.a", "TimestampEquals": "yesterday"}, "/c/TimestampEquals", "timestamp"),
    ({"Variable": "$.a", "StringEqualsPath": "nope"}, "/c/StringEqualsPath", "'$'"),
    ({"And": []}, "/c/And", "non-empty array"),
    ({"And": [{"Variable": "$.a", "IsNull": True, "Next": "X"}]}, "/c/And/0/Next", "nested"),
    ({"Not": {"Variable": "$.a"}}, "/c/Not", "exactly one comparison operator"),
    ({"Variable": "$.a", "IsNull": True, "Foo": 1}, "/c/Foo", "not supported"),
    ("rule", "/c", "JSON object"),
    ({"Condition": "true"}, "/c/Condition", "JSONata expression"),
    ({"Condition": "{% 1 + %}"}, "/c/Condition", "invalid")])
def test_invalid_rules_are_reported_where_they_are(rule, where, text):
    problems = check_choice_rule(rule, "/c")
    assert any(p == where and text in m for p, m in problems), problems


def test_top_level_rules_need_next_when_asked():
    problems = check_choice_rule({"Variable": "$.a", "IsNull": True}, "/c", top_level=True)
    assert problems == [("/c/Next", "A top-level choice rule must have a 'Next' string field")]


def test_operator_table_has_every_path_variant():
    for name in COMPARATORS:
        if name != "StringMatches":
            assert name + "Path" in OPERATORS
