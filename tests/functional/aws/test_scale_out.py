"""instance_count > 1 on AWS's side (moto): the state machine deploys, an execution starts with
the input, and every CreateProcessingJob request it makes at instance_count 2 is accepted by
SageMaker's API (botocore's request model, then moto; moto describes back the inputs and outputs): N instances
for the three splitting steps, one for Summarize, the sharded inputs sharded."""

import json
from pathlib import Path

import boto3
import pytest

from smlift.validate import resolve_requests

REGION = "us-east-1"
ROOT = Path(__file__).resolve().parents[3]
DEFINITION = ROOT / "statemachine" / "definition.asl.json"


@pytest.fixture
def aws_input(mocked_aws, monkeypatch):
    monkeypatch.setenv("AWS_REGION", REGION)
    data = json.loads((ROOT / "examples" / "input.json").read_text())
    return {**data, "instance_count": 2}


def test_the_definition_deploys_and_starts_with_instance_count_2(aws_input):
    iam = boto3.client("iam", region_name=REGION)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"Service": "states.amazonaws.com"}}]}
    role = iam.create_role(RoleName="smlift-sfn", AssumeRolePolicyDocument=json.dumps(trust))
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machine = sfn.create_state_machine(name="smlift", definition=DEFINITION.read_text(),
                                       roleArn=role["Role"]["Arn"])
    started = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="scaled-1",
                                  input=json.dumps(aws_input))
    described = sfn.describe_execution(executionArn=started["executionArn"])
    assert json.loads(described["input"])["instance_count"] == 2


def test_sagemaker_accepts_every_request_at_instance_count_2(aws_input):
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    definition = json.loads(DEFINITION.read_text())
    jobs = resolve_requests(definition, aws_input, "scaled-1")
    assert [job.state for job in jobs] == ["Preprocess", "Predict", "Postprocess", "Summarize"]
    for job in jobs:
        sagemaker.create_processing_job(**job.request)  # botocore validates the shape first
        back = sagemaker.describe_processing_job(
            ProcessingJobName=job.request["ProcessingJobName"])
        # moto describes inputs and outputs back, not ProcessingResources nor Environment:
        # those are checked as sent (botocore's model accepted them)
        count = job.request["ProcessingResources"]["ClusterConfig"]["InstanceCount"]
        assert count == (1 if job.state == "Summarize" else 2), job.state
        sharded = sorted(i["InputName"] for i in back["ProcessingInputs"]
                         if i["S3Input"]["S3DataDistributionType"] == "ShardedByS3Key")
        assert sharded == {"Preprocess": [], "Predict": ["data"], "Postprocess": ["data"],
                           "Summarize": []}[job.state]
        outputs = [o["S3Output"]["S3Uri"] for o in back["ProcessingOutputConfig"]["Outputs"]]
        assert all(uri.startswith("s3://your-bucket-name/smlift/output/scaled-1/")
                   for uri in outputs)
    assert jobs[0].request["Environment"] == {"SMLIFT_SPLIT": "by-host"}
