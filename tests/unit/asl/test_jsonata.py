"""JSONata adapter: expressions, $states and variable bindings, AWS functions and errors."""

import hashlib
import uuid

import pytest

from smlift.asl.jsonata import (check_template, evaluate_expression, is_expression,
                                resolve_template, unexpected_type)
from smlift.errors import StatesError

BINDINGS = {"states": {"input": {"a": [1, 2, 3], "name": "x", "none": None},
                       "context": {"Execution": {"Name": "run-1"}}},
            "myVar": {"k": 5}, "nullVar": None}


def ev(expression, bindings=BINDINGS, field="Output"):
    return evaluate_expression(expression, bindings, field=field)


def fails(expression, field="Output") -> str:
    with pytest.raises(StatesError) as info:
        ev(expression, field=field)
    assert info.value.error == "States.QueryEvaluationError"
    return info.value.cause


@pytest.mark.parametrize("value, expected", [
    ("{% 1 %}", True), ("{%1%}", True), (" {% 1 %}", False), ("{% 1 %} ", False),
    ("$states.input", False), ("{%%}", True), (1, False), (None, False)])
def test_is_expression_requires_the_delimiters_at_both_ends(value, expected):
    assert is_expression(value) is expected


def test_states_input_context_and_variables_are_bound():
    assert ev("{% $states.input.a[1] %}") == 2
    assert ev("{% $states.context.Execution.Name %}") == "run-1"
    assert ev("{% $myVar.k + 1 %}") == 6


def test_result_and_error_output_are_bound_when_given():
    bindings = {"states": {"input": {}, "result": {"r": 1}, "errorOutput": {"Error": "E"}}}
    assert ev("{% $states.result.r %}", bindings) == 1
    assert ev("{% $states.errorOutput.Error %}", bindings) == "E"


def test_nulls_stay_null_in_inputs_variables_and_results():
    assert ev("{% $states.input.none %}") is None
    assert ev("{% $nullVar %}") is None
    assert ev("{% [1, null, {'k': null}] %}") == [1, None, {"k": None}]


def test_numbers_come_back_as_json_numbers():
    assert ev("{% 1.0 %}") == 1
    assert ev("{% 3 / 2 %}") == 1.5


def test_regular_expressions_work():
    assert ev("{% $contains('hello$world', /^hello\\$/) %}") is True
    assert ev("{% $contains('hello$world', /^hello\\ /) %}") is False


def test_an_undefined_result_is_an_error_naming_the_field():
    assert fails("{% $doesNotExist %}", field="Output/result") == (
        "The JSONata expression '$doesNotExist' specified for the field 'Output/result' "
        "returned nothing (undefined).")


def test_an_evaluation_error_carries_the_jsonata_code():
    assert fails("{% $randomSeeded(1) %}", field="Output/FunctionResult") == (
        "The JSONata expression '$randomSeeded(1)' specified for the field "
        "'Output/FunctionResult' threw an error during evaluation. "
        "T1006: Attempted to invoke a non-function")


def test_a_syntax_error_at_run_time_is_a_query_evaluation_error():
    assert "threw an error during evaluation" in fails("{% 1 + %}")


# ---------------------------------------------------------------- AWS functions

@pytest.mark.parametrize("items, size, chunks", [
    ([0], 1, [[0]]), ([0, 1, 2], 2, [[0, 1], [2]]), ([0, 1, 2, 3], 4, [[0, 1, 2, 3]]),
    ([0, 1], 5, [[0, 1]])])
def test_partition_chunks_an_array(items, size, chunks):
    bindings = {"states": {"input": {"fst": items, "snd": size}}}
    assert ev("{% $partition($states.input.fst, $states.input.snd) %}", bindings) == chunks


def test_partition_rejects_a_bad_chunk_size():
    assert "positive integer" in fails("{% $partition([1], 0) %}")


def test_range_includes_the_end_and_rejects_step_zero():
    assert ev("{% $range(0, 10, 2) %}") == [0, 2, 4, 6, 8, 10]
    assert ev("{% $range(3, 1, -1) %}") == [3, 2, 1]
    assert "must not be 0" in fails("{% $range(0, 10, 0) %}")


