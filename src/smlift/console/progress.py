"""Fold an execution's history into one status per state, for the graph's colours.

    state_progress(events, execution_status) -> {state name: StateProgress}

`events` are `get_execution_history`'s events (AWS shapes: `id`, `previousEventId`, `type` and
one `...EventDetails` key). Every event belongs to the state whose `...StateEntered` event its
`previousEventId` chain reaches first, so states running side by side (Parallel branches, Map
iterations) are told apart. A state is

    RUNNING    entered, not exited
    SUCCEEDED  exited, and its last outcome was not an error
    CAUGHT     exited after an error (a Catch took it to another state)
    FAILED     failed without exit: the execution ended FAILED or TIMED_OUT while it ran
    ABORTED    still running when the execution was stopped

A state never entered has no entry (the page draws it "not started"). A retried error followed
by success counts as success: the last outcome decides. Map iterations run a state many times:
the last run decides its colour.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

FAILURE_EVENTS = ("Failed", "TimedOut", "Aborted")  # suffixes of TaskFailed, MapStateFailed, ...
CONTAINER = ("ParallelState", "MapState", "MapIteration")  # a Parallel's or Map's own events
CLOSED = ("ParallelStateSucceeded", "ParallelStateFailed", "ParallelStateAborted",
          "MapStateSucceeded", "MapStateFailed", "MapStateAborted")
EXECUTION_ENDS = {"ExecutionFailed": "FAILED", "ExecutionTimedOut": "FAILED",
                  "ExecutionAborted": "ABORTED"}


@dataclass
class StateProgress:
    name: str
    status: str = "RUNNING"
    input: str | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    entered_event: int | None = None
    failed: bool = False  # the last outcome was an error

    def as_json(self) -> dict:
        return asdict(self)


def details_of(event: dict) -> dict:
    """The event's `...EventDetails` object ({} when it has none)."""
    return next((v for k, v in event.items() if k.endswith("EventDetails")), None) or {}


def state_progress(events: list[dict]) -> dict[str, StateProgress]:
    """One `StateProgress` per state entered so far (see the module docstring)."""
    fold = _Fold()
    for event in events:
        fold.add(event)
    return fold.states


class _Fold:
    """Who owns each event: a state's own events follow its `...StateEntered` by
    `previousEventId`; a Parallel's or Map's own events (`ParallelStateFailed`, ...) follow the
    last event of a branch, so they go to the parent of the state that event belongs to."""

    def __init__(self):
        self.owner: dict[int, str | None] = {}
        self.parent: dict[str, str | None] = {}
        self.kinds: dict[int, str] = {}
        self.states: dict[str, StateProgress] = {}

    def add(self, event: dict) -> None:
        kind, details = event["type"], details_of(event)
        previous = event.get("previousEventId") or 0
        name = details.get("name") if kind.endswith(("StateEntered", "StateExited")) else None
        if kind.startswith(CONTAINER) and not name:
            owner = self._container(previous)
        else:
            owner = name or self.owner.get(previous)
        self.owner[event["id"]], self.kinds[event["id"]] = owner, kind
        if kind.endswith("StateEntered") and name:
            self._enter(name, previous, details, event["id"], kind)
        elif kind.endswith("StateExited") and name in self.states:
            _exit(self.states[name], details)
        elif kind in EXECUTION_ENDS:
            _end(self.states.values(), EXECUTION_ENDS[kind], details)
        elif owner in self.states and not kind.startswith("Execution"):
            _step(self.states[owner], kind, details)
            if kind in CLOSED and kind.endswith("Failed"):  # its branches end with it
                _end([s for n, s in self.states.items() if self.parent.get(n) == owner],
                     "FAILED", {})

    def _enter(self, name: str, previous: int, details: dict, event_id: int, kind: str) -> None:
        before = self.owner.get(previous)
        opens = self.kinds.get(previous) in ("ParallelStateStarted", "MapIterationStarted")
        self.parent[name] = before if opens else self.parent.get(before)
        self.states[name] = StateProgress(name, input=details.get("input"),
                                          entered_event=event_id)

    def _container(self, previous: int) -> str | None:
        """The Parallel or Map state an event of its own (Started, Failed, ...) belongs to."""
        kind, owner = self.kinds.get(previous, ""), self.owner.get(previous)
        if kind in CLOSED or kind.endswith("StateExited") or not kind.startswith(CONTAINER):
            return self.parent.get(owner)  # after a child's last event, or a closed container
        return owner  # after the container's own Entered or Started event


def _exit(state: StateProgress, details: dict) -> None:
    state.status = "CAUGHT" if state.failed else "SUCCEEDED"
    state.output = details.get("output")


def _step(state: StateProgress, kind: str, details: dict) -> None:
    """An event inside a running state: an error, or progress after one (a retry)."""
    if kind.endswith(FAILURE_EVENTS) and not kind.startswith("MapIteration"):
        state.failed = True
        state.error = details.get("error", state.error)
        state.cause = details.get("cause", state.cause)
    elif kind in ("TaskScheduled", "TaskStarted", "TaskSucceeded", "ParallelStateStarted",
                  "MapStateStarted"):
        state.failed = False


def _end(states, status: str, details: dict) -> None:
    """The execution (or a Parallel, a Map) ended: the states still running in it end too."""
    for state in states:
        if state.status == "RUNNING":
            state.status = status
            state.error = state.error or details.get("error")
            state.cause = state.cause or details.get("cause")


def progress_json(events: list[dict]) -> dict[str, Any]:
    return {name: state.as_json() for name, state in state_progress(events).items()}
