"""`smlift status|wait|history EXECUTION`: follow an execution, local or on AWS.

Thin: `smlift.follow` finds the side that knows the execution and answers in AWS's shapes.
"""

from __future__ import annotations

import click

from .output import dump as _dump

@click.command()
@click.argument("execution")
def status(execution) -> None:
    """Show an execution's DescribeExecution as JSON.

    EXECUTION is an executionArn (AWS or local) or a local execution name.

    \b
    Example:
      smlift status arn:aws:states:eu-west-1:123456789012:execution:smlift-pipeline:churn-1
    """
    from ..follow import locate, status as describe

    click.echo(_dump(describe(locate(execution), execution)))


@click.command()
@click.argument("execution")
@click.option("--timeout", type=float, help="Give up after this many seconds (exit 1).")
@click.option("--poll", type=float, help="Seconds between checks (default: 5 on AWS, 0.5 locally).")
def wait(execution, timeout, poll) -> None:
    """Wait for an execution to end; print its DescribeExecution; exit 1 unless it SUCCEEDED.

    \b
    Example:
      smlift wait arn:aws:states:eu-west-1:123456789012:execution:smlift-pipeline:churn-1 \\
          --timeout 3600
    """
    from ..errors import ExecutionError
    from ..follow import failure_message, follow

    described = follow(execution, timeout=timeout, poll=poll)
    click.echo(_dump(described))
    problem = failure_message(described)
    if problem:
        raise ExecutionError(problem, where=described.get("executionArn"),
                             fix="see `smlift history EXECUTION` for the failing step")


@click.command()
@click.argument("execution")
@click.option("--json", "as_json", is_flag=True, help="Print the events as JSON.")
def history(execution, as_json) -> None:
    """Show an execution's event history, oldest first.

    \b
    Example:
      smlift history arn:aws:states:eu-west-1:123456789012:execution:smlift-pipeline:churn-1
    """
    from ..follow import history as events_of, locate

    events = events_of(locate(execution), execution)
    if as_json:
        click.echo(_dump(events))
        return
    for event in events:
        click.echo(f"{event['id']:>5}  {_when(event['timestamp'])}  {event['type']:<28} "
                   f"{_detail(event)}")


def _when(value) -> str:
    if isinstance(value, (int, float)):
        import time

        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(value))
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


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
