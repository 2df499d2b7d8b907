"""The Task state: resolve the parameters, call the registered handler, watch its time.

The handler runs in a worker thread while the state's thread watches four things: the handler
finishing, `TimeoutSeconds` (States.Timeout), `HeartbeatSeconds` without a `request.heartbeat()`
(also States.Timeout, as AWS records it, but matched by States.HeartbeatTimeout too) and a stop
of the execution. On a timeout or a stop the request's
`cancelled` event is set, so a handler that started a job stops it, and the engine waits a
moment for the handler to return before going on.

History: TaskScheduled, TaskStarted, TaskSubmitted (when the handler calls
`request.emit_submitted`), then TaskSucceeded, TaskFailed or TaskTimedOut, as AWS writes them.
The history is flushed to the store when the task starts and when it ends.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from ..errors import StatesError
from . import jsonpath, payload
from .definition import ABSENT, TaskState
from .jsonpath import to_json
from .steps import (Halted, Step, jsonata_output, jsonata_value, jsonpath_input,
                    jsonpath_output)
from .tasks import TaskRequest

POLL_SECONDS = 0.05
CANCEL_GRACE_SECONDS = 10.0


class HeartbeatTimedOut(StatesError):
    """A missed heartbeat. AWS records it as `States.Timeout` without a cause (TaskTimedOut,
    the error output); in ErrorEquals, `States.HeartbeatTimeout` matches it as well."""

    match_as = "States.HeartbeatTimeout"


def run_task(step: Step) -> tuple[Any, str | None]:
    state: TaskState = step.state
    if state.jsonata:
        parameters = (jsonata_value(step, state.arguments, "Arguments")
                      if state.arguments is not ABSENT else step.raw)
        credentials = (jsonata_value(step, state.credentials, "Credentials")
                       if state.credentials is not ABSENT else None)
    else:
        parameters = jsonpath_input(step, state.parameters)
        credentials = (payload.resolve_payload(state.credentials, step.raw, **step.scope)
                       if state.credentials is not ABSENT else None)
    timeout = _seconds(step, state.timeout_seconds, state.timeout_seconds_path, "TimeoutSeconds")
    heartbeat = _seconds(step, state.heartbeat_seconds, state.heartbeat_seconds_path,
                         "HeartbeatSeconds")
    result = invoke(step, parameters, timeout, heartbeat, credentials)
    if state.jsonata:
        return jsonata_output(step, result, result=result), state.next
    return jsonpath_output(step, result, state.result_selector, state.result_path), state.next


def _seconds(step: Step, literal: Any, path: Any, name: str) -> float | None:
    if literal is not ABSENT:
        value = (jsonata_value(step, literal, name) if isinstance(literal, str) else literal)
    elif path is not ABSENT:
        value = jsonpath.select_path(path, jsonpath_input(step), **step.scope)
    else:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0 or (
            isinstance(value, float) and not value.is_integer()):  # AWS: a positive integer
        raise StatesError("States.Runtime", f"The {name} field refers to value "
                          f"\"{value if isinstance(value, str) else to_json(value)}\" which is "
                          f"not a valid positive integer")
    return float(value)


def describe_resource(resource: str) -> tuple[str, str]:
    """(resourceType, resource) as history events show them: `sagemaker`,
    `createProcessingJob.sync` for `arn:aws:states:::sagemaker:createProcessingJob.sync`."""
    match = re.match(r"^arn:[^:]+:states:[^:]*:[^:]*:([^:]+):(.+)$", resource)
    if match:
        return match.group(1), match.group(2)
    match = re.match(r"^arn:[^:]+:([^:]+):", resource)
    return (match.group(1), resource) if match else ("unknown", resource)


def invoke(step: Step, parameters: Any, timeout: float | None, heartbeat: float | None,
           credentials: Any = None) -> Any:
    """Run the handler of the Task's resource; the result, or StatesError as AWS would."""
    run, lane, state = step.run, step.lane, step.state
    resource_type, resource_name = describe_resource(state.resource)
    names = {"resourceType": resource_type, "resource": resource_name}
    scheduled = {**names, "region": run.region, "parameters": to_json(parameters)}
    if timeout is not None:
        scheduled["timeoutInSeconds"] = int(timeout)
    if heartbeat is not None:
        scheduled["heartbeatInSeconds"] = int(heartbeat)
    lane.emit("TaskScheduled", {"taskScheduledEventDetails": scheduled})
    handler = run.tasks.resolve(state.resource) if run.tasks is not None else None
    if handler is None:
        error = StatesError("States.Runtime", f"No local handler for the Task resource "
                            f"'{state.resource}'")
        lane.emit("TaskFailed", {"taskFailedEventDetails": {**names, "error": error.error,
                                                            "cause": error.cause}})
        raise error
    lane.emit("TaskStarted", {"taskStartedEventDetails": dict(names)})
    run.sink.flush()
    request = _request(step, parameters, timeout, credentials, names)
    try:
        result = _call(step, handler, request, timeout, heartbeat)
    except StatesError as exc:
        kind = "TaskTimedOut" if exc.error == "States.Timeout" else "TaskFailed"
        details = {**names, "error": exc.error}
        if exc.cause is not None:
            details["cause"] = exc.cause
        lane.emit(kind, {f"{kind[0].lower()}{kind[1:]}EventDetails": details})
        run.sink.flush()
        raise
    lane.emit("TaskSucceeded", {"taskSucceededEventDetails": {
        **names, "output": to_json(result), "outputDetails": {"truncated": False}}})
    run.sink.flush()
    return result


