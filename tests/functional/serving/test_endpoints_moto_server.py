"""Endpoints on AWS through moto's server on loopback (`ThreadedMotoServer`): SageMaker, SageMaker
Runtime and Application Auto Scaling answer over real HTTP, and smlift reaches them through the
one AWS door exactly as it reaches AWS (AWS_ENDPOINT_URL), so botocore's serialisation, the HTTP
status codes and the error parsing are all exercised.

What moto fakes, and so what these tests cannot prove: moto has no UpdateEndpoint (the client
below repoints moto's endpoint at the new config, as AWS does once an update completes); its
endpoints are InService at once and run no container, so InvokeEndpoint answers a canned body
rather than the model's predictions (the local server tests prove those); autoscaling targets are
recorded, never acted on."""

import json

import pytest

from smlift.aws.client import AwsClient
from smlift.errors import InputError, ModelRegistryError
from smlift.registry import SageMakerRegistry
from smlift.serving.remote import AwsEndpoints, TAG_ENDPOINT

REGION = "eu-west-1"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/smlift-inference:{}"
ROLE = "arn:aws:iam::123456789012:role/smlift-sagemaker"


class MotoServerClient(AwsClient):
    """AwsClient over HTTP to moto's server, with UpdateEndpoint done on the server's backend
    (the server runs in a thread of this process; moto has no such operation)."""

    def update_endpoint(self, **kw):
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.sagemaker.models import sagemaker_backends

        endpoint = sagemaker_backends[DEFAULT_ACCOUNT_ID][self.region].endpoints[kw["EndpointName"]]
        endpoint.endpoint_config_name = kw["EndpointConfigName"]
        return {"EndpointArn": endpoint.arn}


@pytest.fixture(scope="module")
def moto_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def client(moto_server, monkeypatch):
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(moto_server + "/moto-api/reset", method="POST"))
    for key, value in {"AWS_ENDPOINT_URL": moto_server, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION,
                       "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return MotoServerClient(region=REGION, sleep=lambda _: None)


@pytest.fixture
def endpoints(client):
    registry = SageMakerRegistry(client)
    for version in (1, 2, 3):
        registry.register("hotel-cancellation", IMAGE.format(version))
    registry.approve("hotel-cancellation", 1)
    registry.approve("hotel-cancellation", 2)
    return AwsEndpoints(client, registry)


def operations(result):
    return [call["Operation"] for call in result["Calls"]]


def quiet(_):
    pass


def test_realtime_deploys_autoscales_updates_in_place_and_deletes(client, endpoints):
    first = endpoints.deploy("hotel", "hotel-cancellation:1", role_arn=ROLE, min_capacity=1,
                             max_capacity=4, echo=quiet)
    assert operations(first) == ["create_model", "create_endpoint_config", "create_endpoint",
                                 "wait_endpoint_in_service", "register_scalable_target",
                                 "put_scaling_policy"]
    assert (first["EndpointName"], first["EndpointConfigName"]) == ("hotel", "hotel-v1")
    target, = client.describe_scalable_targets(ServiceNamespace="sagemaker")
    assert (target["ResourceId"], target["MinCapacity"], target["MaxCapacity"]) == (
        "endpoint/hotel/variant/AllTraffic", 1, 4)

    assert operations(endpoints.deploy("hotel", "hotel-cancellation:1", role_arn=ROLE,
                                       echo=quiet)) == []
    update = endpoints.deploy("hotel", "hotel-cancellation", role_arn=ROLE, min_capacity=1,
                              max_capacity=4, echo=quiet)   # the latest Approved: 2
    assert operations(update)[:4] == ["create_model", "create_endpoint_config",
                                      "deregister_scalable_target", "update_endpoint"]
    assert endpoints.describe("hotel")["EndpointConfigName"] == "hotel-v2"

    assert endpoints.invoke("hotel", b"booking_id\n1\n", "text/csv")   # moto's canned body
    deleted = endpoints.delete("hotel", echo=quiet)
    assert "delete_endpoint" in operations(deleted)
    assert endpoints.list() == [] and client.list_models() == []
    assert client.describe_scalable_targets(ServiceNamespace="sagemaker") == []


def test_serverless_and_async_endpoints(client, endpoints):
    endpoints.deploy("hotel-sls", "hotel-cancellation", role_arn=ROLE, endpoint_type="serverless",
                     memory_mb=3072, max_concurrency=10, echo=quiet)
    variant = client.describe_endpoint_config(
        EndpointConfigName="hotel-sls-v2")["ProductionVariants"][0]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 3072, "MaxConcurrency": 10}
    endpoints.deploy("hotel-async", "hotel-cancellation", role_arn=ROLE, endpoint_type="async",
                     output_uri="s3://answers/hotel/", echo=quiet)
    config = client.describe_endpoint_config(EndpointConfigName="hotel-async-v2")
    assert config["AsyncInferenceConfig"]["OutputConfig"]["S3OutputPath"] == "s3://answers/hotel/"
    assert {"Key": TAG_ENDPOINT, "Value": "hotel-async"} in client.list_tags(
        ResourceArn=config["EndpointConfigArn"])
    answer = endpoints.invoke_async("hotel-async", "s3://requests/b.csv", "text/csv")
    assert answer["OutputLocation"].startswith("s3://")
    assert sorted(e["EndpointName"] for e in endpoints.list()) == ["hotel-async", "hotel-sls"]
    for name in ("hotel-sls", "hotel-async"):
        endpoints.delete(name, echo=quiet)
    assert endpoints.list() == [] and client.list_models() == []


