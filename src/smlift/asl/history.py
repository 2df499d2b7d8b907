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

import threading
import time

from .clock import Clock
from .jsonpath import to_json

# State type -> the AWS event type prefix (PassStateEntered, TaskStateExited, ...).
ENTERED = {t: f"{t}StateEntered" for t in ("Pass", "Task", "Choice", "Wait", "Succeed", "Fail",
                                           "Parallel", "Map")}
EXITED = {t: f"{t}StateExited" for t in ENTERED}


def render_event(event: dict) -> dict:
    """A stored event -> the shape of one item of GetExecutionHistory's `events`."""
    out = {"timestamp": event["timestamp"], "type": event["type"], "id": event["id"],
           "previousEventId": event["previousEventId"]}
    out.update(event.get("details") or {})
    return out


class HistorySink:
    """Numbers events, keeps them, and writes them to `store` in batches (thread-safe).

    The store is written through one door, `append_event_rows(execution_arn, rows)` (as
    `smlift.local.store.Store` has it), with the details already serialized here.

    With a store, a writer thread writes what has accumulated every `flush_interval` seconds,
    so the run loop never waits for SQLite (which works outside the GIL, on the other core).
    `flush()` writes everything pending *now*, in the caller's thread; `close()` stops the
    writer after a last flush.
    """

    def __init__(self, store=None, execution_arn: str = "", clock: Clock | None = None,
                 flush_interval: float = 0.1, keep: bool = True, first_id: int = 1):
        self.store = store
        self.execution_arn = execution_arn
        self.clock = clock
        self.flush_interval = flush_interval
        self.keep = keep
        self.events: list[dict] = []
        self._pending: list[dict] = []
        self._next_id = first_id  # a redrive continues the ids of the attempts before it
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._closed = threading.Event()
        self._writer: threading.Thread | None = None
        self.then = None  # called after each write, under the write lock (the redrive journal)

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
                if self._writer is None:
                    self._start_writer()
        return event_id

    def _start_writer(self) -> None:
        self._writer = threading.Thread(target=self._write_periodically, daemon=True,
                                        name=f"history-{self.execution_arn.rsplit(':', 1)[-1]}")
        self._writer.start()

    def _write_periodically(self) -> None:
        while not self._closed.wait(self.flush_interval):
            self.flush()

    @property
    def last_id(self) -> int:
        """The id of the latest event (0 before the first)."""
        return self._next_id - 1

    def flush(self) -> None:
        """Write the pending events to the store now (in this thread)."""
        if self.store is None:
            return
        with self._write_lock:
            with self._lock:
                batch, self._pending = self._pending, []
            if batch:
                self._write(batch)
            if self.then is not None:
                self.then()

    def _write(self, batch: list[dict]) -> None:
        self.store.append_event_rows(self.execution_arn, [
            (e["id"], e["previousEventId"], e["timestamp"], e["type"],
             None if e["details"] is None else to_json(e["details"])) for e in batch])

    def close(self) -> None:
        """Stop the writer thread and write what is left."""
        self._closed.set()
        if self._writer is not None and self._writer is not threading.current_thread():
            self._writer.join()
        self.flush()
