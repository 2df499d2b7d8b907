"""The expression and value checks of definition validation, one state at a time.

`definition.py` checks the structure (fields, transitions, reachability, Retry/Catch); this
module checks what is *inside* the fields: every JSONPath, payload template, intrinsic call and
choice rule (JSONPath states), every `{% %}` expression (JSONata states), and the values of Wait,
Task, Fail and Map fields. The expression parsers belong to `jsonpath`, `payload`, `intrinsics`,
`choice` and `jsonata`; this module only walks the definition and collects their
`(pointer, message)`s.
"""

from __future__ import annotations

from typing import Any

from . import choice, intrinsics, jsonata, jsonpath, payload
from .context import parse_timestamp

PATH_FIELDS = ("InputPath", "OutputPath", "ItemsPath", "SecondsPath", "TimestampPath",
               "TimeoutSecondsPath", "HeartbeatSecondsPath", "MaxConcurrencyPath",
               "ToleratedFailurePercentagePath", "ToleratedFailureCountPath")
PAYLOAD_FIELDS = ("Parameters", "ResultSelector", "ItemSelector", "Assign")
JSONATA_FIELDS = ("Arguments", "Output", "Assign", "Items", "ItemSelector", "Seconds",
                  "Timestamp", "Error", "Cause", "MaxConcurrency", "ToleratedFailurePercentage",
                  "ToleratedFailureCount", "TimeoutSeconds", "HeartbeatSeconds")


def check_state(raw: dict, type_name: str, where: str, language: str, problems,
                tasks=None) -> None:
    """Append every problem of this state's expressions and values to `problems`."""
    if language == "JSONata":
        _check_jsonata_state(raw, type_name, where, problems)
    else:
        _check_jsonpath_state(raw, type_name, where, problems)
    _check_catchers(raw, where, language, problems)
    checker = VALUE_CHECKS.get(type_name)
    if checker:
        checker(raw, where, language, problems)


def _check_jsonpath_state(raw: dict, type_name: str, where: str, problems) -> None:
    for key in PATH_FIELDS:
        if isinstance(raw.get(key), str):
            problem = jsonpath.check_path(raw[key])
            if problem:
                problems.add(f"{where}/{key}", problem)
    for key in ("ErrorPath", "CausePath"):
        if isinstance(raw.get(key), str):
            problem = _check_path_or_intrinsic(raw[key])
            if problem:
                problems.add(f"{where}/{key}", problem)
    if isinstance(raw.get("ResultPath"), str):
        problem = jsonpath.check_reference_path(raw["ResultPath"])
        if problem:
            problems.add(f"{where}/ResultPath", problem)
    for key in PAYLOAD_FIELDS:
        if key in raw:
            problems.extend(payload.check_payload(raw[key], f"{where}/{key}"))
    if type_name == "Map" and "Parameters" in raw:
        pass  # already checked above as a payload
    for index, rule in enumerate(raw.get("Choices") or []):
        if isinstance(rule, dict):
            here = f"{where}/Choices/{index}"
            problems.extend(choice.check_choice_rule(rule, here))
            if "Assign" in rule:
                problems.extend(payload.check_payload(rule["Assign"], f"{here}/Assign"))


def _check_path_or_intrinsic(text: str) -> str | None:
    if intrinsics.is_intrinsic(text):
        return intrinsics.check_intrinsic(text)
    return jsonpath.check_path(text)


def _check_jsonata_state(raw: dict, type_name: str, where: str, problems) -> None:
    for key in JSONATA_FIELDS:
        if key in raw:
            problems.extend(jsonata.check_template(raw[key], f"{where}/{key}"))
    for index, rule in enumerate(raw.get("Choices") or []):
        if not isinstance(rule, dict):
            continue
        here = f"{where}/Choices/{index}"
        if "Condition" not in rule:
            problems.add(f"{here}/Condition", "SCHEMA_VALIDATION_FAILED: a JSONata choice rule "
                         "needs a Condition")
            continue
        problems.extend(choice.check_choice_rule(rule, here))
        for key in ("Assign", "Output"):
            if key in rule:
                problems.extend(jsonata.check_template(rule[key], f"{here}/{key}"))


