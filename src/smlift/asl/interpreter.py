"""One function per simple state type, and `HANDLERS`: the dispatch table of every state type.

A body takes a `Step` (the state, its raw input, its lane, the entered event id; see
`steps.py`, which also holds the run loop and the entered -> body -> Retry/Catch -> exited
template) and returns `(output, next_state_name)`, None for the name when the lane ends:

    run_pass, run_succeed, run_fail, run_choice, run_wait    here
    run_task                                                 task_state.py
    run_parallel                                             parallel.py
    run_map                                                  map_state.py

`HANDLERS` maps each state class of `definition.py` to its body. The engine hands it to the
run (`Run(handlers=HANDLERS)`), so the loop in `steps.py` dispatches through it without
importing the bodies that themselves run the loop (Map, Parallel).
"""

from __future__ import annotations

from typing import Any

from ..errors import StatesError
from . import choice, intrinsics, jsonpath
from .context import parse_timestamp
from .definition import (ABSENT, ChoiceState, FailState, MapState, ParallelState, PassState,
                         SucceedState, TaskState, WaitState)
from .map_state import run_map
from .parallel import run_parallel
from .jsonpath import json_type, to_json
from .steps import (FailStateError, Step, apply_output_path, jsonata_output, jsonata_value,
                    jsonpath_assign, jsonpath_input, jsonpath_output)
from .task_state import run_task


def run_pass(step: Step) -> tuple[Any, str | None]:
    state: PassState = step.state
    if state.jsonata:
        return jsonata_output(step, step.raw), state.next
    result = jsonpath_input(step, state.parameters)  # InputPath, Parameters: may fail
    if state.result is not ABSENT:
        result = state.result
    return jsonpath_output(step, result, result_path=state.result_path), state.next


def run_succeed(step: Step) -> tuple[Any, str | None]:
    if step.state.jsonata:
        return jsonata_output(step, step.raw), None
    return apply_output_path(step, jsonpath_input(step)), None


def run_fail(step: Step) -> tuple[Any, str | None]:
    state: FailState = step.state
    if state.jsonata:
        error = jsonata_value(step, state.error, "Error") if state.error is not ABSENT else None
        cause = jsonata_value(step, state.cause, "Cause") if state.cause is not ABSENT else None
    else:
        error = _fail_field(step, state.error, state.error_path, "ErrorPath")
        cause = _fail_field(step, state.cause, state.cause_path, "CausePath")
    raise FailStateError(error, cause)


def _fail_field(step: Step, literal: Any, path: Any, field_name: str) -> Any:
    if literal is not ABSENT:
        return literal
    if path is ABSENT:
        return None
    if intrinsics.is_intrinsic(path):
        return intrinsics.evaluate_intrinsic(path, step.raw, **step.scope)
    try:
        return jsonpath.select_path(path, step.raw, **step.scope)
    except StatesError as exc:
        if exc.error != "States.Runtime":
            raise
        raise jsonpath.field_not_found(path, field_name, step.raw) from None


def run_choice(step: Step) -> tuple[Any, str | None]:
    state: ChoiceState = step.state
    if state.jsonata:
        return _choice_jsonata(step, state)
    effective = jsonpath_input(step)
    for rule in state.choices:
        if choice.evaluate_choice_rule(rule, effective, **step.scope):
            return _choice_exit(step, effective, rule.get("Assign", ABSENT)), rule["Next"]
    if state.default is None:
        raise _no_choice()
    return _choice_exit(step, effective, state.assign), state.default


def _choice_exit(step: Step, effective: Any, assign: Any) -> Any:
    assigned = jsonpath_assign(step, assign, effective)
    output = apply_output_path(step, effective)
    step.commit(assigned)
    return output


def _no_choice() -> StatesError:
    return StatesError("States.NoChoiceMatched", "No Choice Rules matched and no Default "
                       "state was specified")


def _choice_jsonata(step: Step, state: ChoiceState) -> tuple[Any, str | None]:
    bindings = step.bindings()
    for rule in state.choices:
        if choice.evaluate_choice_rule(rule, step.raw, bindings=bindings):
            return _jsonata_rule_exit(step, rule), rule["Next"]
    if state.default is None:
        raise _no_choice()
    return jsonata_output(step, step.raw), state.default


