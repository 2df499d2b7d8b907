"""`smlift images`: the local images, and the prebuilt scikit-learn image on a Docker engine."""

from __future__ import annotations

import click

from .output import emit, output_option

_COLUMNS = ("Uri", "Engine", "Digest", "ContextDir", "Created")


@click.group()
def images() -> None:
    """List local images; build the prebuilt scikit-learn image for the Docker engine.

    \b
    Example:
      smlift images list
      smlift images build-sklearn 1.4-2
    """


@images.command("list")
@output_option()
def list_(output) -> None:
    """Every image `smlift build` recorded, as JSON (Uri, Engine, Digest, ...).

    \b
    Example:
      smlift images list
      smlift images list --output table
    """
    from ..images import list_images
    from .project import require_state

    require_state()
    rows = [{key: record.get(key) for key in _COLUMNS} for record in list_images()]
    emit({"images": rows}, output, rows, _COLUMNS)


@images.command("build-sklearn")
@click.argument("version", default="1.4-2")
@click.option("--region", default="us-east-1", show_default=True,
              help="The region whose ECR URI the image is tagged with (the URI your execution "
                   "input names as scikit_image_uri).")
@output_option(default="text")
def build_sklearn(version: str, region: str, output: str) -> None:
    """Make sagemaker-scikit-learn:VERSION-cpu-py3 available to the Docker engine, tagged with
    its ECR URI, so the same execution input runs unchanged. The real image is pulled where AWS
    credentials reach it; otherwise a local look-alike is built from the image's public recipe
    (docs/fidelity.md lists what differs). Prints the URI.

    \b
    Example:
      smlift images build-sklearn 1.4-2
      smlift images build-sklearn 1.4-2 --region eu-west-1
    """
    from ..images import ensure_sklearn_image

    image = ensure_sklearn_image(version, region, echo=lambda line: click.echo(line, err=True))
    emit({"Uri": image.uri}, output, None, ("Uri",), text=image.uri)
