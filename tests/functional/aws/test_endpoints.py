"""Endpoints on AWS against moto, through the one AWS door: realtime, serverless and async
endpoints plan, deploy, update in place, autoscale and delete exactly what deploy made.

moto implements no UpdateEndpoint; `MotoUpdateEndpoint` below stands in for that one operation
(it repoints moto's endpoint at the new config, as AWS does once the update completes)."""

import json

import boto3
import pytest

from smlift.aws.client import AwsClient
from smlift.errors import ModelRegistryError
from smlift.registry import SageMakerRegistry
from smlift.serving.remote import (TAG_ENDPOINT, EndpointSpec, delete_endpoint, deploy_endpoint,
                                   invoke, plan_endpoint)

REGION = "eu-west-1"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/smlift-inference:{}"
ROLE = "arn:aws:iam::123456789012:role/smlift-sagemaker"


class MotoUpdateEndpoint(AwsClient):
    """AwsClient with UpdateEndpoint done on moto's backend (moto has no such operation)."""

    def update_endpoint(self, **kw):
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.sagemaker.models import sagemaker_backends

        backend = sagemaker_backends[DEFAULT_ACCOUNT_ID][self.region]
        endpoint = backend.endpoints[kw["EndpointName"]]
        endpoint.endpoint_config_name = kw["EndpointConfigName"]
        return {"EndpointArn": endpoint.arn}


@pytest.fixture
def client(mocked_aws):
    return MotoUpdateEndpoint(boto3.Session(region_name=REGION), sleep=lambda _: None)


@pytest.fixture
def registry(client):
    registry = SageMakerRegistry(client)
    for version in (1, 2, 3):
        registry.register("hotel-cancellation", IMAGE.format(version))
    registry.approve("hotel-cancellation", 1)
    registry.approve("hotel-cancellation", 2)
    return registry


def methods(plan):
    return [call.method for call in plan.calls]


def quiet(_):
    pass


def test_realtime_deploys_autoscales_updates_in_place_and_deletes(client, registry):
    plan = deploy_endpoint(client, registry, "hotel", "hotel-cancellation:1", role_arn=ROLE,
                           min_capacity=1, max_capacity=4, echo=quiet)
    assert methods(plan) == ["create_model", "create_endpoint_config", "create_endpoint",
                             "wait_endpoint_in_service", "register_scalable_target",
                             "put_scaling_policy"]
    endpoint = client.describe_endpoint(EndpointName="hotel")
    assert endpoint["EndpointConfigName"] == "hotel-v1"
    config = client.describe_endpoint_config(EndpointConfigName="hotel-v1")
    assert config["ProductionVariants"][0]["InstanceType"] == "ml.m5.large"
    assert client.describe_model(ModelName="hotel-v1")["PrimaryContainer"]["Image"] == IMAGE.format(1)
    target, = client.describe_scalable_targets(ServiceNamespace="sagemaker")
    assert (target["ResourceId"], target["MinCapacity"], target["MaxCapacity"]) == (
        "endpoint/hotel/variant/AllTraffic", 1, 4)
    policy, = client.describe_scaling_policies(ServiceNamespace="sagemaker")
    assert policy["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}

    again = deploy_endpoint(client, registry, "hotel", "hotel-cancellation:1", role_arn=ROLE,
                            echo=quiet)
    assert methods(again) == []  # already there

    update = deploy_endpoint(client, registry, "hotel", "hotel-cancellation", role_arn=ROLE,
                             min_capacity=1, max_capacity=4, echo=quiet)  # the latest Approved: 2
    assert methods(update) == ["create_model", "create_endpoint_config",
                               "deregister_scalable_target", "update_endpoint",
                               "wait_endpoint_in_service", "register_scalable_target",
                               "put_scaling_policy"]
    assert client.describe_endpoint(EndpointName="hotel")["EndpointConfigName"] == "hotel-v2"

    client.create_model(ModelName="hotel-v9", ExecutionRoleArn=ROLE,  # not deploy's: kept
                        PrimaryContainer={"Image": IMAGE.format(9)})
    removed = delete_endpoint(client, "hotel", echo=quiet)
    assert sorted(call.params.get("ModelName") or call.params.get("EndpointConfigName") or
                  call.params.get("EndpointName") or call.params["ResourceId"]
                  for call in removed.calls) == sorted(
        ["endpoint/hotel/variant/AllTraffic", "hotel", "hotel-v1", "hotel-v1", "hotel-v2", "hotel-v2"])
    assert client.list_endpoints() == []
    assert client.list_endpoint_configs() == []
    assert [m["ModelName"] for m in client.list_models()] == ["hotel-v9"]
    assert client.describe_scalable_targets(ServiceNamespace="sagemaker") == []


def test_serverless_and_async_endpoints(client, registry):
    deploy_endpoint(client, registry, "hotel-sls", "hotel-cancellation", role_arn=ROLE,
                    endpoint_type="serverless", memory_mb=3072, max_concurrency=10, echo=quiet)
    variant = client.describe_endpoint_config(EndpointConfigName="hotel-sls-v2")["ProductionVariants"][0]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 3072, "MaxConcurrency": 10}
    deploy_endpoint(client, registry, "hotel-async", "hotel-cancellation", role_arn=ROLE,
                    endpoint_type="async", output_uri="s3://answers/hotel/", echo=quiet)
    config = client.describe_endpoint_config(EndpointConfigName="hotel-async-v2")
    assert config["AsyncInferenceConfig"]["OutputConfig"]["S3OutputPath"] == "s3://answers/hotel/"
    tags = client.list_tags(ResourceArn=config["EndpointConfigArn"])
    assert {"Key": TAG_ENDPOINT, "Value": "hotel-async"} in tags
    assert sorted(e["EndpointName"] for e in client.list_endpoints()) == ["hotel-async", "hotel-sls"]
    assert invoke(client, "hotel-sls", b"booking_id\n1\n", "text/csv")  # moto's canned answer
    for name in ("hotel-sls", "hotel-async"):
        delete_endpoint(client, name, echo=quiet)
    assert client.list_endpoints() == [] and client.list_models() == []


