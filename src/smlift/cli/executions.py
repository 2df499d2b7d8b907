"""`smlift executions list|describe|history|stop`, and the aliases `status` and `history`:
executions on AWS or on the embedded default, answered in the AWS CLI's shapes.

Thin: `backends.chosen` picks the side (`--aws/--local`, else the ARN decides, else local), one
`Backend` method answers, `output.render` prints it (`--output json|table|text`). Both sides
answer alike: `aws stepfunctions list-executions`, `describe-execution`,
`get-execution-history`, `stop-execution`. A local RUNNING execution whose process has gone
says `"processAlive": false`: it will not finish.
"""

from __future__ import annotations

import click

from ..names import EXECUTION_STATUSES
from .backends import backend_options, chosen
from .output import output_option, render

_LIST_COLUMNS = ("name", "status", "startDate", "stopDate", "executionArn")
_DESCRIBE_COLUMNS = ("name", "status", "startDate", "stopDate", "error", "executionArn")
_EVENT_COLUMNS = ("id", "timestamp", "type", "detail")


@click.group()
def executions() -> None:
    """List, describe, stop and show the history of executions, on AWS or locally.

    Without --aws or --local, an execution ARN or name picks its own side (the local store
    first), and `list` lists the local executions.

    \b
    Example:
      smlift executions list --status-filter FAILED
      smlift executions list --aws --region eu-west-1 --output table
      smlift executions describe arn:aws:states:us-east-1:123456789012:execution:definition:run-1
      smlift executions history run-1 --output text
      smlift executions stop run-1
    """


@executions.command("list")
@click.option("--state-machine-arn", help="Only executions of this state machine "
              "(on AWS, default: the deployment's).")
@click.option("--status-filter", type=click.Choice(EXECUTION_STATUSES), help="Only this status.")
@backend_options
@output_option()
def list_(state_machine_arn, status_filter, output, **options) -> None:
    """List executions, newest first (like `aws stepfunctions list-executions`).

    \b
    Example:
      smlift executions list --status-filter RUNNING
      smlift executions list --aws --state-machine-arn arn:aws:states:eu-west-1:111122223333:stateMachine:smlift
    """
    answer = chosen(options, listing=True).list_executions(state_machine_arn, status_filter)
    click.echo(render(answer, output, answer["executions"], _LIST_COLUMNS))


@executions.command()
@click.argument("execution")
@backend_options
@output_option()
def describe(execution, output, **options) -> None:
    """Describe one execution (like `aws stepfunctions describe-execution`).

    EXECUTION is an executionArn (AWS or local) or a local execution name.

    \b
    Example:
      smlift executions describe run-1
      smlift status arn:aws:states:eu-west-1:111122223333:execution:smlift:churn-1
    """
    answer = chosen(options, execution=execution).describe(execution)
    click.echo(render(answer, output, None, _DESCRIBE_COLUMNS))


def _print_history(execution, reverse_order, output, options) -> None:
    events = chosen(options, execution=execution).history(execution)
    events = events[::-1] if reverse_order else events
    rows = [dict(event, detail=_detail(event)) for event in events]
    click.echo(render({"events": events}, output, rows, _EVENT_COLUMNS))


@executions.command()
@click.argument("execution")
@click.option("--reverse-order", is_flag=True, help="Newest event first.")
@backend_options
@output_option()
def history(execution, reverse_order, output, **options) -> None:
    """Show an execution's events (like `aws stepfunctions get-execution-history`).

    \b
    Example:
      smlift executions history run-1 --reverse-order
      smlift executions history run-1 --output text     # one line per event
    """
    _print_history(execution, reverse_order, output, options)


@executions.command()
@click.argument("execution")
@click.option("--error", help="The error code the execution ends with.")
@click.option("--cause", help="A longer explanation of why it was stopped.")
@backend_options
@output_option()
def stop(execution, error, cause, output, **options) -> None:
    """Stop a running execution (like `aws stepfunctions stop-execution`): it ends ABORTED.

    \b
    Example:
      smlift executions stop arn:aws:states:eu-west-1:111122223333:execution:smlift:churn-1
    """
    answer = chosen(options, execution=execution).stop(execution, error, cause)
    click.echo(render(answer, output, None, ("stopDate",)))


# -- the older names, kept working --------------------------------------------------------------
@click.command("history")
@click.argument("execution")
@click.option("--reverse-order", is_flag=True, help="Newest event first.")
@click.option("--json", "as_json", is_flag=True, hidden=True, help="Same as --output json.")
@backend_options
@output_option(default="table")
def history_alias(execution, reverse_order, as_json, output, **options) -> None:
    """Show an execution's event history, oldest first (`smlift executions history`, as a
    table by default).

    \b
    Example:
      smlift history arn:aws:states:eu-west-1:111122223333:execution:smlift-pipeline:churn-1
    """
    if as_json:  # the old flag printed the bare list of events
        events = chosen(options, execution=execution).history(execution)
        click.echo(render(events[::-1] if reverse_order else events, "json"))
        return
    _print_history(execution, reverse_order, output, options)


def _detail(event: dict) -> str:
    """The state name, or the error of a failure event, from the event's details key."""
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            if "error" in value:
                return f"{value['error']}: {value.get('cause', '')}"[:160]
            if "name" in value:
                return value["name"]
            if "redriveCount" in value:
                return f"redrive #{value['redriveCount']}"
    return ""
