"""The options every inspecting command shares: `--aws/--local` and where on AWS.

Without `--aws` or `--local` the EXECUTION or JOB argument picks its own side
(`smlift.follow.choose`); list commands default to the embedded default.
"""

from __future__ import annotations

import click


def backend_options(function):
    """--aws, --local, --region, --profile, --deployment (click options, innermost first)."""
    for option in reversed([
        click.option("--aws", "use_aws", is_flag=True,
                     help="Ask AWS (Step Functions, SageMaker, CloudWatch Logs)."),
        click.option("--local", "use_local", is_flag=True,
                     help="Ask the embedded default ($SMLIFT_HOME)."),
        click.option("--region", help="AWS region (default: the ARN's, else AWS_REGION)."),
        click.option("--profile", help="AWS profile (default: AWS_PROFILE)."),
        click.option("--deployment", default="smlift", show_default=True,
                     help="On AWS, the deployment whose state machine `list` lists."),
    ]):
        function = option(function)
    return function


def chosen(options: dict, *, execution: str | None = None, job: str | None = None,
           listing: bool = False):
    """The backend these options and argument select. A list with neither --aws nor --local
    lists the project's executions or jobs: outside any project, it says so in one line."""
    from ..follow import choose

    if listing and not (options["use_aws"] or options["use_local"]):
        from .project import require_state

        require_state("pass --aws, or --local for a .smlift/ in this folder")

    return choose(aws=options["use_aws"], local=options["use_local"], execution=execution,
                  job=job, region=options["region"], profile=options["profile"],
                  deployment=options["deployment"])
