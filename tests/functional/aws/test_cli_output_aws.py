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
