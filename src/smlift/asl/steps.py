"""The step toolkit and the run loop: what every state body and the loop itself share.

How it fits together
--------------------
`run_machine(run, machine, value, lane)` is the single `while running` loop. It runs the state
named by `StartAt`, then whatever each state names next, until a state ends the machine. The same
loop runs the whole execution, each Parallel branch and each Map iteration; each of those is a
`Lane`: its own variables (a copy of the enclosing scope, so nested scopes read the outer
variables but their assignments stay inside) and its own `previousEventId` chain.

Every state goes through one template, `run_state`:

    {Type}StateEntered -> body (input processing, the work, output processing) -> Retry/Catch
    on error -> {Type}StateExited -> next state

The body is one function per state type, found in the dispatch table the `Run` carries
(`run.handlers`, which is `interpreter.HANDLERS`: `PassState: run_pass`, ...). The table travels
with the run rather than being imported here because Map and Parallel bodies run this loop
again for their iterations and branches: this module sits below every body, and the table sits
above them all. A body gets a `Step` (the state, its raw input, its lane, the entered event id)
and returns `(output, next_state_name)` (None: the lane ends). Query-language handling is shared
here too: `jsonpath_input`/`jsonpath_output` (InputPath, Parameters, ResultSelector, ResultPath,
OutputPath) and `jsonata_output` (Output, Assign with `$states`).

ASL runtime errors are `StatesError(error, cause)` values raised by the bodies. `run_state`
words them as AWS does ("An error occurred while executing the state 'X' (entered at the event id
#N). ..."), applies Retry (sleeping on the run's clock) and Catch, or lets them unwind the lane.
`Halted` is different: a stop (`stop_execution`) or the execution's TimeoutSeconds. It unwinds
every lane at once and is never caught by Retry or Catch.

Everything time-related goes through `run.clock`, so tests run Retry and Wait instantly.
"""

from __future__ import annotations

import random as _random
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from ..errors import StatesError
from . import jsonata, payload, retry
from .clock import Clock
from .context import state_context
from .definition import ABSENT, MapState, ParallelState, State, StateMachine, TaskState
from .history import ENTERED, EXITED, HistorySink
from .journal import LANE_DONE
from .jsonpath import to_json

ENGINE_ERRORS = frozenset({"States.Runtime", "States.QueryEvaluationError",
                           "States.IntrinsicFailure"})
LOCATED_PREFIX = "An error occurred while executing the state"
MAX_PAYLOAD_BYTES = 256 * 1024


class Signal(threading.Event):
    """A cancel signal that also sets the signals derived from it (`child()`): stopping the
    execution reaches every Map iteration and Parallel branch, and a failing Map aborts its own
    iterations only."""

    def __init__(self) -> None:
        super().__init__()
        self._children: list[Signal] = []
        self._guard = threading.Lock()

    def child(self) -> "Signal":
        signal = Signal()
        with self._guard:
            self._children.append(signal)
        if self.is_set():
            signal.set()
        return signal

    def set(self) -> None:
        super().set()
        with self._guard:
            children = list(self._children)
        for child in children:
            child.set()


class Halted(Exception):
    """The execution was stopped (ABORTED) or ran past its TimeoutSeconds (TIMED_OUT)."""

    def __init__(self, status: str, error: str | None = None, cause: str | None = None):
        super().__init__(status)
        self.status, self.error, self.cause = status, error, cause


@dataclass
class Run:
    """What every lane of one execution shares."""

    sink: HistorySink
    clock: Clock
    tasks: Any
    context_base: dict
    handlers: Mapping[type, Callable[["Step"], tuple[Any, str | None]]]  # state class -> body
    stop: Signal = field(default_factory=Signal)
    deadline: float | None = None  # clock time after which the execution is TIMED_OUT
    random: Callable[[], float] = _random.random
    halt_reason: Halted | None = None
    region: str = "us-east-1"
    journal: Any = None  # journal.Journal: checkpoints written, and replayed on a redrive

    def request_stop(self, reason: Halted) -> None:
        if self.halt_reason is None:
            self.halt_reason = reason
        self.stop.set()

    def check(self) -> None:
        """Raise Halted when the execution was stopped or has run out of time."""
        if self.deadline is not None and self.clock.now() >= self.deadline:
            self.request_stop(Halted("TIMED_OUT", "States.Timeout",
                                     "The execution has exceeded its TimeoutSeconds"))
        if self.stop.is_set():
            reason = self.halt_reason or Halted("ABORTED")
            raise Halted(reason.status, reason.error, reason.cause)  # one per raising thread

    def sleep(self, seconds: float, lane: "Lane | None" = None) -> None:
        """Sleep on the run's clock; wakes up early (and raises Halted) on a stop, a timeout or
        an abort of the lane (a sibling iteration failed)."""
        self.sink.flush()
        if self.deadline is not None:
            seconds = min(seconds, max(0.0, self.deadline - self.clock.now()))
        cancel = lane.abort if lane is not None and lane.abort is not None else self.stop
        self.clock.sleep(seconds, cancel)
        self.check()
        if lane is not None and lane.aborted():
            raise Halted("ABORTED")


