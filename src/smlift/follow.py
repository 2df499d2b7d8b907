"""Following an execution on either side: its status, waiting for its end, its event history.

An execution ARN (or, locally, an execution name) is looked up first in the embedded default's
store, when there is one (`$SMLIFT_HOME/smlift.db`); anything else that is a Step Functions
execution ARN is asked of AWS. Both sides answer in AWS's shapes (DescribeExecution,
GetExecutionHistory's events), through a boto3-like object: `LocalStepFunctions` locally,
`AwsClient` on AWS.

`wait` polls DescribeExecution with an injected `sleep` and `clock` until the status leaves
RUNNING (or PENDING_REDRIVE), or raises after `timeout` seconds.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .errors import ExecutionDoesNotExist, ExecutionError, InputError

RUNNING = ("RUNNING", "PENDING_REDRIVE")
_EXECUTION_ARN = re.compile(r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$")


@dataclass
class Side:
    """Where an execution lives: "local" or "aws", and the boto3-like object that reads it."""

    name: str
    sfn: Any

    def describe(self, arn: str) -> dict:
        return self._ask(lambda: self.sfn.describe_execution(executionArn=arn))

    def history(self, arn: str) -> list[dict]:
        events = self._ask(lambda: self.sfn.get_execution_history(executionArn=arn))
        return events["events"] if isinstance(events, dict) else list(events)

    def _ask(self, call: Callable[[], Any]) -> Any:
        """An AWS failure also says that the local store was looked at first (a mistyped local
        ARN otherwise reads as a credentials problem)."""
        from .errors import AwsError

        try:
            return call()
        except AwsError as exc:
            if self.name == "aws":
                exc.message += f"; it is not a local execution under {local_store_path().parent} either"
            raise


def local_store_path() -> Path:
    """The store file of the embedded default, without creating anything."""
    return Path(os.environ.get("SMLIFT_HOME") or ".smlift").absolute() / "smlift.db"


def locate(arn: str, *, aws_client: Callable[[], Any] | None = None) -> Side:
    """The side that knows execution `arn` (see the module docstring)."""
    if local_store_path().exists():
        from .local.store import open_store

        store = open_store(local_store_path().parent)
        try:
            store.get_execution(arn)
        except ExecutionDoesNotExist:
            pass
        else:
            return Side("local", _local_sfn(store))
    if not _EXECUTION_ARN.match(arn):
        raise ExecutionDoesNotExist(
            f"{arn!r} is neither a local execution nor a Step Functions execution ARN",
            where="EXECUTION", fix="pass the executionArn printed by `smlift start` "
                                   "(arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME)")
    if aws_client is None:
        from .aws.client import AwsClient

        return Side("aws", AwsClient(region=arn.split(":")[3]))
    return Side("aws", aws_client())


def _local_sfn(store) -> Any:
    from .local.sfn import LocalStepFunctions

    return LocalStepFunctions(store=store)


def status(side: Side, arn: str) -> dict:
    """DescribeExecution's answer (status, dates, input, output, error, cause)."""
    return side.describe(arn)


def history(side: Side, arn: str) -> list[dict]:
    """Every history event, oldest first, as GetExecutionHistory returns them."""
    return side.history(arn)


def wait(side: Side, arn: str, *, timeout: float | None = None, poll: float = 5.0,
         sleep: Callable[[float], None] = time.sleep,
         clock: Callable[[], float] = time.monotonic) -> dict:
    """Poll until the execution ends; its final DescribeExecution. Raises ExecutionError when
    `timeout` seconds pass first (the execution keeps running)."""
    if poll <= 0:
        raise InputError("must be more than 0 seconds", where="--poll", fix="e.g. --poll 5")
    if timeout is not None and timeout < 0:
        raise InputError("must be 0 seconds or more", where="--timeout", fix="e.g. --timeout 3600")
    deadline = None if timeout is None else clock() + timeout
    while True:
        described = side.describe(arn)
        if described.get("status") not in RUNNING:
            return described
        if described.get("processAlive") is False:  # local only: its smlift process is gone
            raise ExecutionError("the smlift process that ran this execution has ended (killed?); "
                                 "it will never finish", where=arn,
                                 fix="start it again under a new name")
        if deadline is not None and clock() >= deadline:
            raise ExecutionError(f"execution still {described.get('status')} after {timeout:g}s",
                                 where=arn, fix="wait again, or pass a longer --timeout")
        remaining = poll if deadline is None else max(0.0, min(poll, deadline - clock()))
        sleep(remaining)


def failure_message(described: dict) -> str | None:
    """One line for an execution that did not succeed, else None."""
    if described.get("status") == "SUCCEEDED":
        return None
    text = f"execution {described.get('name', '')} {described.get('status')}"
    if described.get("error"):
        text += f": {described['error']}"
    if described.get("cause"):
        text += f": {_short_cause(described['cause'])}"
    return text


def _short_cause(cause: str) -> str:
    """A cause that embeds a DescribeProcessingJob answer (what a failed `.sync` Task reports)
    shortened to the job's name and FailureReason; any other cause as it is."""
    import json

    head, brace, rest = cause.partition("{")
    try:
        job = json.loads(brace + rest) if brace else None
    except ValueError:
        return cause
    if not isinstance(job, dict) or "FailureReason" not in job:
        return cause
    return f"{head}job {job.get('ProcessingJobName', '?')}: {job['FailureReason']}"
