"""`smlift jobs list|describe|logs`: local processing jobs, answered like the AWS CLI."""

from __future__ import annotations

import click

from .output import dump


def _echo_json(value) -> None:
    click.echo(dump(value))


def _service():
    from ..processing.service import LocalProcessing

    return LocalProcessing()


@click.group()
def jobs() -> None:
    """List, describe and read the logs of local processing jobs ($SMLIFT_HOME).

    \b
    Example:
      smlift jobs list --status Failed
      smlift jobs describe preprocess-2024-01-01-00-00-00
      smlift jobs logs preprocess-2024-01-01-00-00-00 --follow
    """


@jobs.command("list")
@click.option("--status", "status", help="Only jobs with this status.",
              type=click.Choice(["InProgress", "Stopping", "Completed", "Failed", "Stopped"]))
@click.option("--name-contains", help="Only jobs whose name contains this text.")
@click.option("--max-results", default=100, show_default=True, type=click.IntRange(1, 100),
              help="At most this many jobs (1 to 100, as on AWS).")
def list_(status: str | None, name_contains: str | None, max_results: int) -> None:
    """List jobs, newest first, as `aws sagemaker list-processing-jobs` does.

    \b
    Example:
      smlift jobs list
      smlift jobs list --status Failed --name-contains predict
    """
    from ..processing.describe import to_json_ready

    answer = _service().list_processing_jobs(StatusEquals=status, NameContains=name_contains,
                                             MaxResults=max_results)
    answer["ProcessingJobSummaries"] = [
        to_json_ready({k: (v.timestamp() if hasattr(v, "timestamp") else v) for k, v in s.items()})
        for s in answer["ProcessingJobSummaries"]]
    _echo_json(answer)


@jobs.command()
@click.argument("name")
def describe(name: str) -> None:
    """Describe a job, as `aws sagemaker describe-processing-job` does.

    The `SmliftLocal` key (not in AWS's answer) says how the job ran: IsolationMode
    (mount-namespace or path-rewrite), JobRoot, LogFile, ExitCode and Tags.

    \b
    Example:
      smlift jobs describe preprocess-2024-01-01-00-00-00
    """
    from ..processing.describe import to_json_ready

    _echo_json(to_json_ready(_service().job_description(name)))


@jobs.command()
@click.argument("name")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines until the job ends.")
def logs(name: str, follow: bool) -> None:
    """Print the job's log stream (its stdout and stderr, CloudWatch's NAME/algo-1-<epoch>).

    A job of several instances has one stream per instance (NAME/algo-i-<epoch>): they are
    printed one after the other, each line prefixed with its host, e.g. `[algo-2] ...`.

    \b
    Example:
      smlift jobs logs preprocess-2024-01-01-00-00-00
      smlift jobs logs preprocess-2024-01-01-00-00-00 --follow
    """
    service = _service()
    lines = service.follow_log(name) if follow else service.log_lines(name)
    for line in lines:
        click.echo(line)
