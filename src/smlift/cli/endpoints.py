"""`smlift serve` and `smlift endpoints`: a model behind an endpoint. Thin: parse, call one
`smlift.serving` function, render."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


def dump(value) -> str:
    return json.dumps(value, indent=2, default=str)


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
      smlift endpoints delete hotel --local
    """


def local_endpoints(engine: str | None = None):
    from ..local.home import smlift_home
    from ..serving import LocalEndpoints

    return LocalEndpoints(smlift_home(), engine=engine)


def aws_client(region: str | None, profile: str | None):
    from ..aws.client import AwsClient

    return AwsClient(region=region, profile=profile)


def backend(command):
    """--local, --region and --profile: local endpoints, or SageMaker's."""
    command = click.option("--profile", help="AWS profile (default: AWS_PROFILE).")(command)
    command = click.option("--region", help="AWS region (default: AWS_REGION).")(command)
    return click.option("--local", is_flag=True, help=LOCAL_HELP)(command)


LOCAL_HELP = "Local endpoints (servers on this machine, state under $SMLIFT_HOME); default: AWS."


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
              help="Serverless: MemorySizeInMB.")
@click.option("--max-concurrency", type=click.IntRange(1, 200), default=5, show_default=True,
              help="Serverless: MaxConcurrency.")
@click.option("--output-uri", help="Async: the S3 prefix answers are written under.")
@click.option("--role-arn", help="AWS: the execution role (default: smlift deploy's "
                                  "smlift-sagemaker role).")
@click.option("--allow-unapproved", is_flag=True, help="Deploy a version that is not Approved.")
@click.option("--dry-run", is_flag=True, help="AWS: print the plan of API calls, change nothing.")
@click.option("--engine", type=click.Choice(["local", "docker"]), default=None,
              help="Local only: where the server runs.")
@backend
def deploy(name, model, endpoint_type, instance_type, instance_count, min_capacity, max_capacity,
           target_invocations, memory_mb, max_concurrency, output_uri, role_arn, allow_unapproved,
           dry_run, engine, local, region, profile) -> None:
    """Put a registered model version behind an endpoint (a second deploy updates it in place).

    \b
    Example:
      smlift endpoints deploy hotel --model hotel-cancellation --local
      smlift endpoints deploy hotel --model hotel-cancellation:2 --min-capacity 1 --max-capacity 4
      smlift endpoints deploy hotel-async --model hotel-cancellation:2 --type async \\
             --output-uri s3://answers/hotel/ --dry-run
    """
    if local:
        record = local_endpoints(engine).deploy(
            name, model, endpoint_type=endpoint_type, allow_unapproved=allow_unapproved,
            output_uri=output_uri, memory_mb=memory_mb, max_concurrency=max_concurrency)
        click.echo(f"endpoint {name}: {record['Model']} InService at {record['Url']}")
        return
    from ..registry import SageMakerRegistry
    from ..serving.remote import deploy_endpoint

    client = aws_client(region, profile)
    plan = deploy_endpoint(
        client, SageMakerRegistry(client), name, model, allow_unapproved=allow_unapproved,
        role_arn=role_arn, dry_run=dry_run, echo=click.echo, endpoint_type=endpoint_type,
        instance_type=instance_type, instance_count=instance_count, min_capacity=min_capacity,
        max_capacity=max_capacity, target_invocations=target_invocations, memory_mb=memory_mb,
        max_concurrency=max_concurrency, output_uri=output_uri)
    if not dry_run:
        click.echo(f"endpoint {name}: {len(plan.calls)} call(s) applied")


@endpoints.command("invoke")
@click.argument("name")
@click.option("--body", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The request body file (raw bookings rows with their header).")
@click.option("--input-location", help="async: the request's s3:// URI.")
@click.option("--content-type", default="text/csv", show_default=True)
@click.option("--accept", default=None, help="text/csv or application/json.")
@backend
def invoke(name, body, input_location, content_type, accept, local, region, profile) -> None:
    """Send one request and print the answer (async: where it was written).

    \b
    Example:
      smlift endpoints invoke hotel --body examples/data/bookings.csv --content-type text/csv --local
      smlift endpoints invoke hotel-async --input-location s3://requests/b.csv --local
    """
    if (body is None) == (input_location is None):
        raise click.UsageError("pass exactly one of --body FILE and --input-location S3-URI")
    if local:
        service = local_endpoints()
        if input_location:
            click.echo(dump(service.invoke_async(name, input_location, content_type)))
            return
        answer = service.invoke(name, body.read_bytes(), content_type, accept)
    else:
        from ..serving import remote

        client = aws_client(region, profile)
        if input_location:
            click.echo(dump(remote.invoke_async(client, name, input_location, content_type)))
            return
        answer = remote.invoke(client, name, body.read_bytes(), content_type, accept)
    sys.stdout.buffer.write(answer)
    sys.stdout.flush()


@endpoints.command("list")
@backend
def list_(local, region, profile) -> None:
    """List endpoints: name, status, model, URL.

    \b
    Example:
      smlift endpoints list --local
    """
    if not local:
        for record in aws_client(region, profile).list_endpoints():
            click.echo(f"{record['EndpointName']}\t{record['EndpointStatus']}")
        return
    for record in local_endpoints().list():
        click.echo(f"{record['EndpointName']}\t{record['EndpointStatus']}\t{record['Model']}\t"
                   f"{record.get('EndpointType', 'realtime')}\t{record['Url']}")


@endpoints.command("describe")
@click.argument("name")
@backend
def describe(name, local, region, profile) -> None:
    """Print an endpoint as describe_endpoint does, as JSON.

    \b
    Example:
      smlift endpoints describe hotel --local
    """
    if not local:
        click.echo(dump(aws_client(region, profile).describe_endpoint(EndpointName=name)))
        return
    click.echo(dump(local_endpoints().describe(name)))


@endpoints.command("delete")
@click.argument("name")
@click.option("--dry-run", is_flag=True, help="AWS: print the plan of API calls, change nothing.")
@backend
def delete(name, dry_run, local, region, profile) -> None:
    """Stop an endpoint and remove exactly what deploy made.

    \b
    Example:
      smlift endpoints delete hotel --local
    """
    if not local:
        from ..serving.remote import delete_endpoint

        delete_endpoint(aws_client(region, profile), name, dry_run=dry_run, echo=click.echo)
        return
    local_endpoints().delete(name)
    click.echo(f"endpoint {name} deleted")


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
