"""`smlift serve` and `smlift endpoints`: a model behind an endpoint. Thin: parse, take the
endpoints of the chosen side (`Backend.endpoints`: `LocalEndpoints` with --local, else
`AwsEndpoints`; one interface, drawn in `smlift.serving`), call one method, render.

`--output json` (the default) prints one JSON document on stdout; `table` and `text` print the
endpoints' rows. Progress and plans go to stderr, so stdout stays one document.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .output import emit, output_option

COLUMNS = ("EndpointName", "EndpointStatus", "EndpointType", "Model", "LastModifiedTime")
CALL_COLUMNS = ("Operation", "Description")


@click.command("serve")
@click.option("--image", "image", default="smlift-inference:latest", show_default=True,
              help="The image to serve (NAME:TAG, as built by `smlift build`).")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True,
              help="The loopback port to listen on.")
@click.option("--engine", type=click.Choice(["local", "docker"]), default=None,
              help="Where to run it (default: $SMLIFT_ENGINE, else docker when an engine answers).")
def serve(image: str, port: int, engine: str | None) -> None:
    """Run an image's hosting mode (`docker run IMAGE serve`) in the foreground on 127.0.0.1.

    \b
    Example:
      smlift build containers/inference --tag smlift-inference:latest
      smlift serve --image smlift-inference:latest --port 8080
      curl -s --data-binary @examples/data/bookings.csv -H 'Content-Type: text/csv' \\
           http://127.0.0.1:8080/invocations
    """
    from ..serving import serve_image

    sys.exit(serve_image(image, port, engine=engine, echo=lambda t: click.echo(t, err=True)))


@click.group("endpoints")
def endpoints() -> None:
    """Deploy, invoke, list, describe and delete endpoints of registered models.

    \b
    Example:
      smlift endpoints deploy hotel --model hotel-cancellation:2 --local
      smlift endpoints invoke hotel --body examples/data/bookings.csv --content-type text/csv --local
      smlift endpoints list --local --output table
      smlift endpoints delete hotel --local
    """


LOCAL_HELP = "Local endpoints (servers on this machine, state under $SMLIFT_HOME); default: AWS."


def side(command):
    """--local, --region and --profile: local endpoints, or SageMaker's."""
    command = click.option("--profile", help="AWS profile (default: AWS_PROFILE).")(command)
    command = click.option("--region", help="AWS region (default: AWS_REGION).")(command)
    return click.option("--local", is_flag=True, help=LOCAL_HELP)(command)


def chosen_endpoints(local: bool, region: str | None, profile: str | None,
                     engine: str | None = None):
    from ..backend import open_backend

    return open_backend(local=local, region=region, profile=profile, engine=engine).endpoints


def progress(text: str) -> None:
    click.echo(text, err=True)


def show(result: dict, output: str) -> None:
    """A deploy or delete result: the endpoint's row; `text`/`table` list the calls under it."""
    emit(result, output, [result], COLUMNS if "EndpointStatus" in result
         else ("EndpointName", "DryRun"))
    if output != "json" and result.get("Calls"):
        emit(result, output, result["Calls"], CALL_COLUMNS)


@endpoints.command("deploy")
@click.argument("name")
@click.option("--model", required=True, help="GROUP or GROUP:VERSION from the model registry.")
@click.option("--type", "endpoint_type", type=click.Choice(["realtime", "serverless", "async"]),
              default="realtime", show_default=True)
@click.option("--instance-type", default="ml.m5.large", show_default=True)
@click.option("--instance-count", type=click.IntRange(1), default=1, show_default=True)
@click.option("--min-capacity", type=click.IntRange(0), help="Autoscaling: fewest instances.")
@click.option("--max-capacity", type=click.IntRange(1),
              help="Autoscaling: most instances (target tracking on invocations per instance).")
@click.option("--target-invocations", type=float, default=100.0, show_default=True,
              help="Autoscaling: invocations per instance per minute to track.")
@click.option("--memory-mb", type=click.IntRange(1024, 6144), default=2048, show_default=True,
              help="Serverless: MemorySizeInMB (locally: the server's memory limit).")
@click.option("--max-concurrency", type=click.IntRange(1, 200), default=5, show_default=True,
              help="Serverless: MaxConcurrency (locally enforced too: excess invocations get "
                   "ThrottlingException).")
@click.option("--output-uri", help="Async: the S3 prefix answers are written under.")
@click.option("--role-arn", help="AWS: the execution role (default: smlift deploy's "
                                  "smlift-sagemaker role).")
@click.option("--allow-unapproved", is_flag=True, help="Deploy a version that is not Approved.")
@click.option("--dry-run", is_flag=True, help="Print the plan (on stderr) and change nothing.")
@click.option("--engine", type=click.Choice(["local", "docker"]), default=None,
              help="Local only: where the server runs.")
