"""Serving: the migrated model behind SageMaker-style endpoints, locally and on AWS.

The inference image answers SageMaker's hosting contract itself (`containers/inference/serve.py`:
`docker run IMAGE serve`, GET /ping, POST /invocations on 8080). This package runs it:

    host.py     one image's hosting mode as a process on this machine, on either engine
    foreground  `serve_image`: that process in the foreground (`smlift serve`)
    local.py    `LocalEndpoints`: named endpoints of registered model versions, kept running,
                with records shaped as describe_endpoint answers
    remote.py   `AwsEndpoints`: the same on SageMaker, plan then apply through the AWS door
    manifests   the ACK SageMaker controller manifests of an endpoint (Kubernetes)

`LocalEndpoints` and `AwsEndpoints` are one interface (`Backend.endpoints` hands out either, so
`smlift endpoints` never asks which side it has):

    deploy(name, model, *, endpoint_type, allow_unapproved, dry_run, echo, **options) -> dict
        the endpoint's description after the deploy, plus DryRun and Calls (what was, or with
        dry_run would be, done); a second deploy of a new version updates the endpoint in place
    invoke(name, body, content_type, accept=None) -> bytes     the answer's body
    invoke_async(name, input_location, content_type) -> dict   InferenceId, OutputLocation
    describe(name) -> dict                                     as DescribeEndpoint answers
    list() -> list[dict]                                       ListEndpoints' Endpoints
    delete(name, *, dry_run, echo) -> dict                     EndpointName, DryRun, Calls
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Callable

from ..images import resolve_image
from .host import CONTAINER_PORT, hosting_command
from .local import (ASYNC, REALTIME, SERVERLESS, TYPES, EndpointError, EndpointThrottled,
                    LocalEndpoints, parse_model)

__all__ = ["serve_image", "LocalEndpoints", "EndpointError", "EndpointThrottled", "parse_model",
           "TYPES", "REALTIME", "SERVERLESS", "ASYNC"]


def serve_image(uri: str, port: int = CONTAINER_PORT, *, engine: str | None = None,
                echo: Callable[[str], None] = print) -> int:
    """Run `uri`'s hosting mode on 127.0.0.1:`port` in the foreground, until it ends or Ctrl-C;
    returns the server's exit code."""
    image = resolve_image(uri, engine=engine)
    with tempfile.TemporaryDirectory(prefix="smlift-serve-") as root:
        command = hosting_command(image, port, Path(root), name=f"smlift-serve-{port}")
        echo(f"serving {uri} on {command.url} ({image.engine} engine); Ctrl-C stops it")
        process = subprocess.Popen(command.argv, env=command.env, cwd=command.cwd)
        try:
            return process.wait()
        except KeyboardInterrupt:
            process.terminate()
            process.wait(timeout=30)
            raise
        finally:
            if command.container:
                subprocess.run(["docker", "rm", "-f", command.container], capture_output=True)