def test_only_approved_versions_deploy_unless_allowed(client, registry):
    with pytest.raises(ModelRegistryError, match="version 3 is PendingManualApproval"):
        deploy_endpoint(client, registry, "hotel", "hotel-cancellation:3", role_arn=ROLE, echo=quiet)
    plan = deploy_endpoint(client, registry, "hotel", "hotel-cancellation:3", role_arn=ROLE,
                           allow_unapproved=True, echo=quiet)
    assert "create_endpoint" in methods(plan)


def test_dry_run_prints_the_plan_and_changes_nothing(client, registry):
    lines = []
    plan = deploy_endpoint(client, registry, "hotel", "hotel-cancellation", role_arn=ROLE,
                           max_capacity=3, dry_run=True, echo=lines.append)
    assert lines[0] == "Plan for deploy 'hotel': 6 API call(s)"
    assert any("create_endpoint(EndpointName=\"hotel\"" in line for line in lines)
    assert len(plan.calls) == 6
    assert client.list_endpoints() == [] and client.list_models() == []


def test_serverless_does_not_take_instance_autoscaling(client, registry):
    version = registry.show("hotel-cancellation", 1)
    with pytest.raises(Exception, match="serverless endpoints scale by themselves"):
        plan_endpoint(client, EndpointSpec("hotel", version, ROLE, endpoint_type="serverless",
                                           max_capacity=3))


def test_the_cli_dry_run_prints_the_plan_with_the_default_role(client, registry, run_cli):
    code, out, err = run_cli("endpoints", "deploy", "hotel", "--model", "hotel-cancellation",
                             "--type", "serverless", "--dry-run", "--region", REGION)
    assert code == 0, err
    assert err.splitlines()[0] == "Plan for deploy 'hotel': 3 API call(s)"
    assert 'ExecutionRoleArn="arn:aws:iam::123456789012:role/smlift-sagemaker"' in err or \
        '"ExecutionRoleArn": "arn:aws:iam::123456789012:role/smlift-sagemaker"' in err
    planned = json.loads(out)   # stdout: one JSON document, the plan's calls
    assert planned["DryRun"] is True
    assert [c["Operation"] for c in planned["Calls"]] == ["create_model", "create_endpoint_config",
                                                          "create_endpoint"]
    variant = planned["Calls"][1]["Parameters"]["ProductionVariants"][0]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
    code, out, err = run_cli("endpoints", "list", "--region", REGION, "--output", "text")
    assert (code, out) == (0, "")


def test_the_cli_deploys_describes_lists_and_deletes_through_one_interface(client, registry,
                                                                         run_cli):
    code, out, err = run_cli("endpoints", "deploy", "hotel", "--model", "hotel-cancellation:1",
                             "--region", REGION)
    assert code == 0, err
    deployed = json.loads(out)
    assert (deployed["EndpointName"], deployed["EndpointConfigName"]) == ("hotel", "hotel-v1")
    assert "[1/3] create model hotel-v1" in err
    code, out, _ = run_cli("endpoints", "describe", "hotel", "--region", REGION, "--output", "text")
    assert out.split("\t")[0] == "hotel"
    code, out, _ = run_cli("endpoints", "list", "--region", REGION)
    assert [e["EndpointName"] for e in json.loads(out)["Endpoints"]] == ["hotel"]
    code, out, err = run_cli("endpoints", "delete", "hotel", "--region", REGION, "--output", "table")
    assert code == 0, err
    assert "delete_endpoint" in out and client.list_endpoints() == []