def _request(step: Step, parameters: Any, timeout: float | None, credentials: Any,
             names: dict) -> TaskRequest:
    lane = step.lane

    def emit_submitted(output: Any) -> None:
        lane.emit("TaskSubmitted", {"taskSubmittedEventDetails": {
            **names, "output": to_json(output), "outputDetails": {"truncated": False}}})
        step.run.sink.flush()

    return TaskRequest(resource=step.state.resource, parameters=parameters,
                       context=step.context, state_name=step.state.name,
                       emit_submitted=emit_submitted, timeout_seconds=timeout,
                       credentials=credentials)


def _call(step: Step, handler, request: TaskRequest, timeout: float | None,
          heartbeat: float | None) -> Any:
    run, clock = step.run, step.run.clock
    outcome: dict = {}
    done = threading.Event()
    beats = [clock.monotonic()]
    request.heartbeat = lambda: beats.append(clock.monotonic())

    def work() -> None:
        try:
            outcome["result"] = handler(request)
        except StatesError as exc:
            outcome["error"] = exc
        except Exception as exc:  # a handler bug still ends as an ASL error, not a crash
            outcome["error"] = StatesError("States.TaskFailed", f"{type(exc).__name__}: {exc}")
        finally:
            done.set()

    worker = threading.Thread(target=work, name=f"task-{step.state.name}", daemon=True)
    started = clock.monotonic()
    worker.start()
    try:
        return _watch(step, request, worker, done, outcome, started, beats, timeout, heartbeat)
    except BaseException:  # Ctrl-C or a stop: the handler must stop its work too
        _cancel(request, worker)
        raise


def _watch(step: Step, request: TaskRequest, worker: threading.Thread, done: threading.Event,
           outcome: dict, started: float, beats: list, timeout: float | None,
           heartbeat: float | None) -> Any:
    run, clock = step.run, step.run.clock
    while not done.wait(POLL_SECONDS):
        now = clock.monotonic()
        if run.stop.is_set() or step.lane.aborted() or (
                run.deadline is not None and clock.now() >= run.deadline):
            run.check()
            raise Halted("ABORTED")
        if timeout is not None and now - started >= timeout:
            raise StatesError("States.Timeout")  # AWS records no cause
        if heartbeat is not None and now - beats[-1] >= heartbeat:
            raise HeartbeatTimedOut("States.Timeout")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


def _cancel(request: TaskRequest, worker: threading.Thread) -> None:
    request.cancelled.set()
    if worker.is_alive():
        worker.join(CANCEL_GRACE_SECONDS)