def _check_catchers(raw: dict, where: str, language: str, problems) -> None:
    catchers = raw.get("Catch")
    if not isinstance(catchers, list):
        return
    for index, catcher in enumerate(catchers):
        if not isinstance(catcher, dict):
            continue
        here = f"{where}/Catch/{index}"
        if language == "JSONata":
            for key in ("Output", "Assign"):
                if key in catcher:
                    problems.extend(jsonata.check_template(catcher[key], f"{here}/{key}"))
            if "ResultPath" in catcher:
                problems.add(f"{here}/ResultPath", "SCHEMA_VALIDATION_FAILED: The field "
                             "'ResultPath' is not supported in a JSONata state; use Output")
            continue
        if isinstance(catcher.get("ResultPath"), str):
            problem = jsonpath.check_reference_path(catcher["ResultPath"])
            if problem:
                problems.add(f"{here}/ResultPath", problem)
        if "Assign" in catcher:
            problems.extend(payload.check_payload(catcher["Assign"], f"{here}/Assign"))
        if "Output" in catcher:
            problems.add(f"{here}/Output", "SCHEMA_VALIDATION_FAILED: The field 'Output' is "
                         "only supported with QueryLanguage JSONata")


def _is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}")


def _non_negative_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_wait(raw: dict, where: str, language: str, problems) -> None:
    forms = [k for k in ("Seconds", "Timestamp", "SecondsPath", "TimestampPath") if k in raw]
    if len(forms) != 1:
        problems.add(where, "SCHEMA_VALIDATION_FAILED: a Wait state needs exactly one of "
                     "Seconds, Timestamp, SecondsPath or TimestampPath")
    seconds = raw.get("Seconds")
    if "Seconds" in raw and not (_non_negative_int(seconds) and seconds <= 99999999
                                 or _is_expression(seconds)):
        problems.add(f"{where}/Seconds", "Seconds must be an integer from 0 to 99999999"
                     + (" or a {% %} expression" if language == "JSONata" else ""))
    if "Timestamp" in raw and not _is_expression(raw["Timestamp"]):
        if not isinstance(raw["Timestamp"], str) or parse_timestamp(raw["Timestamp"]) is None:
            problems.add(f"{where}/Timestamp", "Timestamp must be an ISO-8601 extended offset "
                         "date-time string such as 2016-03-14T01:59:00Z")


def _check_task(raw: dict, where: str, language: str, problems) -> None:
    for key in ("TimeoutSeconds", "HeartbeatSeconds"):
        value = raw.get(key)
        if key in raw and not (_non_negative_int(value) and value > 0 or _is_expression(value)):
            problems.add(f"{where}/{key}", f"{key} must be a positive integer")
        if key in raw and f"{key}Path" in raw:
            problems.add(f"{where}/{key}Path", f"use {key} or {key}Path, not both")
    timeout, heartbeat = raw.get("TimeoutSeconds"), raw.get("HeartbeatSeconds")
    if _non_negative_int(timeout) and _non_negative_int(heartbeat) and heartbeat >= timeout:
        problems.add(f"{where}/HeartbeatSeconds", "HeartbeatSeconds must be smaller than "
                     "TimeoutSeconds")


def _check_fail(raw: dict, where: str, language: str, problems) -> None:
    for key in ("Error", "Cause"):
        if key in raw and f"{key}Path" in raw:
            problems.add(f"{where}/{key}Path", f"use {key} or {key}Path, not both")
        if key in raw and not isinstance(raw[key], str):
            problems.add(f"{where}/{key}", f"{key} must be a string")


def _check_map(raw: dict, where: str, language: str, problems) -> None:
    checks = (("MaxConcurrency", lambda v: _non_negative_int(v)),
              ("ToleratedFailureCount", lambda v: _non_negative_int(v)),
              ("ToleratedFailurePercentage",
               lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
               and 0 <= v <= 100))
    for key, ok in checks:
        if key in raw and not (ok(raw[key]) or _is_expression(raw[key])):
            problems.add(f"{where}/{key}", f"{key} has an invalid value {raw[key]!r}")
        if key in raw and f"{key}Path" in raw:
            problems.add(f"{where}/{key}Path", f"use {key} or {key}Path, not both")


VALUE_CHECKS = {"Wait": _check_wait, "Task": _check_task, "Fail": _check_fail,
                "Map": _check_map}
