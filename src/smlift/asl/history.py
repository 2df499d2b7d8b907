"""Execution history: AWS-shaped events with ids and previousEventId, batched into the store.

Every event is a dict `{"id", "previousEventId", "timestamp", "type", "details"}` where
`details` holds the AWS details key whole, e.g. `{"stateEnteredEventDetails": {"name": ...,
"input": "...", "inputDetails": {"truncated": false}}}`. Ids count from 1 across the whole
execution (nested Map iterations and Parallel branches included); `previousEventId` is the event
before it *in the same line of execution* (AWS links an iteration's events to its
MapIterationStarted, not to whatever another iteration did last).

`HistorySink` keeps the events in memory and writes them to the store in batches: at least every
`flush_interval` seconds (checked as events arrive), whenever the engine calls `flush()` (before
a Task starts, after it ends, before any sleep) and at the end. A crash of the process therefore
loses at most the last fraction of a second, while a 10,000-item Map costs a handful of
transactions instead of 40,000.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

# State type -> the AWS event type prefix (PassStateEntered, TaskStateExited, ...).
ENTERED = {t: f"{t}StateEntered" for t in ("Pass", "Task", "Choice", "Wait", "Succeed", "Fail",
                                           "Parallel", "Map")}
EXITED = {t: f"{t}StateExited" for t in ENTERED}


def to_json(value: Any) -> str:
    """Compact JSON, as AWS writes payloads into history events."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def render_event(event: dict) -> dict:
    """A stored event -> the shape of one item of GetExecutionHistory's `events`."""
    out = {"timestamp": event["timestamp"], "type": event["type"], "id": event["id"],
           "previousEventId": event["previousEventId"]}
    out.update(event.get("details") or {})
    return out


class HistorySink:
    """Numbers events, keeps them, and flushes them to `store` in batches (thread-safe)."""

    def __init__(self, store=None, execution_arn: str = "", clock=None,
                 flush_interval: float = 0.1, keep: bool = True):
        self.store = store
        self.execution_arn = execution_arn
        self.clock = clock
        self.flush_interval = flush_interval
        self.keep = keep
        self.events: list[dict] = []
        self._pending: list[dict] = []
        self._next_id = 1
        self._lock = threading.Lock()
        self._last_flush = time.monotonic()

    def emit(self, type_: str, previous: int, details: dict | None = None) -> int:
        """Record one event after event `previous` (0: none); returns the new event's id."""
        now = self.clock.now() if self.clock else time.time()
        with self._lock:
            event_id = self._next_id
            self._next_id += 1
            event = {"id": event_id, "previousEventId": previous, "timestamp": now,
                     "type": type_, "details": details}
            if self.keep:
                self.events.append(event)
            if self.store is not None:
                self._pending.append(event)
                due = time.monotonic() - self._last_flush >= self.flush_interval
            else:
                due = False
        if due:
            self.flush()
        return event_id

    @property
    def last_id(self) -> int:
        """The id of the latest event (0 before the first)."""
        return self._next_id - 1

    def flush(self) -> None:
        """Write the pending events to the store now."""
        if self.store is None:
            return
        with self._lock:
            batch, self._pending = self._pending, []
            self._last_flush = time.monotonic()
            if batch:
                self.store.append_events(self.execution_arn, batch)