class Lane:
    """One line of execution: the whole machine, a Parallel branch or a Map iteration. `key`
    names it in the redrive journal and `steps` counts the states it has run (journal.py)."""

    __slots__ = ("run", "variables", "last", "abort", "key", "steps")

    def __init__(self, run: Run, variables: dict, last: int, abort: Signal | None = None,
                 key: str = ""):
        self.run, self.variables, self.last, self.abort = run, variables, last, abort
        self.key, self.steps = key, 0

    def emit(self, type_: str, details: dict | None = None) -> int:
        self.last = self.run.sink.emit(type_, self.last, details)
        return self.last

    def child(self, abort: Signal | None = None, key: str = "") -> "Lane":
        return Lane(self.run, dict(self.variables), self.last, abort or self.abort, key)

    def sublane_key(self, step: "Step", index: int) -> str:
        """The journal key of iteration or branch `index` of the state run as `step`."""
        return f"{self.key}/{step.seq}.{index}"

    def recall_done(self, key: str) -> tuple[bool, Any]:
        """(True, output) when the iteration or branch `key` succeeded in an earlier attempt."""
        journal = self.run.journal
        found = journal.recall(key, LANE_DONE, "") if journal is not None else None
        return (False, None) if found is None else (True, found[0])

    def record_done(self, key: str, output: Any) -> None:
        if self.run.journal is not None:
            self.run.journal.record(key, LANE_DONE, "", to_json(output), None, None)

    def new_abort(self) -> Signal:
        """A signal for the iterations or branches this lane starts (set by a stop too)."""
        return (self.abort or self.run.stop).child()

    def aborted(self) -> bool:
        return self.abort is not None and self.abort.is_set()


class Step:
    """One state being run: its raw input, its lane and the id of its entered event."""

    __slots__ = ("run", "lane", "state", "raw", "entered_id", "entered_time", "retry_count",
                 "_context", "assigned", "retries", "seq")

    def __init__(self, run: Run, lane: Lane, state: State, raw: Any, entered_id: int,
                 entered_time: float, seq: int = 0):
        self.run, self.lane, self.state, self.raw, self.seq = run, lane, state, raw, seq
        self.entered_id, self.entered_time = entered_id, entered_time
        self.retry_count = 0
        self._context = None
        self.assigned: dict | None = None
        self.retries: dict[int, int] = {}  # retrier index -> retries done

    @property
    def context(self) -> dict:
        if self._context is None:
            counts = isinstance(self.state, (TaskState, MapState, ParallelState))
            self._context = state_context(self.run.context_base, self.state.name,
                                          self.entered_time,
                                          self.retry_count if counts else None)
        return self._context

    @property
    def scope(self) -> dict:
        """Keyword arguments for the JSONPath functions: the context object and variables."""
        return {"context": self.context, "variables": self.lane.variables}

    def bindings(self, **states: Any) -> dict:
        """JSONata bindings: `$states` (input, context, and result/errorOutput) and variables."""
        return {**self.lane.variables,
                "states": {"input": self.raw, "context": self.context, **states}}

    def commit(self, assigned: dict | None) -> None:
        """Apply an Assign's values (all evaluated before any is set, as AWS does)."""
        if assigned:
            self.lane.variables.update(assigned)
            self.assigned = assigned


def _missing(value: Any) -> Any:
    return payload.MISSING if value is ABSENT else value


# ----------------------------------------------------------------- query-language helpers

def jsonpath_input(step: Step, template: Any = ABSENT) -> Any:
    """InputPath, then Parameters (or another payload template) over the effective input."""
    input_path = step.state.input_path
    effective = step.raw if input_path is ABSENT else \
        payload.apply_input_path(step.raw, input_path, **step.scope)
    if template is ABSENT:
        return effective
    return payload.resolve_payload(template, effective, **step.scope)


def jsonpath_assign(step: Step, assign: Any, value: Any) -> dict | None:
    if assign is ABSENT or assign is None:
        return None
    return payload.resolve_payload(assign, value, **step.scope)


def jsonpath_output(step: Step, result: Any, result_selector: Any = ABSENT,
                    result_path: Any = ABSENT) -> Any:
    """ResultSelector -> Assign -> ResultPath -> OutputPath; commits the Assign."""
    if result_selector is not ABSENT:
        result = payload.resolve_payload(result_selector, result, **step.scope)
    assigned = jsonpath_assign(step, step.state.assign, result)
    output = result if result_path is ABSENT else \
        payload.apply_result_path(step.raw, result, result_path)
    output = apply_output_path(step, output)
    step.commit(assigned)
    return output


def apply_output_path(step: Step, value: Any) -> Any:
    output_path = step.state.output_path
    if output_path is ABSENT:
        return value
    return payload.apply_output_path(value, output_path, **step.scope)


def jsonata_value(step: Step, template: Any, field_name: str, **states: Any) -> Any:
    """Resolve a JSONata template (any JSON value with `{% %}` strings) for one field."""
    return jsonata.resolve_template(template, step.bindings(**states), field=field_name)


