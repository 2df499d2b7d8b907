"""`smlift jobs list|describe|logs|stop`: SageMaker Processing jobs, on AWS or locally,
answered like the AWS CLI (`aws sagemaker list-processing-jobs`, `describe-processing-job`,
`stop-processing-job`; logs from CloudWatch Logs, `/aws/sagemaker/ProcessingJobs`, streams
`NAME/algo-N-EPOCH`, or the local job's log files).

Thin: `backends.chosen` picks the side (`--aws/--local`, else a job ARN the local store does
not know is on AWS, else local); `Backend.jobs` answers the same shapes on both sides.
"""

from __future__ import annotations

import click

from .backends import backend_options, chosen
from .output import emit, output_option, render

_COLUMNS = ("ProcessingJobName", "ProcessingJobStatus", "CreationTime", "ProcessingEndTime",
            "ProcessingJobArn")


@click.group()
def jobs() -> None:
    """List, describe, stop and read the logs of processing jobs, on AWS or locally.

    \b
    Example:
      smlift jobs list --status Failed
      smlift jobs list --aws --region eu-west-1 --output table
      smlift jobs describe preprocess-2024-01-01-00-00-00
      smlift jobs logs preprocess-2024-01-01-00-00-00 --follow
    """


@jobs.command("list")
@click.option("--status", "status", help="Only jobs with this status.",
              type=click.Choice(["InProgress", "Stopping", "Completed", "Failed", "Stopped"]))
@click.option("--name-contains", help="Only jobs whose name contains this text.")
@click.option("--max-results", default=100, show_default=True, type=click.IntRange(1, 100),
              help="At most this many jobs (1 to 100, as on AWS).")
@backend_options
@output_option()
def list_(status, name_contains, max_results, output, **options) -> None:
    """List jobs, newest first, as `aws sagemaker list-processing-jobs` does.

    \b
    Example:
      smlift jobs list
      smlift jobs list --status Failed --name-contains predict --output text
    """
    answer = chosen(options, listing=True).jobs.list_processing_jobs(
        StatusEquals=status, NameContains=name_contains, MaxResults=max_results,
        SortBy="CreationTime", SortOrder="Descending")
    click.echo(render(answer, output, answer["ProcessingJobSummaries"], _COLUMNS))


@jobs.command()
@click.argument("job")
@backend_options
@output_option()
def describe(job, output, **options) -> None:
    """Describe a job, as `aws sagemaker describe-processing-job` does. JOB is a name or ARN.

    A local job's answer has one key more, `SmliftLocal`, saying how it ran: IsolationMode
    (mount-namespace or path-rewrite), JobRoot, LogFile, ExitCode and Tags.

    \b
    Example:
      smlift jobs describe preprocess-2024-01-01-00-00-00
    """
    from ..follow import job_name

    answer = chosen(options, job=job).jobs.describe_processing_job(job_name(job))
    click.echo(render(answer, output, None, _COLUMNS))


@jobs.command()
@click.argument("job")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines until the job ends.")
@backend_options
@output_option(default="text")
def logs(job, follow, output, **options) -> None:
    """Print the job's log stream (its stdout and stderr, CloudWatch's NAME/algo-1-<epoch>).

    A job of several instances has one stream per instance (NAME/algo-i-<epoch>): they are
    printed one after the other, each line prefixed with its host, e.g. `[algo-2] ...`.
    With --output json, one {"ProcessingJobName", "lines"} document (with --follow, once the
    job has ended).

    \b
    Example:
      smlift jobs logs preprocess-2024-01-01-00-00-00
      smlift jobs logs preprocess-2024-01-01-00-00-00 --follow --aws
    """
    from ..follow import job_name

    service = chosen(options, job=job).jobs
    name = job_name(job)
    lines = service.follow_log(name) if follow else service.log_lines(name)
    if output == "text":  # as they come
        for line in lines:
            click.echo(line)
        return
    rows = [{"line": line} for line in lines]  # with --follow: once the job has ended
    emit({"ProcessingJobName": name, "lines": [row["line"] for row in rows]}, output, rows,
         ("line",))


@jobs.command()
@click.argument("job")
@backend_options
def stop(job, **options) -> None:
    """Stop a running job, as `aws sagemaker stop-processing-job` does (it ends Stopped).
    A local job can be stopped only by the smlift process that runs it.

    \b
    Example:
      smlift jobs stop arn:aws:sagemaker:eu-west-1:111122223333:processing-job/predict-1 --aws
    """
    from ..follow import job_name

    chosen(options, job=job).jobs.stop_processing_job(ProcessingJobName=job_name(job))