def _jsonata_rule_exit(step: Step, rule: dict) -> Any:
    """A matched rule's own Assign and Output (the state-level ones serve the Default)."""
    assigned = jsonata_value(step, rule["Assign"], "Assign") if "Assign" in rule else None
    output = jsonata_value(step, rule["Output"], "Output") if "Output" in rule else step.raw
    step.commit(assigned)
    return output


MAX_WAIT_SECONDS = 99999999  # "a positive, integer value from 0 up to 99999999" (AWS docs)


def run_wait(step: Step) -> tuple[Any, str | None]:
    state: WaitState = step.state
    if state.jsonata:
        seconds = _wait_seconds_jsonata(step, state)
    else:
        seconds = _wait_seconds_jsonpath(step, state, jsonpath_input(step))
    if seconds > MAX_WAIT_SECONDS:  # AWS's limit for Seconds; longer would overflow the clock
        raise StatesError("States.Runtime", f"The Wait state would wait {seconds:.0f} seconds; "
                          f"the most a Wait state can wait is {MAX_WAIT_SECONDS} seconds")
    if seconds > 0:
        step.run.sleep(seconds, step.lane)
    if state.jsonata:
        return jsonata_output(step, step.raw), state.next
    effective = jsonpath_input(step)
    assigned = jsonpath_assign(step, state.assign, effective)
    output = apply_output_path(step, effective)
    step.commit(assigned)
    return output, state.next


def _wait_seconds_jsonpath(step: Step, state: WaitState, effective: Any) -> float:
    if state.seconds is not ABSENT:
        return float(state.seconds)
    if state.timestamp is not ABSENT:
        return _until(step, state.timestamp, "Timestamp", None)
    if state.seconds_path is not ABSENT:
        value = _wait_path_value(step, state.seconds_path, "SecondsPath", effective)
        where = f"{state.seconds_path} == {_plain(value)}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise StatesError("States.Runtime", f"The SecondsPath parameter cannot be parsed as "
                              f"a long value: {where}")
        if value < 0:
            raise StatesError("States.Runtime", f"The SecondsPath parameter references a "
                              f"negative value: {where}")
        return float(value)
    value = _wait_path_value(step, state.timestamp_path, "TimestampPath", effective)
    return _until(step, value, "TimestampPath", state.timestamp_path)


def _wait_path_value(step: Step, path: str, field_name: str, effective: Any) -> Any:
    try:
        return jsonpath.select_path(path, effective, **step.scope)
    except StatesError as exc:
        if exc.error != "States.Runtime":
            raise
        raise StatesError("States.Runtime", f"The {field_name} parameter does not reference "
                          f"an input value: {path}") from None


def _wait_seconds_jsonata(step: Step, state: WaitState) -> float:
    if state.seconds is not ABSENT:
        value = jsonata_value(step, state.seconds, "Seconds")
        if not _is_int(value) or value < 0:
            raise StatesError("States.QueryEvaluationError", f"The JSONata expression specified "
                              f"for the field 'Seconds' returned an unexpected result type. "
                              f"Expected 'integer', but was '{json_type(value)}' for value: "
                              f"{to_json(value)}")
        return float(value)
    value = jsonata_value(step, state.timestamp, "Timestamp")
    return _until(step, value, "Timestamp", None)


def _until(step: Step, text: Any, field_name: str, path: str | None) -> float:
    moment = parse_timestamp(text)
    if moment is None:
        where = f": {path} == {_plain(text)}" if path else f": {_plain(text)}"
        raise StatesError("States.Runtime", f"The {field_name} parameter does not reference a "
                          f"valid ISO-8601 extended offset date-time format string{where}")
    return max(0.0, moment - step.run.clock.now())


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else to_json(value)


HANDLERS = {PassState: run_pass, SucceedState: run_succeed, FailState: run_fail,
            ChoiceState: run_choice, WaitState: run_wait, TaskState: run_task,
            ParallelState: run_parallel, MapState: run_map}
