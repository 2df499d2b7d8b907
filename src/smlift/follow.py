"""Following an execution on either side: its status, waiting for its end, its event history.

An execution ARN (or, locally, an execution name) is looked up first in the embedded default's
store, when there is one (`$SMLIFT_HOME/smlift.db`); anything else that is a Step Functions
execution ARN is asked of AWS. `locate` answers with the `smlift.backend.Backend` of that side;
both sides answer in AWS's shapes (DescribeExecution, GetExecutionHistory's events).

`choose(...)` is how every inspecting command (`executions`, `jobs`, `wait`) picks its side: `--aws`
or `--local` say it; otherwise an execution (or processing-job) ARN picks its own side (the
local store knows it, or its account is the embedded default's, 123456789012), and a command
with nothing to look up (a list) uses the embedded default.

`follow(execution)` is the use case of `smlift wait`: `locate`, then `wait`, and the final
DescribeExecution. `wait` polls DescribeExecution with an injected `sleep` and `clock` until the status leaves
RUNNING (or PENDING_REDRIVE), or raises after `timeout` seconds. Executions that run in this
process (the embedded default's) are outlived by `wait_in_process` and stopped by
`stop_in_process` when the process is interrupted.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Callable

from .backend import Backend, aws_backend, local_backend
from .embedded.sfn import LocalStepFunctions
from .errors import ExecutionDoesNotExist, ExecutionError, InputError, SmliftError, WaitTimeout
from .local.store import open_store
from .names import RUNNING

_EXECUTION_ARN = re.compile(r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$")
_JOB_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:([a-z0-9-]+):(\d{12}):processing-job/(.+)$")


def choose(*, aws: bool = False, local: bool = False, execution: str | None = None,
           job: str | None = None, region: str | None = None, profile: str | None = None,
           deployment: str = "smlift") -> Backend:
    """The backend a command's `--aws/--local` and its EXECUTION or JOB argument select (see
    the module docstring)."""
    if aws and local:
        raise InputError("--aws and --local exclude each other", where="--aws/--local",
                         fix="pass one of them, or neither to let the ARN decide")
    if aws:
        return aws_backend(region=region or _region_of(execution or job), profile=profile,
                           deployment=deployment)
    if local:
        return local_backend()
    if execution is not None:
        return locate(execution, aws=lambda **kw: aws_backend(profile=profile, **kw))
    match = _JOB_ARN.match(job or "")
    if match and not _local_job(match.group(3)):
        return aws_backend(region=region or match.group(1), profile=profile)
    return local_backend()


def _local_job(name: str) -> bool:
    if not local_store_path().exists():
        return False
    return open_store(local_store_path().parent).find_processing_job(name) is not None


def job_name(job: str) -> str:
    """The job name of a processing-job ARN (else `job` itself)."""
    match = _JOB_ARN.match(job)
    return match.group(3) if match else job


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _region_of(arn: str | None) -> str | None:
    parts = (arn or "").split(":")
    return parts[3] if len(parts) > 4 and parts[0] == "arn" else None


def local_store_path() -> Path:
    """The store file of the embedded default, without creating anything."""
    return Path(os.environ.get("SMLIFT_HOME") or ".smlift").absolute() / "smlift.db"


def locate(arn: str, *, aws: Callable[..., Backend] = aws_backend) -> Backend:
    """The backend of the side that knows execution `arn` (see the module docstring)."""
    if local_store_path().exists():
        store = open_store(local_store_path().parent)
        try:
            store.get_execution(arn)
        except ExecutionDoesNotExist:
            pass
        else:
            return local_backend(sfn=LocalStepFunctions(store=store))
    if not arn.isascii() and not _utf8(arn):
        return local_backend()  # whose store says, in one line, that the name is not UTF-8
    if not _EXECUTION_ARN.match(arn):
        raise ExecutionDoesNotExist(
            f"{arn!r} is neither a local execution nor a Step Functions execution ARN",
            where="EXECUTION", fix="pass the executionArn printed by `smlift start` "
                                   "(arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME)")
    # a mistyped local ARN must not read as a credentials problem
    return aws(region=arn.split(":")[3], unknown_hint=
               f"; it is not a local execution under {local_store_path().parent} either")


def status(backend: Backend, arn: str) -> dict:
    """DescribeExecution's answer (status, dates, input, output, error, cause)."""
    return backend.describe(arn)


