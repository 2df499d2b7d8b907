"""JSONata for the States Language: a thin adapter over jsonata-python.

A field value is an expression when it is a string that starts with "{%" and ends with "%}".
Each expression text is compiled once (cached) together with the functions AWS adds to JSONata
($partition, $range, $hash, $random with an optional seed, $uuid, $parse; their cores, shared
with the States.* intrinsics, are in `functions.py`). At evaluation time the
bindings are `{"states": {"input", "context", "result"?, "errorOutput"?}, **variables}`, so an
expression reads `$states.input.x` or `$myVar`.

AWS refuses an expression that yields nothing: JSON has no "undefined". Failures become
`StatesError("States.QueryEvaluationError", cause)` with AWS's cause texts; the engine adds the
"An error occurred while executing the state ..." prefix.

jsonata-python costs about 30 ms to import; the CLI imports the engine lazily, so `smlift --help`
does not pay it.
"""

from __future__ import annotations

import functools
import json
import math
import re
from typing import Any

import jsonata as jsonata_library
from jsonata.jexception import JException
from jsonata.utils import Utils

from smlift.errors import StatesError

from .functions import (HASH_ALGORITHMS, MAX_RANGE_ITEMS, hash_hex, inclusive_range,
                        is_integral, new_uuid, partition, random_source)
from .jsonpath import json_type, to_json

__all__ = ["is_expression", "evaluate_expression", "resolve_template", "check_template",
           "unexpected_type", "json_type", "expression_body"]

ERROR = "States.QueryEvaluationError"


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}") \
        and len(value) >= 4


def expression_body(text: str) -> str:
    """The expression between the delimiters, stripped: "{% $x %}" -> "$x"."""
    return text[2:-2].strip()




def unexpected_type(text: str, field: str, expected: str, value: Any) -> StatesError:
    """AWS's cause when an expression's value has the wrong type for its field."""
    body = expression_body(text) if is_expression(text) else text
    return StatesError(
        ERROR,
        f"The JSONata expression '{body}' specified for the field '{field}' returned an "
        f"unexpected result type. Expected '{expected}', but was '{json_type(value)}' "
        f"for value: {to_json(value)}")


# --------------------------------------------------------------- AWS's extra functions

class _FunctionError(Exception):
    pass


def _plain(value: Any) -> Any:
    return Utils.convert_nulls(value)


def aws_partition(items=None, size=None):
    if not isinstance(items, list):
        raise _FunctionError("The first argument of $partition must be an array")
    if not is_integral(size) or size <= 0:
        raise _FunctionError("The second argument of $partition must be a positive integer")
    return partition(list(items), int(size))


def aws_range(start=None, end=None, step=None):
    if not all(is_integral(v) for v in (start, end, step)):
        raise _FunctionError("The arguments of $range must be integers")
    start, end, step = int(start), int(end), int(step)
    if step == 0:
        raise _FunctionError("The step of $range must not be 0")
    values = inclusive_range(start, end, step)
    if len(values) > MAX_RANGE_ITEMS:
        raise _FunctionError(f"$range can generate at most {MAX_RANGE_ITEMS} items")
    return list(values)


def aws_hash(data=None, algorithm=None):
    if not isinstance(data, str):
        raise _FunctionError("The first argument of $hash must be a string")
    if algorithm not in HASH_ALGORITHMS:
        raise _FunctionError(f"The hash algorithm of $hash must be one of "
                             f"{', '.join(HASH_ALGORITHMS)}")
    return hash_hex(data, algorithm)


def aws_random(seed=None):
    if seed is not None and not is_integral(seed):
        raise _FunctionError("The seed of $random must be an integer")
    return random_source(None if seed is None else int(seed)).random()


def aws_uuid():
    return new_uuid()


def aws_parse(text=None):
    if not isinstance(text, str):
        raise _FunctionError("The argument of $parse must be a string")
    try:
        return json.loads(text)
    except ValueError:
        raise _FunctionError(f"The argument of $parse is not valid JSON: {text}") from None


AWS_FUNCTIONS = {"partition": aws_partition, "range": aws_range, "hash": aws_hash,
                 "random": aws_random, "uuid": aws_uuid, "parse": aws_parse}


# ------------------------------------------------ JSONata built-ins jsonata-python gets wrong

_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?")
_PREFIXED = re.compile(r"0(?:[xX][0-9A-Fa-f]+|[oO][0-7]+|[bB][01]+)")


def cast_number(value=None):
    """$number as JSONata 2.0.6 casts: a number as it is, true/false -> 1/0, and only strings
    that are JSON-like decimals ("-1.5e3") or 0x/0o/0b literals; anything else, " 12 ",
    "+5", ".5", "nan", "1e400", is error D3030. (jsonata-python hands strings to Python's
    float(), which takes all of those and fails with its own words.)"""
    if value is None:
        return None
    if value is Utils.NULL_VALUE:  # null fits no type of the signature <(nsb)-:n>
        raise JException("T0410", -1, 1, "number")
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        if _DECIMAL.fullmatch(value) and math.isfinite(float(value)):
            return Utils.convert_number(float(value))
        if _PREFIXED.fullmatch(value):
            return int(value, 0)
    raise JException("D3030", -1, value)


