"""The Map state (inline; DISTRIBUTED definitions without ItemReader/ResultWriter run the same way).

Items come from `ItemsPath` (JSONPath, default `$`) or `Items` (JSONata, default the input); each
item's input is made by `ItemSelector` (or the older `Parameters`) with `$$.Map.Item.Index` and
`.Value` in the context object. Each iteration is a `Lane` running the ItemProcessor (or
Iterator) machine; outputs are collected in item order.

How iterations run: when the processor has no Task or Wait state (nothing can block), iterations
run one after the other in the state's own thread, so a 10,000-item Map costs no threads at all.
Otherwise a pool of `MaxConcurrency` threads runs them (0 means unlimited, which AWS caps at 40
concurrent iterations for an inline Map; so do we).

Failures: `ToleratedFailureCount`/`ToleratedFailurePercentage` (or their `...Path` forms) let
some iterations fail; beyond them the Map fails with `States.ExceedToleratedFailureThreshold`.
Without either, the first failed iteration fails the Map with that iteration's error. Either way
the iterations still running are aborted.

Redrive: an iteration that succeeded is not run again (its output comes from the journal, with
no events); a failed or aborted one resumes at its unsuccessful state (journal.py).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..errors import StatesError
from . import jsonata, jsonpath, payload
from .context import map_item_context
from .definition import ABSENT, MapState
from .parallel import collect
from .jsonpath import json_type, to_json
from .steps import (Halted, Lane, Run, Step, jsonata_output, jsonata_value, jsonpath_input,
                    jsonpath_output, run_machine)

INLINE_CONCURRENCY_CAP = 40


def run_map(step: Step) -> tuple[Any, str | None]:
    state: MapState = step.state
    if state.jsonata:
        effective, items = step.raw, _items_jsonata(step, state)
    else:
        effective = jsonpath_input(step)
        items = _items_jsonpath(step, state, effective)
    limits = _Limits(step, state, effective, len(items))
    results = run_iterations(step, effective, items, limits)
    if state.jsonata:
        return jsonata_output(step, results, result=results), state.next
    return jsonpath_output(step, results, state.result_selector, state.result_path), state.next


def _not_array(value: Any, language_error: str) -> StatesError:
    return StatesError(language_error, f"Map state input must be an array but was: "
                                       f"{to_json(value)}")


def _items_jsonpath(step: Step, state: MapState, effective: Any) -> list:
    items = effective
    if state.items_path is not ABSENT:
        try:
            items = jsonpath.select_path(state.items_path, effective, **step.scope)
        except StatesError as exc:
            if exc.error != "States.Runtime":
                raise
            raise jsonpath.field_not_found(state.items_path, "ItemsPath", effective) from None
    if state.items is not ABSENT:
        items = state.items
    if not isinstance(items, list):
        raise _not_array(items, "States.Runtime")
    return items


def _items_jsonata(step: Step, state: MapState) -> list:
    if state.items is ABSENT:
        if not isinstance(step.raw, list):
            raise _not_array(step.raw, "States.QueryEvaluationError")
        return step.raw
    items = jsonata_value(step, state.items, "Items")
    if not isinstance(items, list):
        expression = state.items
        if isinstance(expression, str) and expression.startswith("{%"):
            expression = expression[2:-2].strip()
        raise StatesError("States.QueryEvaluationError", f"The JSONata expression '{expression}' "
                          f"specified for the field 'Items' returned an unexpected result type. "
                          f"Expected 'array', but was '{json_type(items)}' for value: "
                          f"{to_json(items)}")
    return items


class _Limits:
    """MaxConcurrency and the tolerated failures, resolved from literals, paths or JSONata."""

    def __init__(self, step: Step, state: MapState, effective: Any, total: int):
        self.total = total
        self.concurrency = self._number(step, state.max_concurrency, state.max_concurrency_path,
                                        "MaxConcurrency", effective) or 0
        self.count = self._number(step, state.tolerated_failure_count,
                                  state.tolerated_failure_count_path, "ToleratedFailureCount",
                                  effective)
        self.percentage = self._number(step, state.tolerated_failure_percentage,
                                       state.tolerated_failure_percentage_path,
                                       "ToleratedFailurePercentage", effective, percent=True)

    @staticmethod
    def _number(step: Step, literal: Any, path: Any, name: str, effective: Any,
                percent: bool = False) -> float | None:
        if literal is not ABSENT:
            value = (jsonata_value(step, literal, name) if isinstance(literal, str) and
                     step.state.jsonata else literal)
            where, suffix = f"{name} field", ""
        elif path is not ABSENT:
            value = jsonpath.select_path(path, effective, **step.scope)
            where, suffix = f"{name}Path field", f": {path}"
        else:
            return None
        convert, kind, out_of_range = LIMIT_RULES[name]
        number = convert(value)
        if number is None:
            shown = value if isinstance(value, str) else to_json(value)
            raise StatesError("States.Runtime", f"The {where} refers to value \"{shown}\" which "
                              f"is not a valid {kind}{suffix}")
        problem = out_of_range(number)
        if problem:
            raise StatesError("States.Runtime", problem)
        return number

    weights: list[int] | None = None  # items per iteration, when an ItemBatcher groups them

    def weight(self, index: int) -> int:
        return 1 if self.weights is None else self.weights[index]

    def tolerance_given(self) -> bool:
        return self.count is not None or self.percentage is not None

    def exceeded(self, failures: int) -> bool:
        if failures == 0:
            return False
        if not self.tolerance_given():
            return True
        if self.count is not None and failures > self.count:
            return True
        return (self.percentage is not None and self.total > 0
                and failures * 100.0 / self.total > self.percentage)


def _integer(value: Any) -> int | None:
    """An integer, or a string holding one (AWS reads "1" as 1 in these fields)."""
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _concurrency(value: Any) -> int | None:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return _integer(value)


def _percentage(value: Any) -> float | None:
    if isinstance(value, float):
        return value
    number = _integer(value)
    return None if number is None else float(number)


# field -> (conversion, the type named in the error, range check), in AWS's words
LIMIT_RULES = {
    "MaxConcurrency": (_concurrency, "integer", lambda n: n < 0 and (
        f"Expected non-negative integer for MaxConcurrency, got '{n}' instead.")),
    "ToleratedFailureCount": (_integer, "integer", lambda n: n < 0 and (
        "ToleratedFailureCount cannot be negative.")),
    "ToleratedFailurePercentage": (_percentage, "float", lambda n: not 0 <= n <= 100 and (
        "ToleratedFailurePercentage must be between 0 and 100.")),
    "MaxItemsPerBatch": (_integer, "integer", lambda n: n <= 0 and (
        f"MaxItemsPerBatch must be a positive integer, got '{n}'.")),
    "MaxInputBytesPerBatch": (_integer, "integer", lambda n: n <= 0 and (
        f"MaxInputBytesPerBatch must be a positive integer, got '{n}'.")),
}


def _item_input(step: Step, state: MapState, effective: Any, index: int, item: Any) -> Any:
    selector = state.item_selector if state.item_selector is not ABSENT else state.parameters
    if selector is ABSENT:
        return item
    context = map_item_context(step.context, index, item)
    if state.jsonata:
        bindings = {**step.lane.variables, "states": {"input": step.raw, "context": context}}
        return jsonata.resolve_template(selector, bindings, field="ItemSelector")
    return payload.resolve_payload(selector, effective, context=context,
                                 variables=step.lane.variables)


def _batches(step: Step, batcher: dict, effective: Any, inputs: list) -> list[dict]:
    """ItemBatcher: group the item inputs into {"BatchInput"?, "Items": [...]} inputs."""
    def number(name: str) -> float | None:
        return _Limits._number(step, batcher.get(name, ABSENT), batcher.get(f"{name}Path", ABSENT),
                               name, effective)

    max_items, max_bytes = number("MaxItemsPerBatch"), number("MaxInputBytesPerBatch")
    batches, current, size = [], [], 2
    for item in inputs:
        item_size = len(to_json(item)) + (1 if current else 0)
        full = (max_items and len(current) >= max_items) or \
            (max_bytes and size + item_size > max_bytes)
        if current and full:
            batches.append(current)
            current, size, item_size = [], 2, item_size - 1
        current.append(item)
        size += item_size
    if current:
        batches.append(current)
    if "BatchInput" not in batcher:
        return [{"Items": batch} for batch in batches]
    if step.state.jsonata:
        batch_input = jsonata_value(step, batcher["BatchInput"], "ItemBatcher/BatchInput")
    else:
        batch_input = payload.resolve_payload(batcher["BatchInput"], effective, **step.scope)
    return [{"BatchInput": batch_input, "Items": batch} for batch in batches]


class _Outcome:
    __slots__ = ("failures", "lock")

    def __init__(self) -> None:
        self.failures = 0
        self.lock = threading.Lock()

    def add_failure(self, weight: int = 1) -> int:
        with self.lock:
            self.failures += weight
            return self.failures


def run_iterations(step: Step, effective: Any, items: list, limits: _Limits) -> list:
    state, lane, run = step.state, step.lane, step.run
    inputs = [_item_input(step, state, effective, i, item) for i, item in enumerate(items)] \
        if state.item_selector is not ABSENT or state.parameters is not ABSENT else items
    if state.item_batcher is not ABSENT:
        inputs = _batches(step, state.item_batcher, effective, inputs)
        limits.weights = [len(batch["Items"]) for batch in inputs]
    items = inputs
    lane.emit("MapStateStarted", {"mapStateStartedEventDetails": {"length": len(items)}})
    abort = lane.new_abort()
    outcome = _Outcome()

    def iterate(index: int) -> Any:
        if abort.is_set():  # a sibling failed (or the execution stopped) before this one began
            run.check()
            raise Halted("ABORTED")
        key = lane.sublane_key(step, index)
        done, output = lane.recall_done(key)  # a redrive runs only the unsuccessful ones
        if done:
            return output
        return _iteration(run, state, lane.child(abort, key), index, inputs[index], limits,
                          outcome, abort)

    try:
        if state.processor.blocking and limits.concurrency != 1 and len(items) > 1:
            workers = min(int(limits.concurrency) or INLINE_CONCURRENCY_CAP,
                          INLINE_CONCURRENCY_CAP, len(items))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="map") as pool:
                results = collect([pool.submit(iterate, i) for i in range(len(items))], abort)
        else:
            results = [iterate(i) for i in range(len(items))]
    except StatesError:
        lane.last = run.sink.last_id
        lane.emit("MapStateFailed")
        raise
    lane.last = run.sink.last_id
    lane.emit("MapStateSucceeded")
    return results


def _iteration(run: Run, state: MapState, lane: Lane, index: int, value: Any, limits: _Limits,
               outcome: _Outcome, abort: threading.Event) -> Any:
    details = {"name": state.name, "index": index}
    lane.emit("MapIterationStarted", {"mapIterationStartedEventDetails": details})
    try:
        output = run_machine(run, state.processor, value, lane)
    except StatesError as exc:
        lane.emit("MapIterationFailed", {"mapIterationFailedEventDetails": details})
        if limits.exceeded(outcome.add_failure(limits.weight(index))):
            abort.set()
            if limits.tolerance_given():
                raise StatesError("States.ExceedToleratedFailureThreshold",
                                  "The specified tolerated failure threshold was exceeded")
            raise
        error_output = {"Error": exc.error}
        if exc.cause is not None:
            error_output["Cause"] = exc.cause
        return error_output
    except Halted:
        if abort.is_set() and not run.stop.is_set():
            lane.emit("MapIterationAborted", {"mapIterationAbortedEventDetails": details})
        raise
    lane.emit("MapIterationSucceeded", {"mapIterationSucceededEventDetails": details})
    lane.record_done(lane.key, output)
    return output
