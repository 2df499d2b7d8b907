"""The ACK SageMaker manifests validate against the controller's own CRDs (../shared/k8s/, beside
the clone), for every endpoint type, and `smlift endpoints manifest` prints them."""

from pathlib import Path

import jsonschema
import pytest
import yaml

from smlift.errors import InputError
from smlift.registry import LocalRegistry, ModelVersion
from smlift.serving.manifests import API_VERSION, ack_manifests, render_yaml

REPO = Path(__file__).resolve().parents[2]
CRDS = REPO / ".." / "shared" / "k8s" / "ack-sagemaker-crds"
ROLE = "arn:aws:iam::123456789012:role/smlift-sagemaker"
VERSION = ModelVersion(name="hotel-cancellation", version=3, status="Approved",
                       image_uri="123456789012.dkr.ecr.eu-west-1.amazonaws.com/smlift-inference:3")


def crd_schemas() -> dict[str, dict]:
    schemas = {}
    for path in sorted(CRDS.glob("sagemaker.services.k8s.aws_*.yaml")):
        crd = yaml.safe_load(path.read_text())
        version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1")
        schemas[crd["spec"]["names"]["kind"]] = version["schema"]["openAPIV3Schema"]
    return schemas


def test_the_crds_are_beside_the_clone():
    assert sorted(crd_schemas()) == ["Endpoint", "EndpointConfig", "Model"]


@pytest.mark.parametrize("endpoint_type, extra", [
    ("realtime", {"instance_type": "ml.c5.xlarge", "instance_count": 2}),
    ("serverless", {"memory_mb": 3072, "max_concurrency": 10}),
    ("async", {"output_uri": "s3://answers/hotel/"}),
])
def test_every_manifest_validates_against_its_crd(endpoint_type, extra):
    schemas = crd_schemas()
    documents = list(yaml.safe_load_all(render_yaml(ack_manifests(
        "hotel", VERSION, role_arn=ROLE, endpoint_type=endpoint_type, namespace="ml", **extra))))
    assert [d["kind"] for d in documents] == ["Model", "EndpointConfig", "Endpoint"]
    for document in documents:
        assert document["apiVersion"] == API_VERSION
        jsonschema.validate(document, schemas[document["kind"]])
        required = schemas[document["kind"]]["properties"]["spec"].get("required", [])
        assert all(field in document["spec"] for field in required)
    model, config, endpoint = documents
    assert model["spec"]["primaryContainer"]["image"] == VERSION.image_uri
    assert model["spec"]["modelName"] == config["spec"]["productionVariants"][0]["modelName"] == "hotel-v3"
    assert endpoint["spec"] == {"endpointName": "hotel", "endpointConfigName": "hotel-v3",
                                "tags": [{"key": "smlift:model", "value": "hotel-cancellation:3"}]}
    variant = config["spec"]["productionVariants"][0]
    if endpoint_type == "serverless":
        assert variant["serverlessConfig"] == {"memorySizeInMB": 3072, "maxConcurrency": 10}
        assert "instanceType" not in variant
    else:
        assert "serverlessConfig" not in variant
    if endpoint_type == "async":
        assert config["spec"]["asyncInferenceConfig"] == {
            "outputConfig": {"s3OutputPath": "s3://answers/hotel/"}}


def test_a_wrong_field_fails_the_crd_schema():
    """The validation has teeth: a misspelt type is refused by the CRD."""
    config = ack_manifests("hotel", VERSION, role_arn=ROLE)[1]
    config["spec"]["productionVariants"][0]["initialInstanceCount"] = "two"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(config, crd_schemas()["EndpointConfig"])


def test_async_without_an_output_path_is_an_input_error():
    with pytest.raises(InputError, match="needs an S3 output path"):
        ack_manifests("hotel", VERSION, role_arn=ROLE, endpoint_type="async")


def test_the_cli_prints_manifests_of_the_approved_version(run_cli):
    registry = LocalRegistry()
    registry.register("hotel-cancellation", "smlift-inference:1")
    registry.approve("hotel-cancellation", 1)
    registry.register("hotel-cancellation", "smlift-inference:2")
    code, out, err = run_cli("endpoints", "manifest", "hotel", "--model", "hotel-cancellation",
                             "--role-arn", ROLE, "--local")
    assert code == 0, err
    documents = list(yaml.safe_load_all(out))
    assert documents[0]["spec"]["primaryContainer"]["image"] == "smlift-inference:1"
    code, _, err = run_cli("endpoints", "manifest", "hotel", "--model", "hotel-cancellation:2",
                           "--role-arn", ROLE, "--local")
    assert code == 1
    assert "version 2 is PendingManualApproval" in err
