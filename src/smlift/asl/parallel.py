"""The Parallel state: run every branch on the same input, collect their outputs in order.

Branches that may block (a Task or Wait inside) run in threads; branches of pure states run one
after the other in the state's own thread (same result, no thread cost). When a branch fails,
the others are aborted and the Parallel state fails with that branch's error (Retry and Catch of
the Parallel state then apply). A redrive runs again only the branches that did not succeed.
"""

from __future__ import annotations

import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Any

from ..errors import StatesError
from .definition import ABSENT, ParallelState
from .steps import (Step, jsonata_output, jsonata_value, jsonpath_input, jsonpath_output,
                    run_machine)


def run_parallel(step: Step) -> tuple[Any, str | None]:
    state: ParallelState = step.state
    if state.jsonata:
        value = (jsonata_value(step, state.arguments, "Arguments")
                 if state.arguments is not ABSENT else step.raw)
    else:
        value = jsonpath_input(step, state.parameters)
    results = run_branches(step, value)
    if state.jsonata:
        return jsonata_output(step, results, result=results), state.next
    return jsonpath_output(step, results, state.result_selector, state.result_path), state.next


def run_branches(step: Step, value: Any) -> list:
    state, lane, run = step.state, step.lane, step.run
    lane.emit("ParallelStateStarted")
    abort = lane.new_abort()

    def branch(index: int) -> Any:
        key = lane.sublane_key(step, index)
        done, output = lane.recall_done(key)  # a redrive runs only the unsuccessful ones
        if not done:
            output = run_machine(run, state.branches[index], value, lane.child(abort, key))
            lane.record_done(key, output)
        return output

    indexes = range(len(state.branches))
    try:
        if any(machine.blocking for machine in state.branches) and len(state.branches) > 1:
            results = _threaded(branch, indexes, abort)
        else:
            results = [branch(index) for index in indexes]
    except StatesError:
        abort.set()
        lane.last = run.sink.last_id
        lane.emit("ParallelStateFailed")
        raise
    lane.last = run.sink.last_id
    lane.emit("ParallelStateSucceeded")
    return results


def _threaded(branch, indexes: range, abort: threading.Event) -> list:
    with ThreadPoolExecutor(max_workers=len(indexes), thread_name_prefix="branch") as pool:
        futures = [pool.submit(branch, index) for index in indexes]
        return collect(futures, abort)


def collect(futures: list, abort: threading.Event) -> list:
    """Results in order; on the first failure abort the rest and raise that failure."""
    done, _ = wait(futures, return_when=FIRST_EXCEPTION)
    if not any(f.exception() is not None for f in done):
        return [f.result() for f in futures]
    abort.set()
    wait(futures)
    errors = [f.exception() for f in futures if f.exception() is not None]
    # The failure that caused the abort, not the aborts it caused in the siblings.
    raise next((e for e in errors if isinstance(e, StatesError)), errors[0])
