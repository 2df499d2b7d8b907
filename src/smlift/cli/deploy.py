"""`smlift deploy` and `smlift destroy`: thin commands over `smlift.aws.deploy.deployer`.

boto3 is imported only inside the commands (through smlift.aws.client), so `smlift --help` stays fast.
"""

from __future__ import annotations

import click

from .. import layout
from .output import dump, emit, output_option, progress_echo


def _aws_options(command):
    command = click.option("--profile", help="AWS profile (default: AWS_PROFILE).")(command)
    command = click.option("--region", help="AWS region (default: AWS_REGION / "
                                            "AWS_DEFAULT_REGION).")(command)
    command = click.option("--dry-run", is_flag=True,
                           help="Show the plan of API calls and change nothing.")(command)
    command = click.option("--bucket", help="S3 bucket for the code and the deployment record "
                                            "(default: sagemaker-REGION-ACCOUNT).")(command)
    command = click.option("--name", default="smlift", show_default=True,
                           help="Deployment name; prefixes the role and state machine names."
                           )(command)
    return output_option(default="text")(command)


def _calls(plan) -> list[dict]:
    return [{"method": call.method, "description": call.description} for call in plan.calls]


def _client(region: str | None, profile: str | None):
    from ..aws.client import AwsClient

    return AwsClient(region=region, profile=profile)


@click.command()
@_aws_options
@click.option("--input-prefix", help="S3 prefix the jobs may read input from "
                                     "(default: s3://BUCKET/smlift/input/).")
@click.option("--output-prefix", help="S3 prefix the jobs may write to "
                                      "(default: s3://BUCKET/smlift/output/).")
@click.option("--project", "project_root", default=None, type=click.Path(file_okay=False),
              help="Project root (with iam/, scripts/, statemachine/) [default: the project "
                   "around the working directory].")
def deploy(name: str, bucket: str | None, dry_run: bool, region: str | None,
           profile: str | None, output: str, input_prefix: str | None,
           output_prefix: str | None, project_root: str) -> None:
    """Deploy the state machine, its three roles and the step code to AWS.

    Plans first (reads only), shows the plan of API calls, then applies it: the roles and
    inline policies rendered from iam/, scripts/ uploaded under a content-addressed prefix,
    the state machine created or updated (publishing a version), everything tagged. A second
    deploy with no change makes no change. Nothing is ever deleted.

    \b
    Example:
      smlift deploy --bucket my-bucket --region eu-west-1 --dry-run
      smlift deploy --bucket my-bucket --region eu-west-1
    """
    from ..aws.deploy.deployer import deploy as run_deploy
    from .project import current_project, project_default

    if project_root is None:  # the project around here, else a folder laid out as one
        project_default(lambda p: p.definition, layout.DEFINITION, "pass --project DIR")
        project = current_project()
        project_root = str(project.root) if project else "."
    result = run_deploy(_client(region, profile), project_root=project_root, name=name,
                        bucket=bucket, input_prefix=input_prefix, output_prefix=output_prefix,
                        dry_run=dry_run, echo=progress_echo(output))
    if output != "text":
        record = result.record or {}
        value = {"name": name, "dryRun": dry_run, "applied": result.applied,
                 "calls": _calls(result.plan),
                 "stateMachineArn": None if dry_run else record.get("state_machine_arn"),
                 "consoleUrl": None if dry_run else result.console_url,
                 "input": None if dry_run else result.input}
        emit(value, output, None, ("name", "dryRun", "applied", "stateMachineArn"))
        return
    if dry_run:
        click.echo("Dry run: nothing was changed.")
        return
    click.echo("Deployed." if result.applied else "Up to date: nothing was changed.")
    click.echo(f"State machine: {result.record['state_machine_arn']}")
    click.echo(f"Console: {result.console_url}")
    click.echo("Execution input (edit input_uri, output_uri, custom_image_uri and model_name):")
    click.echo(dump(result.input))


@click.command()
@_aws_options
def destroy(name: str, bucket: str | None, dry_run: bool, region: str | None,
            profile: str | None, output: str) -> None:
    """Remove exactly what `smlift deploy` created, as its deployment record lists it.

    Roles, policies, code objects and the state machine that deploy did not create are left
    alone; so are the bucket, the ECR images and the registered models.

    \b
    Example:
      smlift destroy --name smlift --dry-run
      smlift destroy --name smlift
    """
    from ..aws.deploy.deployer import destroy as run_destroy

    plan = run_destroy(_client(region, profile), name=name, bucket=bucket, dry_run=dry_run,
                       echo=progress_echo(output))
    text = ("Dry run: nothing was changed." if dry_run else
            f"Destroyed deployment {name!r} ({len(plan.calls)} call(s)).")
    emit({"name": name, "dryRun": dry_run, "calls": _calls(plan)}, output, None,
         ("name", "dryRun"), text=text)
