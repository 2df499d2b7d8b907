"""The public entry point of the States Language engine: run one execution to its end.

    result = run_execution(definition, {"x": 1}, name="first", state_machine_name="demo",
                           store=open_store(), tasks=task_registry(), clock=RealClock())
    result.status, result.output, result.error, result.cause, result.events

`prepare_execution` does the part that can be refused (validation, a duplicate name) and returns
an `Execution` whose `run()` does the work and `stop()` ends it from another thread (ABORTED):
`LocalStepFunctions.start_execution` uses the two halves to answer before the execution ends.

With a `store`, the state machine, the execution record and its history are written as the
execution goes (the history in batches, see `history.py`), so a crash keeps what happened; a
record whose process died stays RUNNING (`describe` tells it apart by its pid). With the history
go the checkpoints of the states that finished (`journal.py`): `redrive.py` prepares an
`Execution` that continues a failed one (`Attempt`), replaying them.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import InputError, StatesError
from ..jsontext import loads
from .clock import Clock, RealClock
from .context import DEFAULT_ROLE_ARN, execution_context
from .definition import ABSENT, StateMachine, load_definition
from .history import HistorySink, render_event
from .journal import Journal
from .interpreter import HANDLERS
from .jsonpath import to_json
from .steps import Halted, Lane, Run, run_machine

REGION = "us-east-1"
ACCOUNT = "123456789012"

# Executions running in this process, by ARN (whichever object started them).
_ACTIVE: dict[str, "Execution"] = {}
_ACTIVE_LOCK = threading.Lock()


def active_execution(arn: str) -> "Execution | None":
    """The execution `arn` if it is running in this process, else None."""
    with _ACTIVE_LOCK:
        return _ACTIVE.get(arn)


def state_machine_arn(name: str) -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"


def execution_arn(state_machine_name: str, name: str) -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{state_machine_name}:{name}"


@dataclass
class ExecutionResult:
    """How an execution ended, in AWS's terms (`describe()` is DescribeExecution's shape)."""

    execution_arn: str
    state_machine_arn: str
    name: str
    status: str
    input: Any
    output: Any = None
    error: str | None = None
    cause: str | None = None
    start_date: float = 0.0
    stop_date: float | None = None
    events: list[dict] = field(default_factory=list, repr=False)

    def summary(self) -> dict:
        """What `smlift execute` prints: executionArn, name, status, output, error, cause."""
        return {"executionArn": self.execution_arn, "name": self.name, "status": self.status,
                "output": self.output, "error": self.error, "cause": self.cause}

    def describe(self) -> dict:
        out = {"executionArn": self.execution_arn, "stateMachineArn": self.state_machine_arn,
               "name": self.name, "status": self.status, "startDate": self.start_date,
               "stopDate": self.stop_date, "input": to_json(self.input),
               "inputDetails": {"included": True}}
        if self.status == "SUCCEEDED":
            out["output"] = to_json(self.output)
            out["outputDetails"] = {"included": True}
        if self.error is not None:
            out["error"] = self.error
        if self.cause is not None:
            out["cause"] = self.cause
        return out

    def history(self) -> list[dict]:
        return [render_event(e) for e in self.events]


@dataclass(frozen=True)
class Attempt:
    """Which attempt of an execution runs: 0 is its start, n its n-th redrive (`redrive.py`),
    which continues the history after event `last_event` and replays `journal`."""

    count: int = 0
    date: float | None = None  # when the redrive began
    last_event: int = 0
    journal: Journal | None = None


class Execution:
    """One prepared execution: `run()` it (once), `stop()` it from any thread."""

    def __init__(self, machine: StateMachine, input_: Any, *, name: str,
                 state_machine_name: str, store, tasks, clock: Clock, role_arn: str | None,
                 random: Callable[[], float] | None = None, start_date: float | None = None,
                 attempt: Attempt = Attempt()):
        self.machine, self.input, self.name, self.store = machine, input_, name, store
        self.clock, self.attempt = clock, attempt
        self.state_machine_name = state_machine_name
        self.state_machine_arn = state_machine_arn(state_machine_name)
        self.arn = execution_arn(state_machine_name, name)
        self.role_arn = role_arn or DEFAULT_ROLE_ARN
        self.start_date = clock.now() if start_date is None else start_date
        self.sink = HistorySink(store, self.arn, clock, first_id=attempt.last_event + 1)
        journal = attempt.journal or (Journal(store, self.arn) if store is not None else None)
        if journal is not None and store is not None:
            self.sink.then = journal.flush
        context_base = execution_context(
            execution_arn=self.arn, name=name, input_=input_, role_arn=self.role_arn,
            start_time=self.start_date, state_machine_arn=self.state_machine_arn,
            state_machine_name=state_machine_name, redrive_count=attempt.count,
            redrive_date=attempt.date)
        timeout = machine.timeout_seconds  # a redrive's TimeoutSeconds counts from the redrive
        began = self.start_date if attempt.date is None else attempt.date
        self.run_state = Run(sink=self.sink, clock=clock, tasks=tasks, handlers=HANDLERS,
                             context_base=context_base, region=REGION, journal=journal,
                             deadline=None if timeout is ABSENT else began + timeout)
        if random is not None:
            self.run_state.random = random
        self.result: ExecutionResult | None = None
        self.done = threading.Event()

    def stop(self, error: str | None = None, cause: str | None = None) -> None:
        """End the execution as ABORTED; running tasks get their cancel signal."""
        self.run_state.request_stop(Halted("ABORTED", error, cause))

    def register(self) -> None:
        """Make the execution findable (`active_execution`) and stoppable in this process.
        `run` does it too; a caller that runs it on another thread calls it first, so that a
        stop in between is not lost."""
        with _ACTIVE_LOCK:
            _ACTIVE[self.arn] = self

    def run(self) -> ExecutionResult:
        self.register()
        try:
            return self._run()
        finally:
            with _ACTIVE_LOCK:
                _ACTIVE.pop(self.arn, None)

    def _run(self) -> ExecutionResult:
        lane = Lane(self.run_state, {}, self.attempt.last_event)
        if self.attempt.count:
            lane.emit("ExecutionRedriven", {"executionRedrivenEventDetails": {
                "redriveCount": self.attempt.count}})
        else:
            lane.emit("ExecutionStarted", {"executionStartedEventDetails": {
                "input": to_json(self.input), "inputDetails": {"truncated": False},
                "roleArn": self.role_arn}})
        status, output, error, cause = "SUCCEEDED", None, None, None
        try:
            output = run_machine(self.run_state, self.machine, self.input, lane)
        except StatesError as exc:
            status, error, cause = "FAILED", exc.error, exc.cause
        except Halted as halt:
            status, error, cause = halt.status, halt.error, halt.cause
        except KeyboardInterrupt:  # Ctrl-C: the record ends ABORTED, then the CLI exits
            self.run_state.request_stop(Halted("ABORTED"))
            self._finish(lane, "ABORTED", None, "KeyboardInterrupt", "interrupted by the user")
            raise
        except Exception as exc:  # a bug in smlift: keep the record honest, then show it
            self.run_state.request_stop(Halted("ABORTED"))
            self._finish(lane, "FAILED", None, "smlift.InternalError",
                         f"{type(exc).__name__}: {exc}")
            raise
        return self._finish(lane, status, output, error, cause)

    def _finish(self, lane: Lane, status: str, output: Any, error: str | None,
                cause: str | None) -> ExecutionResult:
        lane.last = self.sink.last_id if status != "SUCCEEDED" else lane.last
        lane.emit(*_final_event(status, output, error, cause))
        self.sink.close()
        if status == "TIMED_OUT":  # AWS's DescribeExecution of it has no error and no cause
            error = cause = None
        stop_date = self.clock.now()
        if self.store is not None:
            self.store.finish_execution(self.arn, status, stop_date, output=output, error=error,
                                        cause=cause)
        self.result = ExecutionResult(
            execution_arn=self.arn, state_machine_arn=self.state_machine_arn, name=self.name,
            status=status, input=self.input, output=output, error=error, cause=cause,
            start_date=self.start_date, stop_date=stop_date, events=self.sink.events)
        self.done.set()
        return self.result


def _final_event(status: str, output: Any, error: str | None, cause: str | None):
    if status == "SUCCEEDED":
        return "ExecutionSucceeded", {"executionSucceededEventDetails": {
            "output": to_json(output), "outputDetails": {"truncated": False}}}
    details = {k: v for k, v in (("error", error), ("cause", cause)) if v is not None}
    kind = {"FAILED": "ExecutionFailed", "ABORTED": "ExecutionAborted",
            "TIMED_OUT": "ExecutionTimedOut"}[status]
    return kind, {f"{kind[0].lower()}{kind[1:]}EventDetails": details}


_BAD_NAME_CHARACTERS = set(' \t\n<>{}[]?*"#%\\^|~`$&,;:/')


def check_name(name: str, what: str = "execution") -> str:
    """AWS's rule for execution and state machine names: 1 to 80 characters, no whitespace,
    no brackets, wildcards or punctuation like `:` and `/`, no control characters."""
    bad = sorted({c for c in name if c in _BAD_NAME_CHARACTERS or c.isspace() or ord(c) < 32
                  or 0x7f <= ord(c) <= 0x9f or 0xd800 <= ord(c) <= 0xdfff})
    if not 1 <= len(name) <= 80 or bad:
        raise InputError(f"Invalid Name: '{name}'", where=f"{what} name",
                         fix="use 1 to 80 letters, digits, '-' or '_'"
                             + (f" (not {''.join(bad)!r})" if bad else ""))
    return name


def prepare_execution(definition: Any, input_: Any = None, *, name: str | None = None,
                      state_machine_name: str = "StateMachine", store=None, tasks=None,
                      clock: Clock | None = None, role_arn: str | None = None,
                      random: Callable[[], float] | None = None,
                      register: bool = True) -> Execution:
    """Validate, name and record an execution; raises DefinitionError, ExecutionAlreadyExists.
    With a `store`, the state machine is created or updated too unless `register` is False
    (LocalStepFunctions, whose state machines are already there)."""
    machine = definition if isinstance(definition, StateMachine) else \
        load_definition(definition, tasks)
    input_ = {} if input_ is None else input_  # a value: a str input is a JSON string
    execution = Execution(machine, input_, name=check_name(str(uuid.uuid4()) if name is None else name),
                          state_machine_name=check_name(state_machine_name, "state machine"),
                          store=store, tasks=tasks, clock=clock or RealClock(),
                          role_arn=role_arn, random=random)
    if store is not None:
        if register:  # the state machine record follows the definition last run under its name
            store.put_state_machine(execution.state_machine_arn, state_machine_name,
                                    json.dumps(dict(machine.raw)), role_arn,
                                    execution.start_date)
        store.create_execution(execution.arn, execution.state_machine_arn, execution.name,
                               input_, execution.start_date, pid=os.getpid(),
                               definition=json.dumps(dict(machine.raw)))
    return execution


def parse_input(text: str | bytes) -> Any:
    """An execution input given as JSON text (StartExecution's `input`), parsed once; InputError
    when it is not JSON (AWS: InvalidExecutionInput)."""
    try:
        return loads(text)
    except ValueError as exc:
        raise InputError(f"the execution input is not valid JSON: {exc}", where="input",
                         fix="pass a JSON document, e.g. '{}'") from None


def run_execution(definition: Any, input_: Any = None, **options: Any) -> ExecutionResult:
    """Run one execution to its end (see `prepare_execution` for the options)."""
    return prepare_execution(definition, input_, **options).run()
