"""Choice rules: evaluation and validation.

A JSONPath rule names a `Variable` and exactly one comparison operator; `And`/`Or`/`Not` combine
rules. A JSONata rule has a `Condition` (a boolean or a `{% %}` expression). Comparisons follow
AWS: a value of the wrong type never matches (StringEquals on a number is false, not an error);
a `Variable` or `...Path` that selects nothing is a States.Runtime error, except for IsPresent.

    COMPARATORS["NumericLessThan"] = (type_check, compare)   # one table, grep finds each operator
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any, Callable

from smlift.errors import StatesError

from .jsonata import (check_template, evaluate_expression, is_expression,
                      unexpected_type)
from .jsonpath import PathNotFound, check_path, is_number, select_path, to_json

__all__ = ["evaluate_choice_rule", "check_choice_rule", "parse_timestamp", "COMPARATORS",
           "TYPE_TESTS", "OPERATORS"]


# --------------------------------------------------------------------------- values


def _is_string(v) -> bool:
    return isinstance(v, str)


def _is_bool(v) -> bool:
    return isinstance(v, bool)


_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})")


@functools.lru_cache(maxsize=1024)
def parse_timestamp(text: Any) -> dt.datetime | None:
    """An RFC 3339 timestamp as AWS accepts it (uppercase T, an offset or Z), else None."""
    if not isinstance(text, str):
        return None
    m = _TIMESTAMP.fullmatch(text)
    if not m:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    fraction, zone = m.group(7), m.group(8)
    try:
        micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
        offset = dt.timedelta(0) if zone == "Z" else (
            (1 if zone[0] == "+" else -1)
            * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
        return dt.datetime(year, month, day, hour, minute, second, micro,
                           tzinfo=dt.timezone(offset))
    except ValueError:
        return None


def _utf16(s: str) -> bytes:
    """Java compares strings by UTF-16 code unit; so does comparing UTF-16-BE bytes."""
    return s.encode("utf-16-be", "surrogatepass")


def _string_matches(value: str, pattern: str) -> bool:
    return bool(_compile_match(pattern).fullmatch(value))


@functools.lru_cache(maxsize=512)
def _compile_match(pattern: str) -> re.Pattern:
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "*" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.S)


# ------------------------------------------------------------------------ the tables

_EQ = lambda a, b: a == b           # noqa: E731
_LT = lambda a, b: a < b            # noqa: E731
_GT = lambda a, b: a > b            # noqa: E731
_LE = lambda a, b: a <= b           # noqa: E731
_GE = lambda a, b: a >= b           # noqa: E731
_RELATIONS = {"Equals": _EQ, "LessThan": _LT, "GreaterThan": _GT,
              "LessThanEquals": _LE, "GreaterThanEquals": _GE}


def _string_relation(rel):
    if rel is _EQ:
        return lambda a, b: a == b
    return lambda a, b: rel(_utf16(a), _utf16(b))


def _timestamp_relation(rel):
    def compare(a, b):
        left, right = parse_timestamp(a), parse_timestamp(b)
        return left is not None and right is not None and rel(left, right)
    return compare


# operator -> (does this value have the operator's type?, compare(variable, operand))
COMPARATORS: dict[str, tuple[Callable, Callable]] = {}
for _suffix, _rel in _RELATIONS.items():
    COMPARATORS["String" + _suffix] = (_is_string, _string_relation(_rel))
    COMPARATORS["Numeric" + _suffix] = (is_number, _rel)
    COMPARATORS["Timestamp" + _suffix] = (_is_string, _timestamp_relation(_rel))
COMPARATORS["BooleanEquals"] = (_is_bool, _EQ)
COMPARATORS["StringMatches"] = (_is_string, _string_matches)

# type tests take the selected value, or _ABSENT when the Variable selects nothing
_ABSENT = object()
TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "IsNull": lambda v: v is None,
    "IsPresent": lambda v: v is not _ABSENT,
    "IsNumeric": lambda v: is_number(v),
    "IsString": lambda v: isinstance(v, str),
    "IsBoolean": lambda v: isinstance(v, bool),
    "IsTimestamp": lambda v: parse_timestamp(v) is not None,
}

PATH_OPERATORS = {name + "Path" for name in COMPARATORS if name != "StringMatches"}
OPERATORS = set(COMPARATORS) | PATH_OPERATORS | set(TYPE_TESTS)
_LOGICAL = ("And", "Or", "Not")


# ------------------------------------------------------------------------ evaluation

def evaluate_choice_rule(rule: dict, value: Any, *, context: dict | None = None,
                         variables: dict | None = None, bindings: dict | None = None) -> bool:
    """True when the rule matches. `bindings` (JSONata: states + variables) serve `Condition`."""
    if "Condition" in rule:
        return _evaluate_condition(rule["Condition"], bindings or {})
    if "And" in rule:
        return all(evaluate_choice_rule(r, value, context=context, variables=variables,
                                        bindings=bindings) for r in rule["And"])
    if "Or" in rule:
        return any(evaluate_choice_rule(r, value, context=context, variables=variables,
                                        bindings=bindings) for r in rule["Or"])
    if "Not" in rule:
        return not evaluate_choice_rule(rule["Not"], value, context=context,
                                        variables=variables, bindings=bindings)
    operator = _operator_of(rule)
    scope = {"context": context, "variables": variables}
    if operator in TYPE_TESTS:
        selected = _select_or_absent(rule["Variable"], value, scope)
        return TYPE_TESTS[operator](selected) == bool(rule[operator])
    selected = _select_condition_path(rule["Variable"], value, scope)
    if operator in COMPARATORS:
        operand = rule[operator]
        has_type, compare = COMPARATORS[operator]
    else:
        has_type, compare = COMPARATORS[operator[:-4]]
        operand = _select_condition_path(rule[operator], value, scope)
        if not has_type(operand):
            return False
    return has_type(selected) and compare(selected, operand)


def _operator_of(rule: dict) -> str:
    for key in rule:
        if key in OPERATORS:
            return key
    raise StatesError("States.Runtime",
                      f"The choice rule {to_json(rule)} has no comparison operator")


def _select_condition_path(path: str, value, scope):
    try:
        return select_path(path, value, **scope)
    except PathNotFound:
        raise StatesError("States.Runtime", f"Invalid path '{path}': The choice state's "
                                            f"condition path references an invalid value.") from None


def _select_or_absent(path: str, value, scope):
    try:
        return select_path(path, value, **scope)
    except PathNotFound:
        return _ABSENT


def _evaluate_condition(condition: Any, bindings: dict) -> bool:
    if isinstance(condition, bool):
        return condition
    result = evaluate_expression(condition, bindings, field="Condition")
    if not isinstance(result, bool):
        raise unexpected_type(condition, "Condition", "boolean", result)
    return result


# ------------------------------------------------------------------------ validation

_RULE_EXTRAS = {"Next", "Comment", "Assign", "Output"}


def check_choice_rule(rule: Any, pointer: str, *, top_level: bool | None = None,
                      ) -> list[tuple[str, str]]:
    """Problems with one rule. top_level=True requires Next, False forbids it, None skips."""
    if not isinstance(rule, dict):
        return [(pointer, "A choice rule must be a JSON object")]
    problems = _check_next(rule, pointer, top_level)
    if "Condition" in rule:
        return problems + _check_condition(rule, pointer)
    logical = [k for k in _LOGICAL if k in rule]
    operators = [k for k in rule if k in OPERATORS]
    unknown = [k for k in rule if k not in OPERATORS and k not in _LOGICAL
               and k not in _RULE_EXTRAS and k != "Variable"]
    problems += [(f"{pointer}/{k}", f"Field '{k}' is not supported in a choice rule")
                 for k in unknown]
    if logical:
        return problems + _check_logical(rule, logical, operators, pointer)
    if len(operators) != 1:
        found = ", ".join(operators) or "none"
        return problems + [(pointer, f"A choice rule must have exactly one comparison "
                                     f"operator (found: {found})")]
    if "Variable" not in rule:
        return problems + [(pointer, "A choice rule with a comparison operator must have "
                                     "a 'Variable' field")]
    problem = check_path(rule["Variable"])
    if problem:
        problems.append((f"{pointer}/Variable", problem))
    return problems + _check_operand(operators[0], rule[operators[0]], pointer)


def _check_next(rule: dict, pointer: str, top_level: bool | None) -> list[tuple[str, str]]:
    if top_level is True and not isinstance(rule.get("Next"), str):
        return [(f"{pointer}/Next", "A top-level choice rule must have a 'Next' string field")]
    if top_level is False and "Next" in rule:
        return [(f"{pointer}/Next", "A nested choice rule must not have a 'Next' field")]
    return []


def _check_condition(rule: dict, pointer: str) -> list[tuple[str, str]]:
    condition = rule["Condition"]
    where = f"{pointer}/Condition"
    extra = [k for k in rule if k not in _RULE_EXTRAS and k != "Condition"]
    problems = [(f"{pointer}/{k}", f"Field '{k}' is not supported with 'Condition'")
                for k in extra]
    if isinstance(condition, bool):
        return problems
    if not is_expression(condition):
        return problems + [(where, "'Condition' must be a boolean or a JSONata expression "
                                   "'{% ... %}'")]
    return problems + check_template(condition, where)


def _check_logical(rule: dict, logical: list, operators: list, pointer: str):
    if len(logical) > 1 or operators or "Variable" in rule:
        return [(pointer, "A choice rule must have exactly one of And, Or, Not or a "
                          "comparison operator")]
    key = logical[0]
    where = f"{pointer}/{key}"
    if key == "Not":
        return check_choice_rule(rule["Not"], where, top_level=False)
    rules = rule[key]
    if not isinstance(rules, list) or not rules:
        return [(where, f"'{key}' must be a non-empty array of choice rules")]
    problems: list[tuple[str, str]] = []
    for i, sub in enumerate(rules):
        problems += check_choice_rule(sub, f"{where}/{i}", top_level=False)
    return problems


def _check_operand(operator: str, operand: Any, pointer: str) -> list[tuple[str, str]]:
    where = f"{pointer}/{operator}"
    if operator in TYPE_TESTS or operator == "BooleanEquals":
        ok, wanted = isinstance(operand, bool), "a boolean"
    elif operator in PATH_OPERATORS:
        problem = check_path(operand)
        return [(where, problem)] if problem else []
    elif operator.startswith("Numeric"):
        ok, wanted = is_number(operand), "a number"
    elif operator.startswith("Timestamp"):
        ok, wanted = parse_timestamp(operand) is not None, "an ISO-8601 timestamp string"
    else:
        ok, wanted = isinstance(operand, str), "a string"
    return [] if ok else [(where, f"The value of '{operator}' must be {wanted}, "
                                  f"got {to_json(operand)}")]
