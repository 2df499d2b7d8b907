"""`smlift executions list|describe|history`: the local executions, as the AWS CLI shows them.

Thin: each command calls one method of the embedded default's Step Functions client
(`smlift.backend.local_backend().sfn`) and prints its answer as JSON, shaped
like `aws stepfunctions list-executions`, `describe-execution` and `get-execution-history`
(dates as ISO-8601 strings). A RUNNING execution whose process has gone says
`"processAlive": false`: it will not finish.
"""

from __future__ import annotations

import click

from ..names import EXECUTION_STATUSES
from .output import dump


def _client():
    """The embedded default's Step Functions client, through the one seam."""
    from ..backend import local_backend

    return local_backend().sfn


@click.group()
def executions() -> None:
    """List, describe and show the history of local executions (JSON, AWS CLI shapes).

    \b
    Example:
      smlift executions list --status-filter FAILED
      smlift executions describe arn:aws:states:us-east-1:123456789012:execution:definition:run-1
      smlift executions history run-1
    """


@executions.command("list")
@click.option("--state-machine-arn", help="Only executions of this state machine.")
@click.option("--status-filter", type=click.Choice(EXECUTION_STATUSES), help="Only this status.")
def list_(state_machine_arn, status_filter) -> None:
    """List local executions, newest first (like `aws stepfunctions list-executions`).

    \b
    Example:
      smlift executions list --status-filter RUNNING
    """
    click.echo(dump(_client().list_executions(stateMachineArn=state_machine_arn,
                                                 statusFilter=status_filter)))


@executions.command()
@click.argument("execution")
def describe(execution) -> None:
    """Describe one execution (like `aws stepfunctions describe-execution`).

    EXECUTION is an executionArn or a local execution name.

    \b
    Example:
      smlift executions describe run-1
    """
    click.echo(dump(_client().describe_execution(executionArn=execution)))


@executions.command()
@click.argument("execution")
@click.option("--reverse-order", is_flag=True, help="Newest event first.")
def history(execution, reverse_order) -> None:
    """Show an execution's events (like `aws stepfunctions get-execution-history`).

    \b
    Example:
      smlift executions history run-1 --reverse-order
    """
    click.echo(dump(_client().get_execution_history(executionArn=execution,
                                                       reverseOrder=reverse_order)))
