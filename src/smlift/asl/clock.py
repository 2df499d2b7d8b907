"""The engine's clock: every `now()` and every sleep of an execution goes through one of these.

`Clock` is the interface the engine takes (`Run.clock`, `prepare_execution(clock=...)`,
`HistorySink`); two implementations have it:

`RealClock` is wall time. `VirtualClock` never blocks: `sleep` advances its time at once and
records the requested duration, so a Retry with `IntervalSeconds: 60` or a `Wait` of an hour runs
instantly in a test, and the test can assert the waits the engine computed (`clock.sleeps`).

A sleep takes a cancel event (`threading.Event`): setting it (a stop of the execution, an
execution timeout) ends the sleep early. `sleep` returns True when it was cancelled.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (UTC)."""

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        """Wait `seconds`; True when `cancel` was set before the time was up."""

    def monotonic(self) -> float:
        """A clock for measuring durations (never goes back)."""


class RealClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        if seconds <= 0:
            return bool(cancel and cancel.is_set())
        if cancel is None:
            time.sleep(seconds)
            return False
        return cancel.wait(seconds)


class VirtualClock:
    """Time that moves only when the engine sleeps. `sleeps` lists every duration asked for."""

    def __init__(self, start: float = 1_704_067_200.0):  # 2024-01-01T00:00:00Z
        self._now = float(start)
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> float:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        return self.now()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += max(0.0, seconds)
        return bool(cancel and cancel.is_set())