def test_only_approved_versions_deploy_unless_allowed(endpoints):
    with pytest.raises(ModelRegistryError, match="version 3 is PendingManualApproval"):
        endpoints.deploy("hotel", "hotel-cancellation:3", role_arn=ROLE, echo=quiet)
    allowed = endpoints.deploy("hotel", "hotel-cancellation:3", role_arn=ROLE,
                               allow_unapproved=True, echo=quiet)
    assert "create_endpoint" in operations(allowed)


def test_the_cli_deploys_lists_and_deletes_over_http(client, endpoints, run_cli):
    code, out, err = run_cli("endpoints", "deploy", "hotel", "--model", "hotel-cancellation:1",
                             "--type", "serverless", "--dry-run")
    assert code == 0, err
    assert err.splitlines()[0] == "Plan for deploy 'hotel': 3 API call(s)"
    assert 'ExecutionRoleArn="arn:aws:iam::123456789012:role/smlift-sagemaker"' in err  # default
    planned = json.loads(out)      # stdout: one JSON document
    variant = planned["Calls"][1]["Parameters"]["ProductionVariants"][0]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
    assert planned["DryRun"] is True and endpoints.list() == []
    code, out, err = run_cli("endpoints", "deploy", "hotel", "--model", "hotel-cancellation:1",
                             "--role-arn", ROLE, "--output", "text")
    assert code == 0, err
    assert out.splitlines()[0].split("\t")[:2] == ["hotel", "InService"]
    code, out, _ = run_cli("endpoints", "list", "--output", "table")
    assert out.splitlines()[1].split()[:2] == ["hotel", "InService"]
    code, out, err = run_cli("endpoints", "describe", "nowhere")
    assert code == 1 and "nowhere" in err and "Traceback" not in err
    code, out, err = run_cli("endpoints", "delete", "hotel")
    assert code == 0, err
    assert endpoints.list() == []


def test_dry_run_prints_the_plan_and_changes_nothing(client, endpoints):
    lines = []
    planned = endpoints.deploy("hotel", "hotel-cancellation", role_arn=ROLE, max_capacity=3,
                               dry_run=True, echo=lines.append)
    assert lines[0] == "Plan for deploy 'hotel': 6 API call(s)"
    assert any('create_endpoint(EndpointName="hotel"' in line for line in lines)
    assert len(planned["Calls"]) == 6
    assert endpoints.list() == [] and client.list_models() == []


def test_serverless_does_not_take_instance_autoscaling(endpoints):
    with pytest.raises(InputError, match="serverless endpoints scale by themselves"):
        endpoints.deploy("hotel", "hotel-cancellation:1", role_arn=ROLE,
                         endpoint_type="serverless", max_capacity=3, echo=quiet)
