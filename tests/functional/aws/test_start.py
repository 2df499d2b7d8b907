"""`smlift models` / `start` / `input` / `status` against moto, end to end through the CLI and
the library; and the error paths a user meets first (no region, no credentials, unknown model).

The deployment is made by a small fixture through AwsClient (a tagged state machine and the
deployment record in the bucket), so these tests do not depend on `smlift deploy`.
"""

import json
from pathlib import Path

import boto3
import pytest

from smlift.aws.client import AwsClient
from smlift.registry import SageMakerRegistry
from smlift.backend import aws_target
from smlift.starter import start_model

REGION = "eu-west-1"
BUCKET = "smlift-test-bucket"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-churn:1"
DEFINITION = Path(__file__).resolve().parents[3] / "statemachine" / "definition.asl.json"


def make_deployment(client: AwsClient, name: str = "smlift") -> dict:
    """What `smlift deploy` leaves behind, as far as `smlift start` reads it."""
    from smlift.aws.deploy import models

    names = (models.resource_names(name) if hasattr(models, "resource_names")
             else {"state_machine": name, "stepfunctions": f"{name}-stepfunctions",
                   "sagemaker": f"{name}-sagemaker"})
    account, partition = client.account_id, client.partition
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"Service": "states.amazonaws.com"}}]}
    sfn_role = client.create_role(RoleName=names["stepfunctions"],
                                  AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    client.create_bucket(Bucket=BUCKET)
    definition = DEFINITION.read_text() if DEFINITION.exists() else json.dumps(
        {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    machine = client.create_state_machine(
        name=names["state_machine"], definition=definition, roleArn=sfn_role,
        tags=[{"key": "smlift:deployment", "value": name}, {"key": "smlift:bucket", "value": BUCKET}])
    record = {"format": 1, "name": name, "region": client.region, "account_id": account,
              "bucket": BUCKET, "state_machine_name": names["state_machine"],
              "state_machine_arn": machine["stateMachineArn"],
              "roles": {"stepfunctions": sfn_role,
                        "sagemaker": f"arn:{partition}:iam::{account}:role/{names['sagemaker']}"},
              "code_uri": f"s3://{BUCKET}/smlift/code/0123abcd/", "created": []}
    client.put_object(Bucket=BUCKET, Key=f"smlift/deployments/{name}.json",
                      Body=json.dumps(record).encode())
    return record


@pytest.fixture
def aws_env(mocked_aws, monkeypatch):
    monkeypatch.setenv("AWS_REGION", REGION)


@pytest.fixture
def deployment(aws_env):
    return make_deployment(AwsClient(region=REGION))


def test_register_approve_then_start_on_aws(deployment, run_cli):
    code, out, _ = run_cli("models", "register", "churn", "--image", IMAGE,
                           "--instance-type", "ml.m5.large", "--volume-size", "50")
    assert code == 0 and "Registered churn version 1 (PendingManualApproval)" in out

    code, out, _ = run_cli("models", "list")
    assert code == 0 and "churn" in out and "PendingManualApproval" in out

    code, _, err = run_cli("start", "churn", "--input-uri", "s3://data-bucket/in/churn/",
                           "--output-uri", "s3://data-bucket/out/churn/")
    assert code == 1
    assert "only an Approved version runs on AWS" in err
    assert "smlift models approve churn --version 1" in err and "Traceback" not in err
    sfn = boto3.client("stepfunctions", region_name=REGION)
    assert sfn.list_executions(stateMachineArn=deployment["state_machine_arn"])["executions"] == []

    assert run_cli("models", "approve", "churn", "--version", "1")[0] == 0
    code, out, err = run_cli("start", "churn", "--input-uri", "s3://data-bucket/in/churn/",
                             "--output-uri", "s3://data-bucket/out/churn/", "--name", "churn-first")
    assert code == 0, err
    started = json.loads(out)
    described = sfn.describe_execution(executionArn=started["executionArn"])
    assert described["name"] == "churn-first"
    assert described["stateMachineArn"] == deployment["state_machine_arn"]
    assert json.loads(described["input"]) == {
        "input_uri": "s3://data-bucket/in/churn/", "output_uri": "s3://data-bucket/out/churn/",
        "custom_image_uri": IMAGE, "role": deployment["roles"]["sagemaker"],
        "model_name": "churn", "code_uri": deployment["code_uri"],
        "scikit_image_uri": "141502667606.dkr.ecr.eu-west-1.amazonaws.com/"
                            "sagemaker-scikit-learn:1.4-2-cpu-py3",
        "instance_type": "ml.m5.large", "volume_size": 50}

    code, out, _ = run_cli("status", started["executionArn"])
    assert code == 0 and json.loads(out)["executionArn"] == started["executionArn"]
    code, out, _ = run_cli("history", started["executionArn"], "--json")
    assert code == 0 and isinstance(json.loads(out), list)


def test_allow_unapproved_starts_a_pending_version(deployment):
    client = AwsClient(region=REGION)
    registry = SageMakerRegistry(client)
    registry.register("churn", IMAGE)
    started = start_model(registry, aws_target(client), "churn", "s3://data-bucket/in/",
                          "s3://data-bucket/out/", allow_unapproved=True)
    assert started.version == 1 and started.execution_arn


def test_input_prints_the_same_json_start_sends(deployment, run_cli):
    run_cli("models", "register", "churn", "--image", IMAGE, "--code-uri",
            "s3://team-code/churn/")
    run_cli("models", "approve", "churn", "--version", "1")
    code, out, err = run_cli("input", "churn", "--input-uri", "s3://data-bucket/in/",
                             "--output-uri", "s3://data-bucket/out/")
    assert code == 0, err
    printed = json.loads(out)
    assert printed["code_uri"] == "s3://team-code/churn/"
    code, out, _ = run_cli("start", "churn", "--input-uri", "s3://data-bucket/in/",
                           "--output-uri", "s3://data-bucket/out/")
    sent = boto3.client("stepfunctions", region_name=REGION).describe_execution(
        executionArn=json.loads(out)["executionArn"])["input"]
    assert json.loads(sent) == printed


def test_start_all_starts_every_smlift_model(deployment, run_cli):
    for name in ("alpha", "beta", "gamma"):
        run_cli("models", "register", name, "--image", IMAGE)
        run_cli("models", "approve", name, "--version", "1")
    # a group somebody else registered without smlift is left alone
    sm = boto3.client("sagemaker", region_name=REGION)
    sm.create_model_package_group(ModelPackageGroupName="not-ours")
    sm.create_model_package(ModelPackageGroupName="not-ours", ModelApprovalStatus="Approved",
                            InferenceSpecification={"Containers": [{"Image": IMAGE}],
                                                    "SupportedContentTypes": ["text/csv"],
                                                    "SupportedResponseMIMETypes": ["text/csv"]})
    code, out, err = run_cli("start", "--all", "--input-prefix", "s3://data-bucket/in/",
                             "--output-prefix", "s3://data-bucket/out", "--max-concurrency", "2")
    assert code == 0, err
    assert "3 executions started." in err
    results = {r["model"]: r for r in json.loads(out)}
    assert sorted(results) == ["alpha", "beta", "gamma"]
    sfn = boto3.client("stepfunctions", region_name=REGION)
    executions = sfn.list_executions(stateMachineArn=deployment["state_machine_arn"])["executions"]
    assert len(executions) == 3
    beta = sfn.describe_execution(executionArn=results["beta"]["executionArn"])
    assert json.loads(beta["input"])["input_uri"] == "s3://data-bucket/in/beta/"
    assert json.loads(beta["input"])["output_uri"] == "s3://data-bucket/out/beta/"


def test_start_all_reports_unapproved_models_and_exits_1(deployment, run_cli):
    run_cli("models", "register", "alpha", "--image", IMAGE)
    run_cli("models", "approve", "alpha", "--version", "1")
    run_cli("models", "register", "beta", "--image", IMAGE)
    code, out, err = run_cli("start", "--all", "--input-prefix", "s3://data-bucket/in/",
                             "--output-prefix", "s3://data-bucket/out/")
    assert code == 1
    assert "FAILED  beta: beta: model beta version 1 is PendingManualApproval" in err
    assert "1 of 2 models did not start: beta" in err
    assert [r["model"] for r in json.loads(out) if "executionArn" in r] == ["alpha"]


def test_unknown_model_is_one_line(deployment, run_cli):
    code, out, err = run_cli("start", "ghost", "--input-uri", "s3://data-bucket/in/",
                             "--output-uri", "s3://data-bucket/out/")
    assert code == 1 and out == ""
    assert err.strip().count("\n") == 0
    assert "no model named 'ghost' in the aws registry" in err and "Traceback" not in err


def test_missing_deployment_says_deploy_first(aws_env, run_cli):
    code, _, err = run_cli("start", "churn", "--input-uri", "s3://data-bucket/in/",
                           "--output-uri", "s3://data-bucket/out/")
    assert code == 1 and "smlift deploy" in err and "Traceback" not in err


@pytest.fixture
def bare_machine(monkeypatch, tmp_path):
    """No AWS configuration at all: no config file, no credentials, no instance metadata."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.parametrize("args", [
    ("models", "list"),
    ("start", "churn", "--input-uri", "s3://data-bucket/in/", "--output-uri", "s3://data-bucket/out/"),
    ("input", "churn", "--input-uri", "s3://data-bucket/in/", "--output-uri", "s3://data-bucket/out/"),
])
def test_no_region_is_one_line_with_the_fix(bare_machine, run_cli, args):
    code, _, err = run_cli(*args)
    assert code == 1
    assert err.strip() == ("Error: region: no AWS region configured (fix: pass --region us-east-1 "
                           "(or your region), or set AWS_REGION)")


@pytest.mark.parametrize("args", [
    ("models", "list", "--region", REGION),
    ("start", "churn", "--region", REGION, "--input-uri", "s3://data-bucket/in/",
     "--output-uri", "s3://data-bucket/out/"),
    ("status", f"arn:aws:states:{REGION}:123456789012:execution:smlift:churn-1"),
])
def test_no_credentials_is_one_line_with_the_fix(bare_machine, run_cli, args):
    code, _, err = run_cli(*args)
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "no AWS credentials found" in err and "aws configure" in err


def test_the_docs_walk_through_on_a_real_deploy(aws_env, run_cli):
    """docs/aws.md end to end: deploy, register, approve, start with the deployment's prefixes;
    then the execution, state machine and role are there for plain boto3."""
    from smlift.aws.deploy import deploy

    root = Path(__file__).resolve().parents[3]
    client = AwsClient(region=REGION)
    client.create_bucket(Bucket=BUCKET)
    result = deploy(client, project_root=root, bucket=BUCKET, echo=lambda line: None)
    record = result.record
    assert run_cli("models", "register", "churn", "--image", IMAGE)[0] == 0
    assert run_cli("models", "approve", "churn", "--version", "1")[0] == 0
    code, out, err = run_cli("start", "churn")
    assert code == 0, err
    arn = json.loads(out)["executionArn"]
    sfn = boto3.client("stepfunctions", region_name=REGION)
    described = sfn.describe_execution(executionArn=arn)
    assert described["stateMachineArn"] == record["state_machine_arn"]
    sent = json.loads(described["input"])
    assert sent["input_uri"] == f"{record['input_prefix']}churn/"
    assert sent["output_uri"] == f"{record['output_prefix']}churn/"
    assert (sent["role"], sent["code_uri"], sent["scikit_image_uri"]) == (
        record["roles"]["sagemaker"], record["code_uri"], record["scikit_image_uri"])
    role_name = record["roles"]["sagemaker"].rsplit("/", 1)[1]
    assert boto3.client("iam").get_role(RoleName=role_name)["Role"]["Arn"] == sent["role"]
    code, out, err = run_cli("start", "--all")
    assert code == 0, err
    assert [r["model"] for r in json.loads(out)] == ["churn"]


def test_local_start_without_uris_asks_for_them(tmp_path, monkeypatch, run_cli):
    (tmp_path / "statemachine").mkdir()
    (tmp_path / "statemachine" / "definition.asl.json").write_text(
        json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}))
    monkeypatch.chdir(tmp_path)
    run_cli("models", "register", "churn", "--image", "sagemaker-churn:1", "--local")
    code, _, err = run_cli("start", "churn", "--local")
    assert code == 1 and "--input-uri: is required" in err
    code, _, err = run_cli("start", "--all", "--local")
    assert code == 1 and "--input-prefix: is required" in err