def test_hash_matches_hashlib_and_rejects_unknown_algorithms():
    assert ev("{% $hash('input data', 'SHA-256') %}") == \
        hashlib.sha256(b"input data").hexdigest()
    assert "must be one of" in fails("{% $hash('x', 'CRC32') %}")


def test_random_accepts_an_optional_seed():
    value = ev("{% $random() %}")
    assert 0 <= value < 1
    assert ev("{% $random(42) %}") == ev("{% $random(42) %}")


def test_uuid_and_parse():
    assert uuid.UUID(ev("{% $uuid() %}")).version == 4
    assert ev("""{% $parse('{"a": [1, null]}') %}""") == {"a": [1, None]}
    assert "not valid JSON" in fails("{% $parse('{x') %}")


# ---------------------------------------------------------------- templates

def test_resolve_template_evaluates_every_expression_anywhere():
    template = {"a": "{% $myVar.k %}", "lit": " {% $states.input %} ", "n": None,
                "l": [1, "{% $states.input.name %}", {"deep": "{% true %}"}], "s": "$.a"}
    assert resolve_template(template, BINDINGS, field="Output") == {
        "a": 5, "lit": " {% $states.input %} ", "n": None, "l": [1, "x", {"deep": True}],
        "s": "$.a"}


def test_resolve_template_names_nested_fields_in_errors():
    with pytest.raises(StatesError) as info:
        resolve_template({"result": "{% $doesNotExist %}"}, BINDINGS, field="Assign")
    assert "specified for the field 'Assign/result'" in info.value.cause


def test_unexpected_type_uses_aws_wording():
    error = unexpected_type("{% $ItemsVar %}", "Items", "array", {"foo": "bar"})
    assert error.error == "States.QueryEvaluationError"
    assert error.cause == ("The JSONata expression '$ItemsVar' specified for the field 'Items' "
                           "returned an unexpected result type. Expected 'array', but was "
                           "'object' for value: {\"foo\":\"bar\"}")


def test_check_template_reports_each_bad_expression_with_its_pointer():
    template = {"ok": "{% 1 %}", "bad": "{% 1 + %}", "l": ["{% ) %}"], "empty": "{% %}"}
    problems = dict(check_template(template, "/States/S/Output"))
    assert set(problems) == {"/States/S/Output/bad", "/States/S/Output/l/0",
                             "/States/S/Output/empty"}


def test_expressions_are_parsed_once():
    from smlift.asl.jsonata import _compile
    ev("{% $states.input.a[0] + 41 %}")
    before = _compile.cache_info().hits
    assert ev("{% $states.input.a[0] + 41 %}") == 42
    assert _compile.cache_info().hits == before + 1


_VALUES = [2.0, [], [1], [[1]], {"b": [1, 2]}, [{"b": 1}, {"b": 2}], None, "s", {"b": None},
           {"b": {"c": [{"d": 1}]}}, True, 0]
_PATHS = ["$states.input.a", "$v.a", "$v", "$v.a.b", "$states.input.a.b.c", "$nope",
          "$states.input.a.b.c.d", "$v.a.and"]


@pytest.mark.parametrize("value", _VALUES)
@pytest.mark.parametrize("path", _PATHS)
def test_the_plain_path_fast_path_agrees_with_jsonata(path, value):
    from smlift.asl.jsonata import _evaluate_with_library

    bindings = {"states": {"input": {"a": value}}, "v": {"a": value}}

    def outcome(call):
        try:
            return "value", call()
        except StatesError as exc:
            return "error", exc.cause

    fast = outcome(lambda: evaluate_expression("{% " + path + " %}", bindings, field="F"))
    slow = outcome(lambda: _evaluate_with_library(path, bindings, "F"))
    assert fast == slow


@pytest.mark.parametrize("body", ["$", "$$", "$.x", "$$.x", "input.x", "a"])
def test_check_template_refuses_the_context_and_bare_names_at_the_top_level(body):
    [(pointer, message)] = check_template("{% " + body + " %}", "/S/Output")
    assert pointer == "/S/Output"
    assert "top level" in message


@pytest.mark.parametrize("body", ["$states.input", "$count($states.input.a)", "($x := 1; $x)",
                                  "1 + 2", "'s'", "$states.input.items[price > 1]"])
def test_check_template_accepts_qualified_expressions(body):
    assert check_template("{% " + body + " %}", "/S/Output") == []