class _Builtin:
    """A Python function in the shape jsonata-python calls a signature-checked function."""

    def __init__(self, function):
        self.function = function

    def call(self, _input, args):
        return self.function(*(args or ()))


def _builtin(name: str, function, signature: str):
    builtin = jsonata_library.Jsonata.JFunction(_Builtin(function), signature)
    builtin.signature.function_name = name  # T0410 names the function
    return builtin


BUILTIN_OVERRIDES = {"number": (cast_number, "<(nsb)-:n>")}


# --------------------------------------------------------------------- evaluation

@functools.lru_cache(maxsize=2048)
def _compile(body: str):
    """Parse once; raises jsonata's JException on a syntax error."""
    expression = jsonata_library.Jsonata(body)
    expression.set_output_convert_nulls(False)
    for name, function in AWS_FUNCTIONS.items():
        expression.register_lambda(name, _wrap(function))
    expression.assign("eval", None)  # AWS: "$eval is not available - use $parse instead"
    for name, (function, signature) in BUILTIN_OVERRIDES.items():
        expression.register_function(name, _builtin(name, function, signature))
    return expression


def _wrap(function):
    def call(*args):
        return function(*(None if a is Utils.NULL_VALUE else _plain(a) for a in args))
    return call


def _jsonata_bindings(bindings: dict) -> dict:
    frame = {k: (Utils.NULL_VALUE if v is None else v) for k, v in bindings.items()}
    # jsonata looks these hooks up on every step, walking every parent frame; binding them to
    # None in the evaluation frame ends each lookup at once (about 20% fewer calls).
    frame["__evaluate_entry"] = frame["__evaluate_exit"] = None
    return frame


_SIMPLE_PATH = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)((?:\.[A-Za-z_][A-Za-z0-9_]*)*)")
_KEYWORDS = {"and", "or", "in", "true", "false", "null", "function"}


@functools.lru_cache(maxsize=2048)
def _simple_path(body: str) -> tuple[str, ...] | None:
    """("states", "input", "a") for "$states.input.a"; None for anything else."""
    m = _SIMPLE_PATH.fullmatch(body)
    if not m:
        return None
    names = (m.group(1),) + tuple(n for n in m.group(2).split(".") if n)
    return None if _KEYWORDS & set(names[1:]) else names


def _walk_simple(names: tuple[str, ...], bindings: dict) -> Any:
    """Navigate objects only, as JSONata would; _UNSURE when JSONata semantics could differ
    (an array on the way, whose items JSONata would map over, or an unbound name)."""
    if names[0] not in bindings:
        return _UNSURE
    node = bindings[names[0]]
    for name in names[1:]:
        if not isinstance(node, dict):
            return _UNSURE if isinstance(node, list) else None
        if name not in node:
            return None
        node = node[name]
    return node if node is not None else _NULL


_UNSURE, _NULL = object(), object()
_JSON_TYPES = (dict, list, str, int, float, bool)


def evaluate_expression(text: str, bindings: dict, *, field: str = "") -> Any:
    """Evaluate "{% expr %}" with `$states` and variables bound. Undefined is an error.

    Plain paths over objects ("$states.input.a.b", "$myVar.x") are answered without the
    library (the common case, and about 30x faster); anything else goes to jsonata-python.
    """
    body = expression_body(text)
    names = _simple_path(body)
    if names is not None:
        result = _walk_simple(names, bindings)
        if result is _NULL:
            return None
        if result is not _UNSURE:
            if result is None:
                raise _undefined(body, field)
            return result
    return _evaluate_with_library(body, bindings, field)


def _undefined(body: str, field: str) -> StatesError:
    return StatesError(ERROR, f"The JSONata expression '{body}' specified for the field "
                              f"'{field}' returned nothing (undefined).")


def _evaluate_with_library(body: str, bindings: dict, field: str) -> Any:
    try:
        result = _compile(body).evaluate(None, _jsonata_bindings(bindings))
    except StatesError:
        raise
    except JException as exc:
        raise _threw(body, field, jsonata_message(exc)) from None
    except _FunctionError as exc:
        raise _threw(body, field, str(exc)) from None
    except RecursionError:
        raise _threw(body, field, "U1001: Stack overflow error") from None
    except (ZeroDivisionError, OverflowError):  # JSONata: a number that is not finite
        raise _threw(body, field, "D1001: Number out of range: null") from None
    except Exception as exc:  # noqa: BLE001 - any failure inside the library is the user's
        raise _threw(body, field, str(exc) or type(exc).__name__) from None
    if result is Utils.NULL_VALUE:
        return None
    if result is None or not isinstance(result, _JSON_TYPES):  # a function is no JSON value
        raise _undefined(body, field)
    result = Utils.convert_nulls(result)
    if not _is_json(result):
        raise StatesError(ERROR, f"The JSONata expression '{body}' specified for the field "
                                 f"'{field}' returned a value that is not valid JSON.")
    return result


