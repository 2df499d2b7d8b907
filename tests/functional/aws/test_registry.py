"""The SageMaker Model Registry backend against moto, through AwsClient (no credentials needed)."""

import boto3
import pytest

from smlift.aws.client import AwsClient
from smlift.errors import ModelRegistryError
from smlift.registry import APPROVED, PENDING, REJECTED, SageMakerRegistry, choose_version

REGION = "eu-west-1"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-churn:1"


@pytest.fixture
def client(mocked_aws):
    return AwsClient(boto3.Session(region_name=REGION), region=REGION)


@pytest.fixture
def registry(client):
    return SageMakerRegistry(client)


def test_register_creates_a_group_and_a_pending_package(registry, client):
    version = registry.register("churn", IMAGE, settings={"instance_type": "ml.m5.large",
                                                          "volume_size": 50},
                                description="first lift")
    assert (version.name, version.version, version.status) == ("churn", 1, PENDING)
    sm = boto3.client("sagemaker", region_name=REGION)
    assert sm.describe_model_package_group(ModelPackageGroupName="churn")["ModelPackageGroupArn"]
    package = sm.describe_model_package(ModelPackageName=version.arn)
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    assert package["InferenceSpecification"]["Containers"][0]["Image"] == IMAGE
    assert package["CustomerMetadataProperties"] == {
        "instance_type": "ml.m5.large", "volume_size": "50", "registered_by": "smlift"}
    assert package["ModelPackageDescription"] == "first lift"


def test_versions_count_up_within_a_group(registry):
    registry.register("churn", IMAGE)
    registry.register("churn", IMAGE + "b")
    registry.register("attrition", IMAGE)
    assert [v.version for v in registry.versions("churn")] == [1, 2]
    assert [(m.name, m.version) for m in registry.list_models()] == [("attrition", 1), ("churn", 2)]
    assert registry.show("churn").image_uri == IMAGE + "b"
    assert registry.show("churn", 1).image_uri == IMAGE


def test_approve_keeps_the_pipeline_settings(registry):
    registry.register("churn", IMAGE, settings={"code_uri": "s3://bucket/smlift/code/abc/"})
    approved = registry.approve("churn", 1)
    assert approved.status == APPROVED
    assert approved.pipeline_settings() == {"code_uri": "s3://bucket/smlift/code/abc/"}
    assert registry.reject("churn", 1).status == REJECTED


def test_start_rule_refuses_pending_then_accepts_approved(registry):
    registry.register("churn", IMAGE)
    with pytest.raises(ModelRegistryError, match="only an Approved version runs on AWS"):
        choose_version(registry, "churn", require_approved=True)
    registry.set_status("churn", 1, APPROVED)
    assert choose_version(registry, "churn", require_approved=True).version == 1


def test_unknown_model_and_version_are_clear(registry):
    with pytest.raises(ModelRegistryError, match="no model named 'ghost' in the aws registry"):
        registry.show("ghost")
    registry.register("churn", IMAGE)
    with pytest.raises(ModelRegistryError, match="has no version 3"):
        registry.set_status("churn", 3, APPROVED)
