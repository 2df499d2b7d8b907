"""RedriveExecution, with AWS's rules: continue a failed, aborted or timed-out execution.

    execution = prepare_redrive(store, arn, tasks=tasks, clock=clock)   # or ExecutionNotRedrivable
    execution.run()

What a redrive is (AWS's RedriveExecution, for a STANDARD workflow):
- only an execution that ended FAILED, ABORTED or TIMED_OUT, whose stop is less than 14 days ago,
  that was started less than a year ago and whose history has fewer than 25,000 events; anything
  else is refused with ExecutionNotRedrivable and AWS's reason (`redrive_status`), an unknown
  execution with ExecutionDoesNotExist;
- the same execution (ARN, name, input, start date) and the definition of its first attempt, not
  whatever the state machine holds now;
- its history continues: an `ExecutionRedriven` event (`redriveCount`) after the last event, then
  only the states that did not succeed and those after them; a Map or Parallel runs again only its
  failed or aborted iterations and branches (the replay is `journal.py`'s);
- `$states.context.Execution.RedriveCount` (and `$$.Execution.RedriveCount`) count the redrives,
  `RedriveDate` is when this one began; the execution's TimeoutSeconds counts from it.

Executions recorded before smlift kept attempts have no definition to redrive, as AWS refuses
executions started before RedriveExecution existed, and with the same reason.
"""

from __future__ import annotations

import os
from typing import Any, Callable

from ..errors import ExecutionNotRedrivable
from ..jsontext import loads
from .clock import Clock, RealClock
from .definition import load_definition
from .engine import Attempt, Execution
from .journal import Journal

REDRIVABLE, NOT_REDRIVABLE = "REDRIVABLE", "NOT_REDRIVABLE"
CLOSED_UNSUCCESSFUL = ("FAILED", "ABORTED", "TIMED_OUT")
REDRIVE_PERIOD_SECONDS = 14 * 24 * 3600
MAX_OPEN_SECONDS = 365 * 24 * 3600
MAX_HISTORY_EVENTS = 25_000


def redrive_status(record: dict, attempts: list[dict], event_count: int,
                   now: float) -> tuple[str, str | None]:
    """DescribeExecution's (redriveStatus, redriveStatusReason) of an execution record."""
    status = record["status"]
    if status in ("RUNNING", "SUCCEEDED"):
        return NOT_REDRIVABLE, f"Execution is {status} and cannot be redriven."
    if not attempts or attempts[0].get("definition") is None:
        return NOT_REDRIVABLE, "Execution was started before the launch of RedriveExecution."
    if now - record["start_date"] > MAX_OPEN_SECONDS:
        return NOT_REDRIVABLE, "Execution has exceeded the max execution time."
    if now - (record["stop_date"] or now) > REDRIVE_PERIOD_SECONDS:
        return NOT_REDRIVABLE, "Execution redrivable period exceeded."
    if event_count >= MAX_HISTORY_EVENTS:
        return NOT_REDRIVABLE, "Execution history event limit exceeded."
    return REDRIVABLE, None


def describe_redrive(store, record: dict, now: float) -> dict:
    """The redrive fields of DescribeExecution: redriveCount, redriveDate, redriveStatus and
    (when not redrivable) redriveStatusReason."""
    attempts = store.get_attempts(record["arn"])
    status, reason = redrive_status(record, attempts, store.count_events(record["arn"])[0], now)
    out: dict[str, Any] = {"redriveCount": attempts[-1]["redrive_count"] if attempts else 0}
    if attempts and attempts[-1]["redrive_count"]:
        out["redriveDate"] = attempts[-1]["date"]
    out["redriveStatus"] = status
    if reason is not None:
        out["redriveStatusReason"] = reason
    return out


def prepare_redrive(store, arn: str, *, tasks=None, clock: Clock | None = None,
                    random: Callable[[], float] | None = None) -> Execution:
    """Check that `arn` (an ARN or a name) can be redriven, mark it RUNNING again and return
    the `Execution` that continues it; ExecutionDoesNotExist, ExecutionNotRedrivable."""
    clock = clock or RealClock()
    record = store.get_execution(arn)
    arn = record["arn"]
    attempts = store.get_attempts(arn)
    event_count, last_event = store.count_events(arn)
    now = clock.now()
    status, reason = redrive_status(record, attempts, event_count, now)
    if status != REDRIVABLE:
        raise _not_redrivable(arn, reason)
    machine = load_definition(loads(attempts[0]["definition"]), tasks)
    journal = Journal.load(store, arn)
    count = attempts[-1]["redrive_count"] + 1
    if not store.reopen_execution(arn, count, now, os.getpid(), CLOSED_UNSUCCESSFUL):
        raise _not_redrivable(arn, "Execution is RUNNING and cannot be redriven.")
    return Execution(machine, record["input"], name=record["name"],
                     state_machine_name=record["state_machine_arn"].rsplit(":", 1)[-1],
                     store=store, tasks=tasks, clock=clock, role_arn=_role_arn(store, arn),
                     random=random, start_date=record["start_date"],
                     attempt=Attempt(count, now, last_event, journal))


def _not_redrivable(arn: str, reason: str | None) -> ExecutionNotRedrivable:
    fixes = {"SUCCEEDED": "nothing to redrive: start a new execution to run it again",
             "RUNNING": "wait for it to end (or stop it), then redrive it",
             "period": "start a new execution: a redrive must come within 14 days of the end"}
    fix = next((text for word, text in fixes.items() if word in (reason or "")),
               "start a new execution")
    return ExecutionNotRedrivable(f"Execution {arn} cannot be redriven: {reason}", where=arn,
                                  fix=fix)


def _role_arn(store, arn: str) -> str | None:
    for event in store.get_events(arn)[:1]:
        return ((event.get("details") or {}).get("executionStartedEventDetails") or {}) \
            .get("roleArn")
    return None