def _is_json(value: Any) -> bool:
    """True when `value` holds only JSON values all the way down: no function (a lambda in an
    object or an array) and no NaN or infinite number, which JSON cannot write either."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_is_json(v) for v in value)
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, (str, int, bool))


# jsonata-python (a port of jsonata-java) words a few messages otherwise than JSONata 2.0.6, the
# version AWS runs: its table says "Object" where JSONata says "function" ("The sqrt function
# cannot be applied ..."), and it raises two of them with the text in place of the code.
_LITERAL_CODES = {"Second argument of replace function cannot be an empty string": "D3010",
                  "Fourth argument of replace function must evaluate to a positive number": "D3011"}
_ARRAY_OF = {"a": "arrays", "b": "booleans", "f": "functions", "n": "numbers", "o": "objects",
             "s": "strings"}
_INSERT = re.compile(r"\{\{\{(\w+)\}\}\}|\{\{(\w+)\}\}")


def jsonata_message(exc: JException) -> str:
    """`CODE: message` as JSONata 2.0.6 words it: `{{x}}` inserts are JSON.stringify'd
    (`The left side of the "+" operator ...`), `{{{x}}}` inserts are put in as they are.
    jsonata-python passes the inserts in the template's order."""
    code = _LITERAL_CODES.get(exc.error, exc.error)
    template = JException.error_codes.get(code)
    if template is None:
        return f"{exc.error}: {exc}" if str(exc) else str(exc.error)
    template = template.replace(" Object", " function")
    if template == "{{{message}}}":
        return f"{code}: {'' if exc.current is None else exc.current}"
    extra = exc.extra
    if code == "T0412":  # the array's item type, which JSONata names in words
        extra = _ARRAY_OF.get(extra, extra)
    inserts = iter((exc.current, exc.expected, extra))

    def insert(match: re.Match) -> str:
        value = next(inserts, None)
        return str(value) if match.group(1) else _stringify(value)
    return f"{code}: {_INSERT.sub(insert, template)}"


def _stringify(value: Any) -> str:
    """JavaScript's JSON.stringify of an insert: undefined -> "undefined" (as String() of the
    replacement), whole numbers without ".0", NaN and infinities -> null."""
    if value is None:
        return "undefined"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "null"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
    try:
        return to_json(Utils.convert_nulls(value))
    except (TypeError, ValueError):
        return str(value)


def _threw(body: str, field: str, detail: str) -> StatesError:
    return StatesError(ERROR, f"The JSONata expression '{body}' specified for the field "
                              f"'{field}' threw an error during evaluation. {detail}")


def resolve_template(template: Any, bindings: dict, *, field: str = "") -> Any:
    """Evaluate every "{% %}" string anywhere in a JSON value; other values stay as they are.

    `field` names the top-level field (e.g. "Output"); nested keys extend it ("Output/result")
    so that error causes point where AWS points.
    """
    if isinstance(template, str):
        return evaluate_expression(template, bindings, field=field) \
            if is_expression(template) else template
    if isinstance(template, dict):
        return {k: resolve_template(v, bindings, field=f"{field}/{k}" if field else k)
                for k, v in template.items()}
    if isinstance(template, list):
        return [resolve_template(v, bindings, field=f"{field}/{i}" if field else str(i))
                for i, v in enumerate(template)]
    return template


# --------------------------------------------------------------------- validation

def check_template(template: Any, pointer: str) -> list[tuple[str, str]]:
    """Every "{% %}" string inside `template` must parse as JSONata."""
    if isinstance(template, str):
        return _check_one(template, pointer) if is_expression(template) else []
    problems: list[tuple[str, str]] = []
    if isinstance(template, dict):
        for key, value in template.items():
            escaped = key.replace("~", "~0").replace("/", "~1")
            problems += check_template(value, f"{pointer}/{escaped}")
    elif isinstance(template, list):
        for i, value in enumerate(template):
            problems += check_template(value, f"{pointer}/{i}")
    return problems


def _check_one(text: str, pointer: str) -> list[tuple[str, str]]:
    body = expression_body(text)
    if not body:
        return [(pointer, f"The JSONata expression '{text}' is empty")]
    try:
        compiled = _compile(body)
    except JException as exc:
        return [(pointer, f"The JSONata expression '{body}' is invalid: {exc.error}: {exc}")]
    except Exception as exc:  # noqa: BLE001
        return [(pointer, f"The JSONata expression '{body}' is invalid: {exc}")]
    problem = _top_level_problem(compiled.ast)
    return [(pointer, f"The JSONata expression '{body}' is invalid: {problem}")] if problem \
        else []


def _top_level_problem(ast) -> str | None:
    """AWS: no `$`/`$$` and no unqualified field names at the top level of an expression
    (there is no context document; read `$states.input` instead)."""
    first = ast
    if getattr(ast, "type", None) == "path" and getattr(ast, "steps", None):
        first = ast.steps[0]
    kind, value = getattr(first, "type", None), getattr(first, "value", None)
    if kind == "variable" and value in ("", "$"):
        return "'$' and '$$' cannot be used at the top level; use $states.input"
    if kind == "name":
        return (f"the field name '{value}' cannot be used unqualified at the top level; "
                f"read fields through $states.input")
    return None
