"""`smlift build CONTEXT_DIR --tag NAME:TAG`: a local image build, or `--remote` on CodeBuild
(the flags of `sm-docker build`)."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import SmliftError
from .output import emit, output_option, progress_echo

DEFAULT_TAG = "smlift-inference:latest"


@click.command()
@click.argument("context_dir", type=click.Path(file_okay=False, path_type=str))
@click.option("--tag", "-t", default=DEFAULT_TAG, show_default=True,
              help="NAME:TAG to record the image under (ImageUri NAME:TAG or an ECR URI "
                   "ending in /NAME:TAG resolves to it).")
@click.option("--engine", type=click.Choice(["auto", "local", "docker"]), default=None,
              help="Local build engine (default: $SMLIFT_ENGINE, else Docker if it answers).")
@click.option("--remote", is_flag=True, help="Build on AWS CodeBuild and push to ECR "
                                             "(like `sm-docker build`).")
@click.option("--repository", help="[--remote] ECR repository:tag to push (default: from --tag).")
@click.option("--role", help="[--remote] IAM role ARN CodeBuild assumes.")
@click.option("--bucket", help="[--remote] S3 bucket for the zipped build context.")
@click.option("--vpc-id", help="[--remote] VPC to run the build in.")
@click.option("--subnet-ids", help="[--remote] Comma-separated subnet ids (with --vpc-id).")
@click.option("--security-group-ids", help="[--remote] Comma-separated security group ids.")
@click.option("--compute-type", default="BUILD_GENERAL1_SMALL", show_default=True,
              help="[--remote] CodeBuild compute type.")
@click.option("--no-logs", is_flag=True, help="[--remote] Do not stream the build logs.")
@click.option("--file", "-f", "dockerfile", metavar="PATH",
              help="[--remote] The Dockerfile, if not CONTEXT_DIR/Dockerfile (a path from the "
                   "current folder, inside CONTEXT_DIR).")
@click.option("--build-arg", "build_args", multiple=True, metavar="KEY=VALUE",
              help="[--remote] A Dockerfile ARG for the build; repeat for more.")
@output_option(default="text")
def build(context_dir: str, tag: str, engine: str | None, remote: bool, repository: str | None,
          role: str | None, bucket: str | None, vpc_id: str | None, subnet_ids: str | None,
          security_group_ids: str | None, compute_type: str, no_logs: bool,
          dockerfile: str | None, build_args: tuple[str, ...], output: str) -> None:
    """Build an image from the Dockerfile in CONTEXT_DIR.

    Prints the image's digest (with --remote, its ECR URI); the build's own lines go to
    stdout in the text form, to stderr with --output json (then one {"Uri", "Digest",
    "Engine"} document).

    Locally (no Docker needed): reads the Dockerfile (ENV, WORKDIR, COPY, ENTRYPOINT, CMD),
    snapshots the COPY'd files, makes a Python runtime from the `pip install` requirements,
    and records the image. Where a Docker engine answers, `docker build` is used instead.

    \b
    Example:
      smlift build containers/inference --tag smlift-inference:latest
      smlift build containers/inference --remote --role arn:aws:iam::123456789012:role/build
      smlift build containers/inference --remote --file containers/inference/Dockerfile.gpu \\
          --build-arg BASE_IMAGE=python:3.11-slim
    """
    from ..images import build_image

    echo = progress_echo(output)
    if remote:
        from ..aws.remote_build import build_remote

        uri = build_remote(context_dir, echo=echo, tag=tag, repository=repository, role=role,
                           bucket=bucket, vpc_id=vpc_id, subnet_ids=subnet_ids,
                           security_group_ids=security_group_ids, compute_type=compute_type,
                           no_logs=no_logs, dockerfile=dockerfile, build_args=build_args)
        emit({"Uri": uri}, output, None, ("Uri",), text=uri)
        return
    if dockerfile or build_args:
        raise SmliftError("only remote builds take it", where="--file" if dockerfile else "--build-arg",
                          fix="add --remote, or build locally from CONTEXT_DIR/Dockerfile with "
                              "its ARG defaults")
    image = build_image(Path(context_dir), tag, echo=echo, engine=engine)
    emit({"Uri": image.uri, "Digest": image.digest, "Engine": image.engine}, output, None,
         ("Uri", "Digest", "Engine"), text=image.digest)
