"""ACK SageMaker controller manifests for an endpoint: a declarative deployment on Kubernetes.

The AWS Controllers for Kubernetes (ACK) SageMaker controller turns three custom resources of
`sagemaker.services.k8s.aws/v1alpha1` into the same API calls `smlift endpoints deploy` makes:

    Model           the version's image (InferenceSpecification's image), an execution role
    EndpointConfig  one production variant: instances (realtime, async) or ServerlessConfig,
                    plus AsyncInferenceConfig for async endpoints
    Endpoint        the endpoint, pointing at the config

Names follow the endpoint and the version (`NAME-vVERSION` for the model and its config), so
applying the manifests of a newer version creates a new Model and EndpointConfig and updates the
Endpoint in place, as UpdateEndpoint does. Pure: no AWS, no cluster.
"""

from __future__ import annotations

import json
import re

from ..errors import InputError
from ..registry import ModelVersion

API_VERSION = "sagemaker.services.k8s.aws/v1alpha1"
REALTIME, SERVERLESS, ASYNC = "realtime", "serverless", "async"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def resource_names(endpoint: str, version: ModelVersion) -> dict[str, str]:
    """The AWS names deploy and the manifests give an endpoint's parts, one home for both."""
    versioned = f"{endpoint}-v{version.version}"
    return {"model": versioned, "endpoint_config": versioned, "endpoint": endpoint}


def k8s_name(aws_name: str) -> str:
    name = aws_name.lower()
    if not _DNS_LABEL.match(name):
        raise InputError(f"{aws_name!r} is not a Kubernetes resource name once lower-cased",
                         where="NAME", fix="use letters, digits and hyphens, at most 63")
    return name


def ack_manifests(endpoint: str, version: ModelVersion, *, role_arn: str,
                  endpoint_type: str = REALTIME, instance_type: str = "ml.m5.large",
                  instance_count: int = 1, memory_mb: int = 2048, max_concurrency: int = 5,
                  output_uri: str | None = None, namespace: str | None = None) -> list[dict]:
    """[Model, EndpointConfig, Endpoint] for `version` behind `endpoint`."""
    names = resource_names(endpoint, version)
    variant: dict = {"variantName": "AllTraffic", "modelName": names["model"],
                     "initialVariantWeight": 1}
    if endpoint_type == SERVERLESS:
        variant["serverlessConfig"] = {"memorySizeInMB": memory_mb, "maxConcurrency": max_concurrency}
    else:
        variant.update(instanceType=instance_type, initialInstanceCount=instance_count)
    config_spec: dict = {"endpointConfigName": names["endpoint_config"],
                         "productionVariants": [variant]}
    if endpoint_type == ASYNC:
        if not output_uri:
            raise InputError("an async endpoint needs an S3 output path", where="--output-uri",
                             fix="pass --output-uri s3://BUCKET/PREFIX/")
        config_spec["asyncInferenceConfig"] = {"outputConfig": {"s3OutputPath": output_uri}}
    tags = [{"key": "smlift:model", "value": f"{version.name}:{version.version}"}]
    return [
        _resource("Model", names["model"], namespace, {
            "modelName": names["model"], "executionRoleARN": role_arn,
            "primaryContainer": {"image": version.image_uri,
                                 "environment": {"SAGEMAKER_BIND_TO_PORT": "8080"}},
            "tags": tags}),
        _resource("EndpointConfig", names["endpoint_config"], namespace, {**config_spec, "tags": tags}),
        _resource("Endpoint", names["endpoint"], namespace, {
            "endpointName": names["endpoint"], "endpointConfigName": names["endpoint_config"],
            "tags": tags}),
    ]


def _resource(kind: str, aws_name: str, namespace: str | None, spec: dict) -> dict:
    metadata = {"name": k8s_name(aws_name), **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "spec": spec}


def render_yaml(documents: list[dict]) -> str:
    """A multi-document YAML stream (`kubectl apply -f -`); each document in JSON's flow style,
    which is YAML too, so no YAML library is needed."""
    return "".join(f"---\n{json.dumps(doc, indent=2)}\n" for doc in documents)
