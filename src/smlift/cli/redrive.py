"""`smlift redrive EXECUTION [--local]`: continue a failed, aborted or timed-out execution.

Thin: `smlift.redrive.redrive` does it on the side that knows the execution.
"""

from __future__ import annotations

import click

from .output import emit, output_option


@click.command()
@click.argument("execution")
@click.option("--local", is_flag=True,
              help="Only look for EXECUTION on the embedded default (default: the local store "
                   "first, then AWS for an execution ARN).")
@click.option("--client-token", default=None,
              help="RedriveExecution's clientToken: the same token redrives only once.")
@output_option()
def redrive(execution, local, client_token, output) -> None:
    """Redrive an execution: rerun its unsuccessful states and what follows, keeping what
    succeeded (Step Functions' RedriveExecution). Prints redriveDate and DescribeExecution;
    locally, once the execution has ended again (exit 1 unless it SUCCEEDED).

    Only FAILED, ABORTED or TIMED_OUT executions that stopped less than 14 days ago can be
    redriven (ExecutionNotRedrivable otherwise). A local execution whose smlift process was
    killed is ended FAILED first, then redriven.

    \b
    Example:
      smlift redrive nightly-2026-11-22 --local
      smlift redrive arn:aws:states:eu-west-1:123456789012:execution:smlift-pipeline:churn-1
      smlift wait arn:aws:states:eu-west-1:123456789012:execution:smlift-pipeline:churn-1
    """
    from ..backend import local_backend
    from ..errors import ExecutionError
    from ..follow import failure_message, locate
    from ..embedded.sfn import LocalStepFunctions
    from ..redrive import redrive as redrive_execution

    backend = local_backend(sfn=LocalStepFunctions()) if local else locate(execution)
    described = redrive_execution(backend, execution, client_token=client_token)
    emit(described, output, None,
         ("name", "status", "redriveDate", "redriveCount", "error", "executionArn"))
    problem = backend.runs_in_process and failure_message(described)
    if problem:
        raise ExecutionError(problem, where=described.get("executionArn"),
                             fix="fix the failing step, then redrive it again "
                                 "(`smlift history EXECUTION` shows it)")