def history(backend: Backend, arn: str) -> list[dict]:
    """Every history event, oldest first, as GetExecutionHistory returns them."""
    return backend.history(arn)


def wait(backend: Backend, arn: str, *, timeout: float | None = None,
         poll: float | None = None,
         sleep: Callable[[float], None] = time.sleep,
         clock: Callable[[], float] = time.monotonic,
         on_poll: Callable[[dict], None] | None = None) -> dict:
    """Poll until the execution ends; its final DescribeExecution. Raises WaitTimeout when
    `timeout` seconds pass first (the execution keeps running). `poll`: the backend's default.
    `on_poll(described)` is called after every DescribeExecution (progress)."""
    poll = backend.poll_seconds if poll is None else poll
    if poll <= 0:
        raise InputError("must be more than 0 seconds", where="--poll", fix="e.g. --poll 5")
    if timeout is not None and timeout < 0:
        raise InputError("must be 0 seconds or more", where="--timeout", fix="e.g. --timeout 3600")
    deadline = None if timeout is None else clock() + timeout
    while True:
        described = backend.describe(arn)
        if on_poll is not None:
            on_poll(described)
        if described.get("status") not in RUNNING:
            return described
        if described.get("processAlive") is False:  # local only: its smlift process is gone
            raise ExecutionError("the smlift process that ran this execution has ended (killed?); "
                                 "it will never finish", where=arn,
                                 fix="redrive it: `smlift redrive EXECUTION` (or "
                                     "`smlift run --redrive EXECUTION`)")
        if deadline is not None and clock() >= deadline:
            raise WaitTimeout(f"execution still {described.get('status')} after {timeout:g}s",
                                 where=arn, fix="wait again, or pass a longer --timeout")
        remaining = poll if deadline is None else max(0.0, min(poll, deadline - clock()))
        sleep(remaining)


def follow(execution: str, *, timeout: float | None = None, poll: float | None = None,
           sleep: Callable[[float], None] = time.sleep,
           clock: Callable[[], float] = time.monotonic) -> dict:
    """Wait for `execution` (an ARN, or a local execution name) to end on the side that knows
    it; its final DescribeExecution (`failure_message` says why it did not succeed)."""
    return wait(locate(execution), execution, timeout=timeout, poll=poll, sleep=sleep,
                clock=clock)


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
    head, brace, rest = cause.partition("{")
    try:
        job = json.loads(brace + rest) if brace else None
    except ValueError:
        return cause
    if not isinstance(job, dict) or "FailureReason" not in job:
        return cause
    return f"{head}job {job.get('ProcessingJobName', '?')}: {job['FailureReason']}"


def wait_in_process(backend: Backend, arns: list[str], *,
                    reason: str = "smlift start was interrupted") -> None:
    """When executions run in threads of this process (the embedded default), block until they
    end, so that the process outlives them. On Ctrl-C (or SIGTERM made into it) stop each one,
    so that none is left RUNNING with no process behind it. Otherwise return at once."""
    if not backend.runs_in_process:
        return
    try:
        for arn in arns:
            backend.sfn.wait(arn)
    except KeyboardInterrupt:
        stop_in_process(backend, arns, reason=reason)
        raise


def stop_in_process(backend: Backend, arns: list[str], *,
                    reason: str = "smlift start was interrupted") -> None:
    """Stop executions run by this process (each ends ABORTED); others are left alone."""
    if not backend.runs_in_process:
        return
    for arn in arns:
        try:
            backend.sfn.stop_execution(executionArn=arn, error="smlift.StartInterrupted",
                                       cause=reason)
        except SmliftError:
            pass  # it ended meanwhile
