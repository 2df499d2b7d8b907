"""The redrive journal: what every state that finished returned, so that a redrive replays it.

A redrive (RedriveExecution) runs the execution again from `StartAt` with the same input, but a
state that already exited is not run again: `run_state` finds its checkpoint here and takes the
recorded output, next state and assigned variables, with no events. The first state without a
checkpoint in a lane is the unsuccessful one; it and what follows run for real. Because a replay
gives the same values in the same order, the run reaches exactly the states of the first attempt.

A state that exited through a Catch counts as unsuccessful when its lane went on to fail: the
redrive resumes the lane at the last such state (`resume_points`), so a Task that catches every
error into a Fail state runs again, rather than the Fail state alone.

A checkpoint is keyed by its lane and its step number in that lane:

    lane ""           the whole machine
    lane "/3.0"       iteration 0 of the Map state run as step 3 of the whole machine
    lane "/3.0/1.2"   branch 2 of the Parallel run as step 1 of that iteration
    step -1           the lane itself ended successfully (an iteration or a branch): a redrive
                      takes its output without running it, as AWS redrives only the failed ones

Checkpoints are written with the history (`HistorySink.then`), in batches, after the exited
event they follow: a crash can lose the last fraction of a second, never leave a checkpoint
whose state's events are missing. The store is reached through `append_checkpoint_rows` and
`get_checkpoints`, as `smlift.local.store.Store` has them.
"""

from __future__ import annotations

import json
import threading
from typing import Any

LANE_DONE = -1


class Journal:
    """The checkpoints of one execution: those of earlier attempts, and those written now."""

    def __init__(self, store=None, execution_arn: str = "",
                 recorded: dict[tuple[str, int], tuple] | None = None):
        self.store, self.execution_arn = store, execution_arn
        self.recorded = recorded or {}  # (lane, step) -> (state, output, next, assigned) texts
        self._pending: list[tuple] = []
        self._lock = threading.Lock()

    @classmethod
    def load(cls, store, execution_arn: str) -> "Journal":
        """The checkpoints a redrive replays (see `resume_points`)."""
        rows = store.get_checkpoints(execution_arn)
        resume = resume_points(rows)
        return cls(store, execution_arn, {
            (lane, step): (state, output, next_name, assigned)
            for lane, step, state, output, next_name, assigned, _ in rows
            if step < resume.get(lane, step + 1)})

    def recall(self, lane: str, step: int, state: str) -> tuple[Any, str | None, dict] | None:
        """(output, next state, assigned variables) of a state that finished in an earlier
        attempt; None when it has to run."""
        found = self.recorded.get((lane, step))
        if found is None or found[0] != state:
            return None
        _, output, next_name, assigned = found
        return json.loads(output), next_name, json.loads(assigned) if assigned else {}

    def record(self, lane: str, step: int, state: str, output_text: str,
               next_name: str | None, assigned: dict | None, caught: bool = False) -> None:
        if self.store is None:
            return
        assigned_text = json.dumps(assigned, separators=(",", ":")) if assigned else None
        with self._lock:
            self._pending.append((lane, step, state, output_text, next_name, assigned_text,
                                  int(caught)))

    def flush(self) -> None:
        """Write what was recorded since the last flush (the history sink calls it after it has
        written the events these follow)."""
        with self._lock:
            batch, self._pending = self._pending, []
        if batch:
            self.store.append_checkpoint_rows(self.execution_arn, batch)


def resume_points(rows: list[tuple]) -> dict[str, int]:
    """lane -> the step a redrive resumes it at, for the lanes that did not succeed and whose
    error was caught on the way: the last state that exited through a Catch. A pipeline whose
    Task catches every error into a Fail state then reruns that Task, not only the Fail state
    (docs/fidelity.md: what AWS does here is not verified)."""
    done = {lane for lane, step, *_ in rows if step == LANE_DONE}
    points: dict[str, int] = {}
    for lane, step, *_, caught in rows:
        if caught and lane not in done and step > points.get(lane, -1):
            points[lane] = step
    return points
