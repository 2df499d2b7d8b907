"""`smlift models`: register, list, show, approve and reject model versions.

The backend is the SageMaker Model Registry (AWS, the default) or, with `--local`, the embedded
default's SQLite store. Thin: each command calls one `smlift.registry` function and renders it.
"""

from __future__ import annotations

import click

from .output import emit, output_option, say

_COLUMNS = ("name", "version", "status", "image_uri")

REGISTRY_HELP = "Use the local registry (SQLite under $SMLIFT_HOME) instead of SageMaker's."


def backend_options(command=None, *, local_help: str = REGISTRY_HELP):
    """--local, --region and --profile, shared by the commands that read the registry."""
    if command is None:
        return lambda command: backend_options(command, local_help=local_help)
    command = click.option("--profile", help="AWS profile (default: AWS_PROFILE).")(command)
    command = click.option("--region", help="AWS region (default: AWS_REGION).")(command)
    return click.option("--local", is_flag=True, help=local_help)(command)


def open_registry(local: bool, region: str | None, profile: str | None):
    from ..backend import open_backend
    from .project import require_state

    if local:  # the project's registry: outside any project, say so
        require_state("use the SageMaker Model Registry (leave out --local)")

    return open_backend(local=local, region=region, profile=profile).registry


@click.group()
def models() -> None:
    """Register, list, show, approve and reject model versions.

    AWS (the SageMaker Model Registry) by default; --local uses the local registry.

    \b
    Example:
      smlift models register churn \\
          --image 123456789012.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-churn:1
      smlift models approve churn --version 1
    """


@models.command()
@click.argument("name")
@click.option("--image", "image_uri", required=True, help="The inference image URI.")
@click.option("--code-uri", help="s3:// prefix of the step scripts (default: the deployment's).")
@click.option("--instance-type", help="Processing instance type, e.g. ml.m5.xlarge.")
@click.option("--volume-size", help="Processing volume size in GB, e.g. 30.")
@click.option("--max-runtime", help="Maximum runtime of each job in seconds, e.g. 3600.")
@click.option("--scikit-image-uri", help="The scikit-learn image for pre/postprocessing.")
@click.option("--description", default="", help="A note kept with the version.")
@backend_options
@output_option(default="text")
def register(name, image_uri, code_uri, instance_type, volume_size, max_runtime,
             scikit_image_uri, description, local, region, profile, output) -> None:
    """Register a new version of model NAME (PendingManualApproval).

    \b
    Example:
      smlift models register churn --image sagemaker-churn:1 --instance-type ml.m5.large --local
    """
    settings = {"code_uri": code_uri, "instance_type": instance_type, "volume_size": volume_size,
                "max_runtime": max_runtime, "scikit_image_uri": scikit_image_uri}
    registry = open_registry(local, region, profile)
    version = registry.register(name, image_uri, settings=settings, description=description)
    flag = " --local" if local else ""
    text = (f"Registered {version.name} version {version.version} ({version.status}) in the "
            f"{registry.where} registry.")
    emit(version.to_dict(), output, None, _COLUMNS, text=text)
    say(f"Approve it: smlift models approve {version.name} --version {version.version}{flag}",
        output)


@models.command(name="list")
@click.option("--json", "as_json", is_flag=True, hidden=True, help="Same as --output json.")
@backend_options
@output_option(default="table")
def list_(as_json, local, region, profile, output) -> None:
    """List the registered models, with the latest version of each (a table by default).

    \b
    Example:
      smlift models list --local
      smlift models list --local --output json
    """
    rows = [v.to_dict() for v in open_registry(local, region, profile).list_models()]
    emit(rows, "json" if as_json else output, rows, _COLUMNS)


@models.command()
@click.argument("name")
@click.option("--version", type=int, help="The version (default: every version).")
@backend_options
@output_option()
def show(name, version, local, region, profile, output) -> None:
    """Show a model's versions, or one version, as JSON (or --output table|text).

    \b
    Example:
      smlift models show churn --version 2
    """
    registry = open_registry(local, region, profile)
    if version is None:
        rows = [v.to_dict() for v in registry.versions(name)]
        emit(rows, output, rows, _COLUMNS)
    else:
        emit(registry.show(name, version).to_dict(), output, None, _COLUMNS)


def _set_status(status: str, verb: str):
    @click.argument("name")
    @click.option("--version", type=int, required=True, help="The version to change.")
    @backend_options
    @output_option(default="text")
    def command(name, version, local, region, profile, output) -> None:
        changed = open_registry(local, region, profile).set_status(name, version, status)
        emit(changed.to_dict(), output, None, _COLUMNS,
             text=f"{verb} {changed.name} version {changed.version}: {changed.status}.")

    return command


approve = models.command(name="approve", help=(
    "Approve a model version, so that `smlift start` runs it on AWS.\n\n\b\nExample:\n"
    "  smlift models approve churn --version 2"))(_set_status("Approved", "Approved"))
reject = models.command(name="reject", help=(
    "Reject a model version.\n\n\b\nExample:\n"
    "  smlift models reject churn --version 2"))(_set_status("Rejected", "Rejected"))
