"""A local, boto3-like Step Functions client: the embedded default's executions, in AWS's shapes.

    sfn = LocalStepFunctions()                       # $SMLIFT_HOME/smlift.db, local integrations
    arn = sfn.create_state_machine(name="demo", definition=text)["stateMachineArn"]
    started = sfn.start_execution(stateMachineArn=arn, input='{"x": 1}')
    sfn.wait(started["executionArn"])                # DescribeExecution once it has ended
    sfn.get_execution_history(executionArn=started["executionArn"])["events"]

Method names, arguments and responses follow boto3's `stepfunctions` client (dates are
timezone-aware datetimes, payloads JSON strings), so code written for one works with the other.
Executions run in this process on background threads (not daemons: a process that started an
execution lets it finish before exiting) and persist in the SQLite store as they go.

Differences a caller can see: `stop_execution` can stop only executions running in this process
(started by any object of it, or by `run_execution`), or records whose process is gone, which
it marks ABORTED. A record left RUNNING by a process
that died stays RUNNING, like an AWS execution nobody finished, and `describe_execution` adds
`"processAlive": false` to say so; starting an execution of the same name ends it FAILED
(States.Runtime, docs/fidelity.md) and refuses the name with ExecutionAlreadyExists saying so;
`redrive_execution` ends it the same way, then continues it from its unsuccessful state.
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..asl.clock import RealClock
from ..asl.definition import load_definition
from ..asl.engine import (active_execution, check_name, execution_arn, parse_input,
                          prepare_execution, state_machine_arn)
from ..asl.history import render_event
from ..asl.jsonpath import json_equal
from ..asl.redrive import describe_redrive, prepare_redrive
from ..errors import ExecutionAlreadyExists, ExecutionDoesNotExist, ExecutionError, InputError
from ..jsontext import loads
from ..local.store import open_store, process_alive
from .tasks import task_registry

TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def _date(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=timezone.utc)


class LocalStepFunctions:
    """The embedded default's Step Functions (see the module docstring)."""

    def __init__(self, home: Path | None = None, tasks=None, clock=None, store=None,
                 engine: str | None = None):
        self.home = home
        self.store = store if store is not None else open_store(home)
        self._tasks, self._engine = tasks, engine
        self._tokens: dict[tuple[str, str], float] = {}  # (arn, clientToken) -> redriveDate
        if clock is None:
            clock = RealClock()
        self.clock = clock

    @property
    def tasks(self):
        if self._tasks is None:
            self._tasks = task_registry(self.home, self._engine)
        return self._tasks

    # -- state machines -------------------------------------------------------------------
    def create_state_machine(self, name: str, definition: str | dict, roleArn: str | None = None,
                             **_: Any) -> dict:
        """Create (or, as `smlift` redeploys, update) a state machine after validating it."""
        check_name(name, "state machine")
        load_definition(definition, self.tasks)
        text = definition if isinstance(definition, str) else json.dumps(definition)
        arn = state_machine_arn(name)
        now = self.clock.now()
        self.store.put_state_machine(arn, name, text, roleArn, now)
        return {"stateMachineArn": arn, "creationDate": _date(now)}

    def update_state_machine(self, stateMachineArn: str, definition: str | dict | None = None,
                             roleArn: str | None = None, **_: Any) -> dict:
        record = self._state_machine(stateMachineArn)
        self.create_state_machine(record["name"], definition or record["definition"],
                                  roleArn or record["role_arn"])
        return {"updateDate": _date(self.clock.now())}

    def describe_state_machine(self, stateMachineArn: str) -> dict:
        record = self._state_machine(stateMachineArn)
        return {"stateMachineArn": record["arn"], "name": record["name"], "status": "ACTIVE",
                "definition": record["definition"], "roleArn": record["role_arn"],
                "type": "STANDARD", "creationDate": _date(record["created"])}

    def _state_machine(self, arn: str) -> dict:
        record = self.store.get_state_machine(arn)
        if record is None:
            raise ExecutionError(f"State Machine Does Not Exist: '{arn}'", where="stateMachineArn",
                                 fix="create it first (create_state_machine)")
        return record

    # -- executions -----------------------------------------------------------------------
    def _prepare(self, stateMachineArn: str, name: str | None, input: Any):
        record = self._state_machine(stateMachineArn)
        value = parse_input(input) if isinstance(input, (str, bytes)) else input
        return prepare_execution(record["definition"], value, name=name,
                                 state_machine_name=record["name"], store=self.store,
                                 tasks=self.tasks, clock=self.clock, role_arn=record["role_arn"],
                                 register=False)

    def start_execution(self, stateMachineArn: str, name: str | None = None, input: Any = "{}",
                        **_: Any) -> dict:
        """Start an execution on a background thread; answers at once, like AWS.

        Idempotent as AWS documents for Standard workflows: the same name and the same input
        as an execution still RUNNING answers with that execution; a closed one, or other
        input, is ExecutionAlreadyExists."""
        self._end_dead_namesake(stateMachineArn, name)
        same = self._running_duplicate(stateMachineArn, name, input)
        if same is not None:
            return {"executionArn": same["arn"], "startDate": _date(same["start_date"])}
        execution = self._prepare(stateMachineArn, name, input)
        execution.register()  # stoppable and waitable from now on, before its thread runs
        threading.Thread(target=execution.run, name=f"execution-{execution.name}").start()
        return {"executionArn": execution.arn, "startDate": _date(execution.start_date)}

    def _end_dead_namesake(self, stateMachineArn: str, name: str | None) -> None:
        """An execution of this name left RUNNING by a process that died can never progress:
        end it FAILED (States.Runtime, as AWS ends an execution it cannot continue) and say so,
        instead of answering with it as a running duplicate (a caller would wait for ever)."""
        if not name:
            return
        machine = self._state_machine(stateMachineArn)
        try:
            record = self.store.get_execution(execution_arn(machine["name"], name))
        except ExecutionDoesNotExist:
            return
        if record["status"] != "RUNNING" or self._alive(record):
            return
        self.end_dead_execution(record)
        raise ExecutionAlreadyExists(
            f"execution {name!r} was left RUNNING by smlift process {record['pid']}, which has "
            "died; it is now recorded FAILED (States.Runtime)", where=record["arn"],
            fix=f"redrive it (`smlift redrive {name}`), or start it again with another --name")

    def end_dead_execution(self, record: dict) -> None:
        """Record the end of an execution whose process died: FAILED with States.Runtime, and
        an ExecutionFailed event closing its history."""
        cause = (f"smlift: the process that ran this execution (pid {record['pid']}) ended "
                 "before the execution did")
        now = self.clock.now()
        events = self.store.get_events(record["arn"])
        last = events[-1]["id"] if events else 0
        self.store.append_events(record["arn"], [{
            "id": last + 1, "previousEventId": last, "timestamp": now, "type": "ExecutionFailed",
            "details": {"executionFailedEventDetails": {"error": "States.Runtime",
                                                        "cause": cause}}}])
        self.store.finish_execution(record["arn"], "FAILED", now, error="States.Runtime",
                                    cause=cause)

    def _running_duplicate(self, stateMachineArn: str, name: str | None,
                           input: Any) -> dict | None:
        if not name:
            return None
        machine = self._state_machine(stateMachineArn)
        try:
            record = self.store.get_execution(execution_arn(machine["name"], name))
            wanted = loads(input) if isinstance(input, (str, bytes)) else input
        except (ExecutionDoesNotExist, ValueError):
            return None
        if record["status"] == "RUNNING" and json_equal(record["input"], wanted):
            return record
        return None

    def start_sync_execution(self, stateMachineArn: str, name: str | None = None,
                             input: Any = "{}", **_: Any) -> dict:
        """Run an execution to its end in this thread; StartSyncExecution's answer."""
        execution = self._prepare(stateMachineArn, name, input)
        execution.run()
        return self.describe_execution(execution.arn)

    def wait(self, executionArn: str, timeout: float | None = None) -> dict:
        """Block until the execution has ended (or `timeout` s); its DescribeExecution.

        An execution of this process that is RUNNING but not yet registered by its thread
        (just started) is waited for too, not reported at once."""
        arn = self.store.get_execution(executionArn)["arn"]
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            running = active_execution(arn)
            if running is not None:
                running.done.wait(None if deadline is None else
                                  max(0.0, deadline - time.monotonic()))
                break
            record = self.store.get_execution(arn)
            if record["status"] != "RUNNING" or record["pid"] != os.getpid():
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
            time.sleep(0.01)
        return self.describe_execution(executionArn)

    def describe_execution(self, executionArn: str) -> dict:
        record = self.store.get_execution(executionArn)
        out = {"executionArn": record["arn"], "stateMachineArn": record["state_machine_arn"],
               "name": record["name"], "status": record["status"],
               "startDate": _date(record["start_date"]),
               "input": json.dumps(record["input"], separators=(",", ":")),
               "inputDetails": {"included": True}}
        if record["stop_date"] is not None:
            out["stopDate"] = _date(record["stop_date"])
        if record["status"] == "SUCCEEDED":
            out["output"] = json.dumps(record["output"], separators=(",", ":"))
            out["outputDetails"] = {"included": True}
        for key in ("error", "cause"):
            if record[key] is not None:
                out[key] = record[key]
        if record["status"] == "RUNNING":
            out["processAlive"] = self._alive(record)
        redrive = describe_redrive(self.store, record, self.clock.now())
        if "redriveDate" in redrive:
            redrive["redriveDate"] = _date(redrive["redriveDate"])
        out.update(redrive)
        return out

    def _alive(self, record: dict) -> bool:
        if active_execution(record["arn"]) is not None:
            return True
        return record["pid"] != os.getpid() and process_alive(record["pid"])

    def get_execution_history(self, executionArn: str, reverseOrder: bool = False,
                              **_: Any) -> dict:
        arn = self.store.get_execution(executionArn)["arn"]
        running = active_execution(arn)
        if running is not None:
            running.sink.flush()
        events = [render_event(e) for e in self.store.get_events(arn)]
        for event in events:
            event["timestamp"] = _date(event["timestamp"])
        return {"events": events[::-1] if reverseOrder else events}

    def list_executions(self, stateMachineArn: str | None = None,
                        statusFilter: str | None = None, **_: Any) -> dict:
        if stateMachineArn is not None:  # AWS: StateMachineDoesNotExist, not an empty list
            try:
                self._state_machine(stateMachineArn)
            except ExecutionError as exc:
                exc.fix = "see the stateMachineArn of `smlift executions list`"
                raise
        items = []
        for record in self.store.list_executions(stateMachineArn, statusFilter):
            item = {"executionArn": record["arn"], "stateMachineArn": record["state_machine_arn"],
                    "name": record["name"], "status": record["status"],
                    "startDate": _date(record["start_date"])}
            if record["stop_date"] is not None:
                item["stopDate"] = _date(record["stop_date"])
            items.append(item)
        return {"executions": items}

    def redrive_execution(self, executionArn: str, clientToken: str | None = None,
                          **_: Any) -> dict:
        """RedriveExecution: continue a FAILED, ABORTED or TIMED_OUT execution on a background
        thread from its unsuccessful states (asl/redrive.py has AWS's rules); answers at once
        with `redriveDate`. An execution left RUNNING by a process that died is ended first
        (FAILED, States.Runtime), so a crashed run can be redriven. `clientToken` makes a
        retried call idempotent: the same token answers with the redrive it started."""
        record = self.store.get_execution(executionArn)
        if record["status"] == "RUNNING" and not self._alive(record):
            self.end_dead_execution(record)
        done = self._tokens.get((record["arn"], clientToken)) if clientToken else None
        if done is not None:
            return {"redriveDate": _date(done)}
        execution = prepare_redrive(self.store, record["arn"], tasks=self.tasks,
                                    clock=self.clock)
        if clientToken:
            self._tokens[(record["arn"], clientToken)] = execution.attempt.date
        execution.register()
        threading.Thread(target=execution.run, name=f"redrive-{execution.name}").start()
        return {"redriveDate": _date(execution.attempt.date)}

    def stop_execution(self, executionArn: str, error: str | None = None,
                       cause: str | None = None) -> dict:
        """Abort a running execution: its running tasks get their cancel signal."""
        record = self.store.get_execution(executionArn)
        arn = record["arn"]
        running = active_execution(arn)
        if running is not None:
            running.stop(error, cause)
            running.done.wait()
        elif record["status"] == "RUNNING":
            if self._alive(record):
                raise ExecutionError(f"execution {record['name']} runs in process "
                                     f"{record['pid']}, not this one", where=arn,
                                     fix=f"stop it from that process (or end process "
                                         f"{record['pid']}, then stop it again)")
            self.store.finish_execution(arn, "ABORTED", self.clock.now(), error=error,
                                        cause=cause)
        record = self.store.get_execution(arn)
        if record["stop_date"] is None:
            raise ExecutionDoesNotExist(f"execution {arn} did not stop", where=arn)
        return {"stopDate": _date(record["stop_date"])}