def test_eval_is_not_available_as_in_aws():
    assert "T1006" in fails("{% $eval('1') %}")


def test_a_function_value_is_not_json_and_counts_as_undefined():
    assert "returned nothing (undefined)" in fails("{% $uuid %}")


def test_a_null_result_is_json_null():
    assert ev("{% null %}") is None


# ------------------------------------------------ results that are not JSON (issue 17)

@pytest.mark.parametrize("expression", [
    "{% {'f': function($x){$x}} %}", "{% [1, function($x){$x}] %}",
    "{% {'deep': [{'f': $uppercase}]} %}"])
def test_a_result_holding_a_function_anywhere_is_a_query_evaluation_error(expression):
    """AWS ("Transforming data with JSONata in Step Functions"): a JSONata expression's result
    must be JSON, since that is what a state's fields carry; a failed evaluation is
    States.QueryEvaluationError. A function nested in an object or an array used to
    escape as a Python TypeError, a crash of smlift instead of an ASL error."""
    assert fails(expression).endswith(
        "specified for the field 'Output' returned a value that is not valid JSON.")


# ------------------------------------------- JSONata's own error messages (issue 17)

@pytest.mark.parametrize("expression, detail", [
    ("{% '5' + 1 %}", 'T2001: The left side of the "+" operator must evaluate to a number'),
    ("{% 1 < 'a' %}",
     'T2009: The values 1 and "a" either side of operator "<" must be of the same data type'),
    ("{% $sqrt(-1) %}", "D3060: The sqrt function cannot be applied to a negative number: -1"),
    ("{% $single([1, 2]) %}", "D3138: The $single() function expected exactly 1 matching "
                               "result.  Instead it matched more."),
    ("{% $replace('abc', '', 'x') %}",
     "D3010: Second argument of replace function cannot be an empty string"),
    ("{% $sum(['1']) %}", 'T0412: Argument 1 of function "sum" must be an array of "numbers"'),
    ("{% $error('boom') %}", "D3137: boom"),
    ("{% $foo() %}", "T1006: Attempted to invoke a non-function")])
def test_evaluation_errors_are_worded_as_jsonata_2_0_6_words_them(expression, detail):
    """AWS ("Transforming data with JSONata in Step Functions"): Step Functions runs JSONata
    2.0.6, and its recorded causes end in "<code>: <JSONata's message>" (the conformance
    case `$randomSeeded`: "T1006: Attempted to invoke a non-function"). JSONata 2.0.6's
    messages (jsonata-js `errorCodes` and `populateMessage`) say "function", where
    jsonata-python's table says "Object", and put `{{value}}` inserts in JSON.stringify'd."""
    assert fails(expression).endswith(f"threw an error during evaluation. {detail}")


# ------------------------------------------------- string/number coercion (issue 17)

@pytest.mark.parametrize("expression, value", [
    ("{% $number('12') %}", 12), ("{% $number('-1.5e3') %}", -1500),
    ("{% $number('0x1F') %}", 31), ("{% $number(true) %}", 1),
    ("{% $states.input.s ~> $number() %}", 7)])
def test_number_casts_what_jsonata_casts(expression, value):
    """JSONata 2.0.6 (the version AWS's "Transforming data with JSONata" names; docs.jsonata.org
    "Numeric functions", $number): a string must be a JSON number or a 0x/0o/0b literal."""
    bindings = {"states": {"input": {"s": "7"}}}
    assert ev(expression, bindings) == value


@pytest.mark.parametrize("text", [" 12 ", "+5", ".5", "nan", "1e400", "abc"])
def test_number_refuses_strings_python_would_take(text):
    """The same JSONata 2.0.6 rule: anything else is D3030. Python's float() took " 12 ",
    "+5", ".5", "nan" (giving NaN, which no JSON can hold) and words its own failures."""
    assert fails(f"{{% $number('{text}') %}}").endswith(
        f'D3030: Unable to cast value to a number: "{text}"')


def test_number_of_null_does_not_match_the_signature():
    """JSONata 2.0.6: $number's signature <(nsb)-:n> has no null."""
    assert fails("{% $number(null) %}").endswith(
        'T0410: Argument 1 of function "number" does not match function signature')