def jsonata_output(step: Step, default: Any, assign: Any = ABSENT, output: Any = ABSENT,
                   **states: Any) -> Any:
    """Assign and Output of a JSONata state (both see the variables from before the state)."""
    assign = step.state.assign if assign is ABSENT else assign
    output = step.state.output if output is ABSENT else output
    assigned = None
    if assign is not ABSENT and assign is not None:
        assigned = jsonata_value(step, assign, "Assign", **states)
    value = default if output is ABSENT else jsonata_value(step, output, "Output", **states)
    step.commit(assigned)
    return value


class FailStateError(StatesError):
    """The error a Fail state ends its lane with (never re-worded, never retried by itself)."""


# ------------------------------------------------------------------------ the template

def run_machine(run: Run, machine: StateMachine, value: Any, lane: Lane) -> Any:
    """The single `while running` loop of a machine, a branch or an iteration."""
    name: str | None = machine.start_at
    states = machine.states
    while name is not None:
        if run.deadline is not None or run.stop.is_set() or lane.aborted():
            run.check()
            if lane.aborted():
                raise Halted("ABORTED")
        value, name = run_state(run, states[name], value, lane)
    return value


def run_state(run: Run, state: State, raw: Any, lane: Lane) -> tuple[Any, str | None]:
    """Entered event -> body (with Retry and Catch) -> exited event -> the next state's name.
    On a redrive, a state that finished in an earlier attempt is replayed from its checkpoint
    instead (no events; its assigned variables are set again)."""
    seq, lane.steps = lane.steps, lane.steps + 1
    replayed = run.journal.recall(lane.key, seq, state.name) if run.journal else None
    if replayed is not None:
        output, next_name, assigned = replayed
        lane.variables.update(assigned)
        return output, next_name
    type_name = state.type
    entered_id = lane.emit(ENTERED[type_name], {"stateEnteredEventDetails": {
        "name": state.name, "input": to_json(raw), "inputDetails": {"truncated": False}}})
    step = Step(run, lane, state, raw, entered_id, run.clock.now(), seq)
    body = run.handlers[type(state)]
    caught = False
    while True:
        try:
            output, next_name = body(step)
            text = to_json(output)
            if len(text) * 4 > MAX_PAYLOAD_BYTES and len(text.encode()) > MAX_PAYLOAD_BYTES:
                raise StatesError("States.DataLimitExceeded", f"The state/task '{state.name}' "
                                  f"returned a result with a size exceeding the maximum number "
                                  f"of bytes service limit.")
            break
        except StatesError as exc:
            error = exc if isinstance(exc, FailStateError) else locate(exc, step)
            if _retry(step, error):
                continue
            output, next_name = _catch(step, error)
            text, caught = to_json(output), True
            break
    details = {"name": state.name, "output": text, "outputDetails": {"truncated": False}}
    if step.assigned:
        details["assignedVariables"] = {k: to_json(v) for k, v in step.assigned.items()}
        details["assignedVariablesDetails"] = {"truncated": False}
    if type_name != "Fail":
        lane.emit(EXITED[type_name], {"stateExitedEventDetails": details})
        if run.journal is not None:
            run.journal.record(lane.key, seq, state.name, text, next_name, step.assigned,
                               caught)
    return output, next_name


def locate(exc: StatesError, step: Step) -> StatesError:
    """Word an engine error as AWS does, naming the state and its entered event id."""
    if exc.error not in ENGINE_ERRORS or (exc.cause or "").startswith(LOCATED_PREFIX):
        return exc
    cause = (f"{LOCATED_PREFIX} '{step.state.name}' (entered at the event id "
             f"#{step.entered_id}). {exc.cause or ''}").rstrip()
    return StatesError(exc.error, cause)


def _retry(step: Step, error: StatesError) -> bool:
    """Sleep and return True when a retrier takes this error; False when none (any more)."""
    retriers = getattr(step.state, "retry", ())
    index, retrier = retry.find_retrier(retriers, retry.match_name(error))
    if retrier is None:
        return False
    counts = step.retries
    done = counts.get(index, 0)
    if not retry.should_retry(retrier, done):
        return False
    delay = retry.next_delay(retrier, done, step.run.random)
    counts[index] = done + 1
    step.run.sleep(delay, step.lane)
    step.retry_count += 1
    step._context = None
    step.assigned = None
    return True


def _catch(step: Step, error: StatesError) -> tuple[Any, str]:
    catcher = retry.matching_catcher(getattr(step.state, "catch", ()),
                                     retry.match_name(error))
    if catcher is None:
        raise error
    error_output = {"Error": error.error}
    if error.cause is not None:
        error_output["Cause"] = error.cause
    step.assigned = None
    if step.state.jsonata:
        output = jsonata_output(step, error_output, catcher.assign, catcher.output,
                                errorOutput=error_output)
        return output, catcher.next
    assigned = jsonpath_assign(step, catcher.assign, error_output)
    output = payload.apply_result_path(step.raw, error_output, _missing(catcher.result_path))
    step.commit(assigned)
    return output, catcher.next
