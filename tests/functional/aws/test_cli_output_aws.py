"""`smlift deploy` and `destroy` with `--output json` (moto): stdout is one document, the plan's
lines go to stderr."""

import json
import shutil
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[3]
REGION = "us-east-1"
BUCKET = "smlift-test-bucket"


@pytest.fixture
def project(tmp_path, monkeypatch, mocked_aws):
    """A copy of the repository's project (smlift.toml, iam/, scripts/, statemachine/), with a
    subfolder as the working directory: deploy finds the root by walking up."""
    for folder in ("iam", "scripts", "statemachine"):
        shutil.copytree(ROOT / folder, tmp_path / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "smlift.toml", tmp_path / "smlift.toml")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    return tmp_path


def test_deploy_dry_run_json_is_one_document_of_the_plan(project, run_cli):
    code, out, err = run_cli("deploy", "--bucket", BUCKET, "--dry-run", "--output", "json")
    assert code == 0, err
    plan = json.loads(out)
    assert plan["dryRun"] is True and plan["applied"] is False
    assert any(call["method"] == "create_state_machine" for call in plan["calls"])
    assert "create_state_machine" in err or "state machine" in err.lower()  # the plan's lines
    assert boto3.client("stepfunctions", region_name=REGION).list_state_machines()[
        "stateMachines"] == []


def test_deploy_then_destroy_json_are_one_document_each(project, run_cli):
    code, out, err = run_cli("deploy", "--bucket", BUCKET, "--output", "json")
    assert code == 0, err
    deployed = json.loads(out)
    assert deployed["applied"] is True
    assert deployed["stateMachineArn"].startswith("arn:aws:states:us-east-1:")
    assert deployed["input"]["role"].startswith("arn:aws:iam::")
    code, out, err = run_cli("destroy", "--bucket", BUCKET, "--dry-run", "--output", "json")
    assert code == 0, err
    planned = json.loads(out)
    assert planned["dryRun"] is True and planned["calls"]
    code, out, err = run_cli("destroy", "--bucket", BUCKET, "--output", "json")
    assert code == 0, err
    assert json.loads(out)["calls"] == planned["calls"]
    assert boto3.client("stepfunctions", region_name=REGION).list_state_machines()[
        "stateMachines"] == []


def test_jobs_logs_json_is_one_document_of_the_lines(mocked_aws, monkeypatch, run_cli):
    import time

    monkeypatch.setenv("AWS_REGION", REGION)
    boto3.client("sagemaker", region_name=REGION).create_processing_job(
        ProcessingJobName="predict-1", RoleArn="arn:aws:iam::123456789012:role/smlift-sagemaker",
        AppSpecification={"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1"},
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1,
                                               "InstanceType": "ml.m5.xlarge",
                                               "VolumeSizeInGB": 30}})
    logs = boto3.client("logs", region_name=REGION)
    group, stream = "/aws/sagemaker/ProcessingJobs", "predict-1/algo-1-1700000000"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
        {"timestamp": int(time.time() * 1000) + i, "message": f"line {i}"} for i in range(2)])
    code, out, err = run_cli("jobs", "logs", "predict-1", "--aws", "--output", "json")
    assert code == 0, err
    assert json.loads(out) == {"ProcessingJobName": "predict-1", "lines": ["line 0", "line 1"]}
