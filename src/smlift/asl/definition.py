"""A state machine definition: JSON -> frozen dataclasses, validated before anything runs.

`load_definition(data, tasks=None)` returns a `StateMachine` or raises `DefinitionError` whose
`problems` list *every* problem found, each with its JSON pointer (`/States/Predict/Next`), in
the spirit of AWS's `InvalidDefinition` (SCHEMA_VALIDATION_FAILED, MISSING_TRANSITION_TARGET,
UNREACHABLE_STATE, ...). It checks:

- the fields each state type accepts (and which belong to JSONPath or JSONata states),
- transitions: `Next` xor `End`, every target exists, every state is reachable from `StartAt`,
- Retry/Catch (`States.ALL` alone and last), Wait (exactly one of its four forms), Map and
  Parallel sub-machines (recursively),
- every path, payload template, intrinsic call, choice rule and JSONata expression, through the
  `check_*` functions of `jsonpath`, `payload`, `intrinsics`, `choice` and `jsonata`,
- Task resources against the `TaskRegistry` (a resource without a local handler is an error).

Fields keep their AWS values; absent fields are `ABSENT` (distinct from JSON null, which matters
for `ResultPath: null`). Each state type is its own dataclass, so the interpreter dispatches on the
class.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from ..errors import DefinitionError
from ..jsontext import loads
from . import validation


class _Absent:
    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT: Any = _Absent()
JSONPATH, JSONATA = "JSONPath", "JSONata"


@dataclass(frozen=True)
class Retrier:
    error_equals: tuple[str, ...]
    interval_seconds: float = 1.0
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: float | None = None
    jitter_strategy: str = "NONE"


@dataclass(frozen=True)
class Catcher:
    error_equals: tuple[str, ...]
    next: str
    result_path: Any = ABSENT
    output: Any = ABSENT
    assign: Any = ABSENT


@dataclass(frozen=True, kw_only=True)
class State:
    name: str
    pointer: str
    query_language: str
    comment: Any = ABSENT
    next: str | None = None
    end: bool = False
    input_path: Any = ABSENT
    output_path: Any = ABSENT
    assign: Any = ABSENT
    output: Any = ABSENT

    @property
    def type(self) -> str:
        return TYPE_NAMES[type(self)]

    @property
    def jsonata(self) -> bool:
        return self.query_language == JSONATA


@dataclass(frozen=True, kw_only=True)
class _Resulting(State):
    parameters: Any = ABSENT
    result_selector: Any = ABSENT
    result_path: Any = ABSENT
    arguments: Any = ABSENT
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()


@dataclass(frozen=True, kw_only=True)
class PassState(State):
    parameters: Any = ABSENT
    result: Any = ABSENT
    result_path: Any = ABSENT


@dataclass(frozen=True, kw_only=True)
class TaskState(_Resulting):
    resource: str = ""
    timeout_seconds: Any = ABSENT
    timeout_seconds_path: Any = ABSENT
    heartbeat_seconds: Any = ABSENT
    heartbeat_seconds_path: Any = ABSENT
    credentials: Any = ABSENT


@dataclass(frozen=True, kw_only=True)
class ChoiceState(State):
    choices: tuple[Mapping, ...] = ()
    default: str | None = None


@dataclass(frozen=True, kw_only=True)
class WaitState(State):
    seconds: Any = ABSENT
    timestamp: Any = ABSENT
    seconds_path: Any = ABSENT
    timestamp_path: Any = ABSENT


@dataclass(frozen=True, kw_only=True)
class SucceedState(State):
    pass


@dataclass(frozen=True, kw_only=True)
class FailState(State):
    error: Any = ABSENT
    cause: Any = ABSENT
    error_path: Any = ABSENT
    cause_path: Any = ABSENT


@dataclass(frozen=True, kw_only=True)
class ParallelState(_Resulting):
    branches: tuple["StateMachine", ...] = ()


@dataclass(frozen=True, kw_only=True)
class MapState(_Resulting):
    processor: "StateMachine | None" = None
    items_path: Any = ABSENT
    items: Any = ABSENT
    item_selector: Any = ABSENT
    max_concurrency: Any = ABSENT
    max_concurrency_path: Any = ABSENT
    tolerated_failure_percentage: Any = ABSENT
    tolerated_failure_percentage_path: Any = ABSENT
    tolerated_failure_count: Any = ABSENT
    tolerated_failure_count_path: Any = ABSENT
    label: Any = ABSENT
    item_batcher: Any = ABSENT
    mode: str = "INLINE"


@dataclass(frozen=True)
class StateMachine:
    start_at: str
    states: Mapping[str, State]
    query_language: str = JSONPATH
    timeout_seconds: Any = ABSENT
    pointer: str = ""
    blocking: bool = False  # has a Task or Wait state somewhere (needs a thread to run alongside)
    raw: Mapping = field(default_factory=dict, compare=False, repr=False)


TYPE_NAMES = {PassState: "Pass", TaskState: "Task", ChoiceState: "Choice", WaitState: "Wait",
              SucceedState: "Succeed", FailState: "Fail", ParallelState: "Parallel",
              MapState: "Map"}
CLASSES = {name: cls for cls, name in TYPE_NAMES.items()}

# AWS field -> dataclass attribute, for the fields copied as they are.
ATTRS = {
    "Comment": "comment", "InputPath": "input_path", "OutputPath": "output_path",
    "Assign": "assign", "Output": "output", "Parameters": "parameters",
    "ResultSelector": "result_selector", "ResultPath": "result_path", "Arguments": "arguments",
    "Result": "result", "Resource": "resource", "TimeoutSeconds": "timeout_seconds",
    "TimeoutSecondsPath": "timeout_seconds_path", "HeartbeatSeconds": "heartbeat_seconds",
    "HeartbeatSecondsPath": "heartbeat_seconds_path", "Credentials": "credentials",
    "Default": "default", "Seconds": "seconds", "Timestamp": "timestamp",
    "SecondsPath": "seconds_path", "TimestampPath": "timestamp_path", "Error": "error",
    "Cause": "cause", "ErrorPath": "error_path", "CausePath": "cause_path",
    "ItemsPath": "items_path", "Items": "items", "ItemSelector": "item_selector",
    "MaxConcurrency": "max_concurrency", "MaxConcurrencyPath": "max_concurrency_path",
    "ToleratedFailurePercentage": "tolerated_failure_percentage",
    "ToleratedFailurePercentagePath": "tolerated_failure_percentage_path",
    "ToleratedFailureCount": "tolerated_failure_count",
    "ToleratedFailureCountPath": "tolerated_failure_count_path", "Label": "label",
    "ItemBatcher": "item_batcher",
}

_COMMON = {"Type", "Comment", "QueryLanguage"}
_FLOW = {"Next", "End"}
_IO = {"InputPath", "OutputPath", "Assign", "Output"}
_RESULTING = _FLOW | _IO | {"Parameters", "ResultSelector", "ResultPath", "Arguments", "Retry",
                            "Catch"}
ALLOWED = {
    "Pass": _COMMON | _FLOW | _IO | {"Parameters", "Result", "ResultPath"},
    "Task": _COMMON | _RESULTING | {"Resource", "TimeoutSeconds", "TimeoutSecondsPath",
                                    "HeartbeatSeconds", "HeartbeatSecondsPath", "Credentials"},
    "Choice": _COMMON | _IO | {"Choices", "Default"},
    "Wait": _COMMON | _FLOW | _IO | {"Seconds", "Timestamp", "SecondsPath", "TimestampPath"},
    "Succeed": _COMMON | {"InputPath", "OutputPath", "Output"},
    "Fail": _COMMON | {"Error", "Cause", "ErrorPath", "CausePath"},
    "Parallel": _COMMON | _RESULTING | {"Branches"},
    "Map": _COMMON | _RESULTING | {
        "ItemsPath", "Items", "ItemSelector", "ItemProcessor", "Iterator", "MaxConcurrency",
        "MaxConcurrencyPath", "ToleratedFailurePercentage", "ToleratedFailurePercentagePath",
        "ToleratedFailureCount", "ToleratedFailureCountPath", "ItemReader", "ResultWriter",
        "ItemBatcher", "Label"},
}
# Fields that exist only in one query language.
JSONPATH_ONLY = {"InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath",
                 "Result", "ItemsPath", "SecondsPath", "TimestampPath", "ErrorPath", "CausePath",
                 "TimeoutSecondsPath", "HeartbeatSecondsPath", "MaxConcurrencyPath",
                 "ToleratedFailurePercentagePath", "ToleratedFailureCountPath"}
JSONATA_ONLY = {"Arguments", "Output"}
TOP_LEVEL = {"StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"}
SUB_MACHINE = {"StartAt", "States", "Comment", "ProcessorConfig", "QueryLanguage"}
RETRIER_FIELDS = {"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate",
                  "MaxDelaySeconds", "JitterStrategy", "Comment"}
CATCHER_FIELDS = {"ErrorEquals", "Next", "ResultPath", "Output", "Assign", "Comment"}
UNSUPPORTED_LOCALLY = {"ItemReader", "ResultWriter"}
BATCHER_FIELDS = {"MaxItemsPerBatch", "MaxItemsPerBatchPath", "MaxInputBytesPerBatch",
                  "MaxInputBytesPerBatchPath", "BatchInput"}


def pointer_token(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


class _Problems(list):
    def add(self, where: str, message: str) -> None:
        self.append((where or "/", message))


def load_definition(data: Any, tasks=None) -> StateMachine:
    """Parse and validate a definition (a dict or JSON text). Raises DefinitionError."""
    if isinstance(data, (str, bytes)):
        try:
            data = loads(data)
        except ValueError as exc:
            raise DefinitionError(f"the definition is not valid JSON: {exc}", where="/",
                                  fix="check the file with a JSON linter") from exc
    problems = _Problems()
    if not isinstance(data, dict):
        raise DefinitionError("the definition must be a JSON object", where="/",
                              fix='write {"StartAt": "...", "States": {...}} at the top level')
    for key in data:
        if key not in TOP_LEVEL:
            problems.add(f"/{pointer_token(key)}", _unsupported(key))
    language = data.get("QueryLanguage", JSONPATH)
    if language not in (JSONPATH, JSONATA):
        problems.add("/QueryLanguage", "QueryLanguage must be 'JSONPath' or 'JSONata'")
        language = JSONPATH
    timeout = data.get("TimeoutSeconds", ABSENT)
    if timeout is not ABSENT and not _positive_int(timeout):
        problems.add("/TimeoutSeconds", "TimeoutSeconds must be a positive integer")
    machine = _machine(data, "", language, problems, tasks, top=True)
    if problems:
        first_where, first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise DefinitionError(f"Invalid State Machine Definition: {first}{more}",
                              where=first_where, problems=list(problems),
                              fix="correct the definition at the JSON pointer shown")
    return machine


def _unsupported(key: str) -> str:
    return f"SCHEMA_VALIDATION_FAILED: The field '{key}' is not supported by Step Functions"


def _machine(data: dict, pointer: str, language: str, problems: _Problems, tasks,
             top: bool = False) -> StateMachine | None:
    if not top:
        for key in data:
            if key not in SUB_MACHINE:
                problems.add(f"{pointer}/{pointer_token(key)}", _unsupported(key))
        language = data.get("QueryLanguage", language)
    start_at, raw_states = data.get("StartAt"), data.get("States")
    if not isinstance(start_at, str):
        problems.add(f"{pointer}/StartAt", "SCHEMA_VALIDATION_FAILED: StartAt is required "
                     "and must be a state name")
    if not isinstance(raw_states, dict) or not raw_states:
        problems.add(f"{pointer}/States", "SCHEMA_VALIDATION_FAILED: States must be a "
                     "non-empty object")
        return None
    states: dict[str, State] = {}
    for name, raw in raw_states.items():
        where = f"{pointer}/States/{pointer_token(name)}"
        state = _state(name, raw, where, language, problems, tasks)
        if state is not None:
            states[name] = state
    if isinstance(start_at, str) and start_at not in raw_states:
        problems.add(f"{pointer}/StartAt", f"MISSING_TRANSITION_TARGET: Missing 'Next' "
                     f"target: {start_at}")
    _check_transitions(states, raw_states, pointer, problems)
    if isinstance(start_at, str) and start_at in states:
        _check_reachable(start_at, states, pointer, problems)
    blocking = any(_is_blocking(s) for s in states.values())
    return StateMachine(start_at=start_at or "", states=MappingProxyType(states),
                        query_language=language,
                        timeout_seconds=data.get("TimeoutSeconds", ABSENT) if top else ABSENT,
                        pointer=pointer, blocking=blocking, raw=data)


def _is_blocking(state: State) -> bool:
    if isinstance(state, (TaskState, WaitState)):
        return True
    if isinstance(state, ParallelState):
        return any(b.blocking for b in state.branches if b)
    if isinstance(state, MapState):
        return bool(state.processor and state.processor.blocking)
    return False


def _state(name: str, raw: Any, where: str, language: str, problems: _Problems,
           tasks) -> State | None:
    if len(name) > 80:
        problems.add(where, "SCHEMA_VALIDATION_FAILED: a state name must be at most 80 "
                     "characters")
    if not isinstance(raw, dict):
        problems.add(where, "SCHEMA_VALIDATION_FAILED: a state must be a JSON object")
        return None
    type_name = raw.get("Type")
    if type_name not in ALLOWED:
        problems.add(f"{where}/Type", f"SCHEMA_VALIDATION_FAILED: unknown state Type "
                     f"{type_name!r}; expected one of {', '.join(sorted(ALLOWED))}")
        return None
    state_language = raw.get("QueryLanguage", language)
    if state_language not in (JSONPATH, JSONATA):
        problems.add(f"{where}/QueryLanguage", "QueryLanguage must be 'JSONPath' or 'JSONata'")
        state_language = language
    elif language == JSONATA and state_language == JSONPATH:
        problems.add(f"{where}/QueryLanguage", "SCHEMA_VALIDATION_FAILED: a state cannot use "
                     "JSONPath when the state machine's QueryLanguage is JSONata")
    _check_fields(raw, type_name, where, state_language, problems)
    kwargs = {attr_: raw[key] for key, attr_ in ATTRS.items()
              if key in raw and key in ALLOWED[type_name]}
    kwargs.update(name=name, pointer=where, query_language=state_language)
    _flow(raw, type_name, where, problems, kwargs)
    builder = _BUILDERS.get(type_name)
    if builder:
        builder(raw, where, state_language, problems, tasks, kwargs)
    validation.check_state(raw, type_name, where, state_language, problems, tasks)
    try:
        return CLASSES[type_name](**kwargs)
    except TypeError as exc:  # a field of the wrong shape we already reported
        problems.add(where, f"SCHEMA_VALIDATION_FAILED: {exc}")
        return None


def _check_fields(raw: dict, type_name: str, where: str, language: str,
                  problems: _Problems) -> None:
    for key in raw:
        if key not in ALLOWED[type_name]:
            problems.add(f"{where}/{pointer_token(key)}",
                         f"{_unsupported(key)} in a {type_name} state")
        elif language == JSONATA and key in JSONPATH_ONLY:
            problems.add(f"{where}/{pointer_token(key)}", f"SCHEMA_VALIDATION_FAILED: The "
                         f"field '{key}' is not supported in a JSONata state; use Arguments, "
                         f"Output or a {{% %}} expression")
        elif language == JSONPATH and key in JSONATA_ONLY:
            problems.add(f"{where}/{pointer_token(key)}", f"SCHEMA_VALIDATION_FAILED: The "
                         f"field '{key}' is only supported with QueryLanguage JSONata")
        elif key in UNSUPPORTED_LOCALLY:
            problems.add(f"{where}/{key}", f"the local engine does not run {key} (Distributed "
                         f"Map reading or writing S3); run this state machine on AWS")
    if isinstance(raw.get("ItemBatcher"), dict):
        _check_batcher(raw["ItemBatcher"], f"{where}/ItemBatcher", language, problems)


def _check_batcher(batcher: dict, where: str, language: str, problems: _Problems) -> None:
    for key in batcher:
        if key not in BATCHER_FIELDS:
            problems.add(f"{where}/{pointer_token(key)}", _unsupported(key) + " in ItemBatcher")
        elif language == JSONATA and key.endswith("Path"):
            problems.add(f"{where}/{key}", f"SCHEMA_VALIDATION_FAILED: The field '{key}' is not "
                         f"supported in a JSONata state")
    if not any(k.startswith(("MaxItemsPerBatch", "MaxInputBytesPerBatch")) for k in batcher):
        problems.add(where, "SCHEMA_VALIDATION_FAILED: ItemBatcher needs MaxItemsPerBatch or "
                     "MaxInputBytesPerBatch (or their Path forms)")


def _flow(raw: dict, type_name: str, where: str, problems: _Problems, kwargs: dict) -> None:
    if type_name in ("Choice", "Succeed", "Fail"):
        return
    has_next, end = "Next" in raw, raw.get("End", False)
    if has_next and end:
        problems.add(f"{where}/End", "SCHEMA_VALIDATION_FAILED: a state cannot have both "
                     "Next and End")
    elif not has_next and end is not True:
        problems.add(where, "SCHEMA_VALIDATION_FAILED: the state needs either 'Next' or "
                     "'End': true")
    if has_next and not isinstance(raw["Next"], str):
        problems.add(f"{where}/Next", "SCHEMA_VALIDATION_FAILED: Next must be a state name")
    kwargs["next"] = raw.get("Next") if isinstance(raw.get("Next"), str) else None
    kwargs["end"] = end is True


def _build_task(raw, where, language, problems, tasks, kwargs):
    resource = raw.get("Resource")
    if not isinstance(resource, str) or not resource:
        problems.add(f"{where}/Resource", "SCHEMA_VALIDATION_FAILED: a Task needs a Resource "
                     "(an ARN string)")
        kwargs["resource"] = ""
    elif tasks is not None:
        message = tasks.check(resource)
        if message:
            problems.add(f"{where}/Resource", message)
    _retry_catch(raw, where, problems, kwargs)


def _build_choice(raw, where, language, problems, tasks, kwargs):
    choices = raw.get("Choices")
    if not isinstance(choices, list) or not choices:
        problems.add(f"{where}/Choices", "SCHEMA_VALIDATION_FAILED: Choices must be a "
                     "non-empty array")
        choices = []
    kwargs["choices"] = tuple(c for c in choices if isinstance(c, dict))
    if "Default" in raw and not isinstance(raw["Default"], str):
        problems.add(f"{where}/Default", "SCHEMA_VALIDATION_FAILED: Default must be a state "
                     "name")
        kwargs["default"] = None


def _build_parallel(raw, where, language, problems, tasks, kwargs):
    branches = raw.get("Branches")
    if not isinstance(branches, list) or not branches:
        problems.add(f"{where}/Branches", "SCHEMA_VALIDATION_FAILED: Branches must be a "
                     "non-empty array of state machines")
        branches = []
    built = []
    for index, branch in enumerate(branches):
        here = f"{where}/Branches/{index}"
        if not isinstance(branch, dict):
            problems.add(here, "SCHEMA_VALIDATION_FAILED: a branch must be a JSON object")
            continue
        built.append(_machine(branch, here, language, problems, tasks))
    kwargs["branches"] = tuple(built)
    _retry_catch(raw, where, problems, kwargs)


def _build_map(raw, where, language, problems, tasks, kwargs):
    key = "ItemProcessor" if "ItemProcessor" in raw else "Iterator"
    processor = raw.get(key)
    if "ItemProcessor" in raw and "Iterator" in raw:
        problems.add(f"{where}/Iterator", "SCHEMA_VALIDATION_FAILED: use ItemProcessor or "
                     "Iterator, not both")
    if not isinstance(processor, dict):
        problems.add(f"{where}/ItemProcessor", "SCHEMA_VALIDATION_FAILED: a Map state needs "
                     "an ItemProcessor (or Iterator) object")
        processor = None
    if "ItemsPath" in raw and "Items" in raw:
        problems.add(f"{where}/Items", "SCHEMA_VALIDATION_FAILED: use ItemsPath or Items, "
                     "not both")
    if "Parameters" in raw and "ItemSelector" in raw:
        problems.add(f"{where}/Parameters", "SCHEMA_VALIDATION_FAILED: use ItemSelector or "
                     "Parameters, not both")
    if processor is not None:
        config = processor.get("ProcessorConfig", {})
        mode = config.get("Mode", "INLINE") if isinstance(config, dict) else "INLINE"
        if mode not in ("INLINE", "DISTRIBUTED"):
            problems.add(f"{where}/{key}/ProcessorConfig/Mode", "SCHEMA_VALIDATION_FAILED: "
                         "Mode must be INLINE or DISTRIBUTED")
        kwargs["mode"] = mode
        kwargs["processor"] = _machine(processor, f"{where}/{key}", language, problems, tasks)
    _retry_catch(raw, where, problems, kwargs)


def _retry_catch(raw: dict, where: str, problems: _Problems, kwargs: dict) -> None:
    kwargs["retry"] = tuple(_retriers(raw.get("Retry", []), f"{where}/Retry", problems))
    kwargs["catch"] = tuple(_catchers(raw.get("Catch", []), f"{where}/Catch", problems))


def _error_equals(raw: dict, where: str, problems: _Problems, last: bool) -> tuple[str, ...]:
    names = raw.get("ErrorEquals")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        problems.add(f"{where}/ErrorEquals", "SCHEMA_VALIDATION_FAILED: ErrorEquals must be "
                     "a non-empty array of error names")
        return ()
    if "States.ALL" in names and (len(names) > 1 or not last):
        problems.add(f"{where}/ErrorEquals", "SCHEMA_VALIDATION_FAILED: States.ALL must "
                     "appear alone in ErrorEquals, in the last retrier or catcher")
    return tuple(names)


def _handlers(items: Any, where: str, problems: _Problems, field: str, kind: str,
              allowed) -> list[tuple[str, dict, bool]]:
    """The objects of a Retry or Catch array as (pointer, object, is last), each checked for
    its type and unknown fields (problems are recorded, bad entries skipped)."""
    if not isinstance(items, list):
        problems.add(where, f"SCHEMA_VALIDATION_FAILED: {field} must be an array")
        return []
    valid = []
    for index, raw in enumerate(items):
        here = f"{where}/{index}"
        if not isinstance(raw, dict):
            problems.add(here, f"SCHEMA_VALIDATION_FAILED: a {kind} must be an object")
            continue
        for key in raw:
            if key not in allowed:
                problems.add(f"{here}/{pointer_token(key)}", _unsupported(key) + f" in a {kind}")
        valid.append((here, raw, index == len(items) - 1))
    return valid


def _retriers(items: Any, where: str, problems: _Problems) -> list[Retrier]:
    built = []
    for here, raw, last in _handlers(items, where, problems, "Retry", "retrier", RETRIER_FIELDS):
        names = _error_equals(raw, here, problems, last)
        values = _retrier_values(raw, here, problems)
        built.append(Retrier(error_equals=names, **values))
    return built


def _retrier_values(raw: dict, where: str, problems: _Problems) -> dict:
    values = {"interval_seconds": raw.get("IntervalSeconds", 1),
              "max_attempts": raw.get("MaxAttempts", 3),
              "backoff_rate": raw.get("BackoffRate", 2.0),
              "max_delay_seconds": raw.get("MaxDelaySeconds"),
              "jitter_strategy": raw.get("JitterStrategy", "NONE")}
    if not _positive_int(values["interval_seconds"]):
        problems.add(f"{where}/IntervalSeconds", "IntervalSeconds must be a positive integer")
        values["interval_seconds"] = 1
    if not (_int(values["max_attempts"]) and values["max_attempts"] >= 0):
        problems.add(f"{where}/MaxAttempts", "MaxAttempts must be a non-negative integer")
        values["max_attempts"] = 0
    if not (_number(values["backoff_rate"]) and values["backoff_rate"] >= 1.0):
        problems.add(f"{where}/BackoffRate", "BackoffRate must be a number >= 1.0")
        values["backoff_rate"] = 1.0
    if values["max_delay_seconds"] is not None and not _positive_int(values["max_delay_seconds"]):
        problems.add(f"{where}/MaxDelaySeconds", "MaxDelaySeconds must be a positive integer")
        values["max_delay_seconds"] = None
    if values["jitter_strategy"] not in ("FULL", "NONE"):
        problems.add(f"{where}/JitterStrategy", "JitterStrategy must be FULL or NONE")
        values["jitter_strategy"] = "NONE"
    return values


def _catchers(items: Any, where: str, problems: _Problems) -> list[Catcher]:
    built = []
    for here, raw, last in _handlers(items, where, problems, "Catch", "catcher", CATCHER_FIELDS):
        names = _error_equals(raw, here, problems, last)
        if not isinstance(raw.get("Next"), str):
            problems.add(f"{here}/Next", "SCHEMA_VALIDATION_FAILED: a catcher needs Next")
        built.append(Catcher(error_equals=names, next=raw.get("Next") or "",
                             result_path=raw.get("ResultPath", ABSENT),
                             output=raw.get("Output", ABSENT), assign=raw.get("Assign", ABSENT)))
    return built


_BUILDERS = {"Task": _build_task, "Choice": _build_choice, "Parallel": _build_parallel,
             "Map": _build_map}


def _targets(state: State) -> list[tuple[str, str]]:
    """(pointer, target) for every transition out of `state`."""
    out = []
    if state.next:
        out.append((f"{state.pointer}/Next", state.next))
    if isinstance(state, ChoiceState):
        for index, rule in enumerate(state.choices):
            if isinstance(rule.get("Next"), str):
                out.append((f"{state.pointer}/Choices/{index}/Next", rule["Next"]))
        if state.default:
            out.append((f"{state.pointer}/Default", state.default))
    for index, catcher in enumerate(getattr(state, "catch", ())):
        if catcher.next:
            out.append((f"{state.pointer}/Catch/{index}/Next", catcher.next))
    return out


def _check_transitions(states: dict, raw_states: dict, pointer: str,
                       problems: _Problems) -> None:
    for state in states.values():
        for where, target in _targets(state):
            if target not in raw_states:
                problems.add(where, f"MISSING_TRANSITION_TARGET: Missing 'Next' target: "
                             f"{target}")
        if isinstance(state, ChoiceState):
            for index, rule in enumerate(state.choices):
                if "Next" not in rule:
                    problems.add(f"{state.pointer}/Choices/{index}/Next",
                                 "SCHEMA_VALIDATION_FAILED: a choice rule needs Next")


def _check_reachable(start: str, states: dict, pointer: str, problems: _Problems) -> None:
    seen, todo = {start}, [start]
    while todo:
        for _, target in _targets(states[todo.pop()]):
            if target in states and target not in seen:
                seen.add(target)
                todo.append(target)
    for name in states:
        if name not in seen:
            problems.add(f"{pointer}/States/{pointer_token(name)}",
                         f"UNREACHABLE_STATE: State '{name}' is not reachable from StartAt")


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _positive_int(value: Any) -> bool:
    return _int(value) and value > 0
