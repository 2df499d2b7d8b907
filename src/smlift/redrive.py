"""Redriving an execution on either side: `smlift redrive EXECUTION`.

`redrive(backend, arn)` calls RedriveExecution through the backend (`AwsClient` on AWS,
`LocalStepFunctions` locally, both refusing with ExecutionNotRedrivable or ExecutionDoesNotExist)
and answers with `redriveDate` and the execution's DescribeExecution. On AWS the execution then
runs on AWS: follow it with `smlift wait`. Locally it runs in a thread of this process, so the
call waits for its end (and stops it, ABORTED, when interrupted), as `smlift start --local` does.
The engine's redrive rules and replay are `smlift.asl.redrive`'s.
"""

from __future__ import annotations

from .backend import Backend
from .follow import wait_in_process


def redrive(backend: Backend, arn: str, *, client_token: str | None = None) -> dict:
    """RedriveExecution, then DescribeExecution (locally, once the redriven attempt ended)."""
    answer = backend.redrive(arn, client_token)
    wait_in_process(backend, [arn], reason="smlift redrive was interrupted")
    return {"redriveDate": answer["redriveDate"], **backend.describe(arn)}
