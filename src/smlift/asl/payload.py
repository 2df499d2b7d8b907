"""What a JSONPath state does with paths: payload templates and InputPath/ResultPath/OutputPath.

    Parameters / ResultSelector / ItemSelector / Assign    resolve_payload, check_payload
    InputPath, OutputPath                                   apply_input_path, apply_output_path
    ResultPath                                              apply_result_path

A template's `"k.$"` values are paths (selected with `jsonpath.select_path`) or intrinsic calls
(`intrinsics.evaluate_intrinsic`); other values are copied as they are. The `MISSING` sentinel
marks an *absent field* in a definition (InputPath not given) as opposed to JSON null
(InputPath: null, which means `{}`). Nothing here mutates its arguments: ResultPath copies each
object on its way down.
"""

from __future__ import annotations

from typing import Any

from smlift.errors import StatesError

from .intrinsics import check_intrinsic, evaluate_intrinsic
from .jsonpath import (Field, PathNotFound, check_path, compile_path, field_not_found,
                       json_type, select_path, to_json)

MISSING: Any = object()

__all__ = ["MISSING", "resolve_payload", "apply_input_path", "apply_result_path",
           "apply_output_path", "check_payload"]


# ------------------------------------------------------------------- payload templates

def resolve_payload(template: Any, value: Any, *, context: dict | None = None,
                    variables: dict | None = None) -> Any:
    """Resolve a Parameters/ResultSelector/ItemSelector/Assign template against `value`.

    Keys ending in ".$" lose the suffix and take the value of their path or intrinsic call;
    other values are copied as they are (nested objects and arrays are resolved too).
    A path that matches nothing raises AWS's "The JSONPath ... specified for the field 'k.$'
    could not be found in the input ..." cause.
    """
    if isinstance(template, dict):
        out = {}
        for key, item in template.items():
            if key.endswith(".$") and isinstance(item, str):
                out[key[:-2]] = _resolve_dollar(key, item, value, context, variables)
            else:
                out[key] = resolve_payload(item, value, context=context, variables=variables)
        return out
    if isinstance(template, list):
        return [resolve_payload(item, value, context=context, variables=variables)
                for item in template]
    return template


def _resolve_dollar(key: str, expression: str, value, context, variables):
    try:
        if expression.startswith("States."):
            return evaluate_intrinsic(expression, value, context=context, variables=variables)
        return select_path(expression, value, context=context, variables=variables)
    except PathNotFound as missing:  # also a path argument of an intrinsic call
        raise field_not_found(missing.path, key, value) from None


# ------------------------------------------------------------------ input/output paths

def apply_input_path(value: Any, input_path: Any, **scope) -> Any:
    """InputPath: absent -> the whole input; null -> {}; else the selected value."""
    if input_path is MISSING or input_path == "$":
        return value
    if input_path is None:
        return {}
    return select_path(input_path, value, **scope)


def apply_output_path(value: Any, output_path: Any, **scope) -> Any:
    """OutputPath: absent -> the whole value; null -> {}; else the selected value."""
    return apply_input_path(value, output_path, **scope)


def apply_result_path(state_input: Any, result: Any, result_path: Any) -> Any:
    """ResultPath: absent/"$" -> result; null -> input; else input with result placed at path.

    Intermediate objects that do not exist are created. The input is not mutated: each object
    on the way down is shallow-copied.
    """
    if result_path is MISSING or result_path == "$":
        return result
    if result_path is None:
        return state_input
    compiled = compile_path(result_path)
    if compiled.root != "$" or not compiled.definite:
        raise StatesError("States.Runtime",
                          f"Invalid path '{result_path}' : ResultPath must be a reference path")
    return _place(state_input, compiled.steps, result, result_path)


def _place(node: Any, steps: tuple, result: Any, text: str) -> Any:
    if not steps:
        return result
    step, rest = steps[0], steps[1:]
    if isinstance(step, Field):
        if node is None or node is MISSING:
            node = {}
        if not isinstance(node, dict):
            raise StatesError(
                "States.Runtime",
                f"Invalid path '{text}': Unable to apply ResultPath to input "
                f"'{to_json(node)}' because field '{step.name}' cannot be set on a "
                f"{json_type(node)}")
        copy = dict(node)
        copy[step.name] = _place(node.get(step.name, MISSING), rest, result, text)
        return copy
    if not isinstance(node, list) or not -len(node) <= step.index < len(node):
        raise StatesError("States.Runtime",
                          f"Invalid path '{text}': index [{step.index}] does not exist in the input")
    copy = list(node)
    copy[step.index] = _place(node[step.index], rest, result, text)
    return copy


# ------------------------------------------------------------------------- validation

def check_payload(template: Any, pointer: str) -> list[tuple[str, str]]:
    """Every "k.$" value must be a string holding a valid path or intrinsic function call."""
    problems: list[tuple[str, str]] = []
    if isinstance(template, dict):
        for key, item in template.items():
            where = f"{pointer}/{_escape_pointer(key)}"
            if key.endswith(".$"):
                problems.extend(_check_dollar_value(key, item, where))
            else:
                problems.extend(check_payload(item, where))
    elif isinstance(template, list):
        for i, item in enumerate(template):
            problems.extend(check_payload(item, f"{pointer}/{i}"))
    return problems


def _check_dollar_value(key: str, item: Any, where: str) -> list[tuple[str, str]]:
    if not isinstance(item, str):
        return [(where, f"The value for the field '{key}' must be a valid JSONPath "
                        f"or a valid intrinsic function call")]
    if item.startswith("States."):
        problem = check_intrinsic(item)
    else:
        problem = check_path(item)
    if problem:
        return [(where, f"The value for the field '{key}' must be a valid JSONPath "
                        f"or a valid intrinsic function call ({problem})")]
    return []


def _escape_pointer(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")