@side
@output_option()
def deploy(name, model, endpoint_type, instance_type, instance_count, min_capacity, max_capacity,
           target_invocations, memory_mb, max_concurrency, output_uri, role_arn, allow_unapproved,
           dry_run, engine, local, region, profile, output) -> None:
    """Put a registered model version behind an endpoint (a second deploy updates it in place).

    Instance type and count, autoscaling and the role are AWS settings; a local endpoint is one
    server and does not use them.

    \b
    Example:
      smlift endpoints deploy hotel --model hotel-cancellation --local
      smlift endpoints deploy hotel --model hotel-cancellation:2 --min-capacity 1 --max-capacity 4
      smlift endpoints deploy hotel-async --model hotel-cancellation:2 --type async \\
             --output-uri s3://answers/hotel/ --dry-run
    """
    result = chosen_endpoints(local, region, profile, engine).deploy(
        name, model, endpoint_type=endpoint_type, allow_unapproved=allow_unapproved,
        dry_run=dry_run, echo=progress, role_arn=role_arn, instance_type=instance_type,
        instance_count=instance_count, min_capacity=min_capacity, max_capacity=max_capacity,
        target_invocations=target_invocations, memory_mb=memory_mb,
        max_concurrency=max_concurrency, output_uri=output_uri)
    show(result, output)


@endpoints.command("invoke")
@click.argument("name")
@click.option("--body", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The request body file (raw bookings rows with their header).")
@click.option("--input-location", help="async: the request's s3:// URI.")
@click.option("--content-type", default="text/csv", show_default=True)
@click.option("--accept", default=None, help="text/csv or application/json.")
@side
@output_option()
def invoke(name, body, input_location, content_type, accept, local, region, profile,
           output) -> None:
    """Send one request and print the answer's body as it is; for --input-location (async),
    where the answer will be written (InferenceId, OutputLocation), in --output's format.

    \b
    Example:
      smlift endpoints invoke hotel --body examples/data/bookings.csv --content-type text/csv --local
      smlift endpoints invoke hotel-async --input-location s3://requests/b.csv --local
    """
    if (body is None) == (input_location is None):
        raise click.UsageError("pass exactly one of --body FILE and --input-location S3-URI")
    service = chosen_endpoints(local, region, profile)
    if input_location:
        answer = service.invoke_async(name, input_location, content_type)
        emit(answer, output, None, ("InferenceId", "OutputLocation"))
        return
    sys.stdout.buffer.write(service.invoke(name, body.read_bytes(), content_type, accept))
    sys.stdout.flush()


@endpoints.command("list")
@side
@output_option()
def list_(local, region, profile, output) -> None:
    """List endpoints, as ListEndpoints answers (locally with their model, type and URL).

    \b
    Example:
      smlift endpoints list --local --output table
    """
    found = chosen_endpoints(local, region, profile).list()
    emit({"Endpoints": found}, output, found, COLUMNS)  # no endpoints as text: no lines at all


@endpoints.command("describe")
@click.argument("name")
@side
@output_option()
def describe(name, local, region, profile, output) -> None:
    """Describe an endpoint, as DescribeEndpoint answers.

    \b
    Example:
      smlift endpoints describe hotel --local
    """
    answer = chosen_endpoints(local, region, profile).describe(name)
    emit(answer, output, None, COLUMNS)


@endpoints.command("delete")
@click.argument("name")
@click.option("--dry-run", is_flag=True, help="Print what would be removed, change nothing.")
@side
@output_option()
def delete(name, dry_run, local, region, profile, output) -> None:
    """Stop an endpoint and remove exactly what deploy made.

    \b
    Example:
      smlift endpoints delete hotel --local
    """
    show(chosen_endpoints(local, region, profile).delete(name, dry_run=dry_run, echo=progress),
         output)


@endpoints.command("manifest")
@click.argument("name")
@click.option("--model", required=True, help="GROUP or GROUP:VERSION from the model registry.")
@click.option("--role-arn", required=True, help="The SageMaker execution role the Model runs as.")
@click.option("--type", "endpoint_type", type=click.Choice(["realtime", "serverless", "async"]),
              default="realtime", show_default=True)
@click.option("--instance-type", default="ml.m5.large", show_default=True)
@click.option("--instance-count", type=click.IntRange(1), default=1, show_default=True)
@click.option("--memory-mb", type=click.IntRange(1024, 6144), default=2048, show_default=True)
@click.option("--max-concurrency", type=click.IntRange(1, 200), default=5, show_default=True)
@click.option("--output-uri", help="async: the S3 prefix answers are written under.")
@click.option("--namespace", help="The Kubernetes namespace (default: none, kubectl's).")
@click.option("--allow-unapproved", is_flag=True, help="Use a version that is not Approved.")
@click.option("--local", is_flag=True, help="Read the model from the local registry.")
def manifest(name, model, role_arn, endpoint_type, instance_type, instance_count, memory_mb,
             max_concurrency, output_uri, namespace, allow_unapproved, local) -> None:
    """Print the ACK SageMaker manifests (Model, EndpointConfig, Endpoint) for `kubectl apply`.

    \b
    Example:
      smlift endpoints manifest hotel --model hotel-cancellation:2 \\
             --role-arn arn:aws:iam::123456789012:role/smlift-sagemaker | kubectl apply -f -
    """
    from ..backend import open_backend
    from ..registry import choose_version
    from ..serving import parse_model
    from ..serving.manifests import ack_manifests, render_yaml

    group, version = parse_model(model)
    chosen = choose_version(open_backend(local=local).registry, group, version,
                            require_approved=not allow_unapproved)
    click.echo(render_yaml(ack_manifests(
        name, chosen, role_arn=role_arn, endpoint_type=endpoint_type, instance_type=instance_type,
        instance_count=instance_count, memory_mb=memory_mb, max_concurrency=max_concurrency,
        output_uri=output_uri, namespace=namespace)), nl=False)
