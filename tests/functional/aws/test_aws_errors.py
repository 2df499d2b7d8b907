"""The error paths at the one door to AWS, through the CLI: one line with the fix, exit 1, no
traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import boto3
import pytest

from smlift.aws.client import AwsClient
from smlift.errors import AwsError

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def no_aws_config(tmp_path, monkeypatch):
    """No credentials and no region from anywhere: env, files, instance metadata."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE",
                 "AWS_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def project(tmp_path, monkeypatch):
    for folder in ("iam", "scripts", "statemachine"):
        shutil.copytree(ROOT / folder, tmp_path / "project" / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(tmp_path / "project")
    return tmp_path / "project"


def assert_one_line_error(code, err, *needles):
    assert code == 1
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), err
    for needle in needles:
        assert needle in lines[0]


def test_deploy_without_a_region_says_how_to_set_one(no_aws_config, project, run_cli):
    code, _, err = run_cli("deploy", "--bucket", "b-1")
    assert_one_line_error(code, err, "no AWS region configured", "--region", "AWS_REGION")


def test_deploy_without_credentials_says_how_to_configure_them(no_aws_config, project, run_cli):
    code, _, err = run_cli("deploy", "--bucket", "b-1", "--region", "eu-west-1")
    assert_one_line_error(code, err, "no AWS credentials found", "aws configure", "AWS_PROFILE")


def test_destroy_without_credentials_is_one_line_too(no_aws_config, run_cli):
    code, _, err = run_cli("destroy", "--region", "eu-west-1")
    assert_one_line_error(code, err, "no AWS credentials found")


def test_build_remote_without_credentials_is_one_line(no_aws_config, tmp_path, run_cli):
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM python:3.11-slim\n")
    code, _, err = run_cli("build", str(tmp_path / "ctx"), "--remote")
    assert_one_line_error(code, err)
    assert "region" in err or "credentials" in err


def test_unknown_profile_is_one_line(no_aws_config, project, run_cli):
    code, _, err = run_cli("deploy", "--profile", "nope", "--region", "eu-west-1")
    assert_one_line_error(code, err, "nope", "--profile")


def test_deploy_to_a_missing_bucket_names_it_and_how_to_create_it(project, mocked_aws, run_cli):
    code, _, err = run_cli("deploy", "--bucket", "no-such-bucket", "--region", "us-east-1")
    assert_one_line_error(code, err, "--bucket", "'no-such-bucket' does not exist",
                          "aws s3 mb s3://no-such-bucket")
    assert boto3.client("iam", region_name="us-east-1").list_roles()["Roles"] == []


def test_default_bucket_missing_is_the_same_clear_error(project, mocked_aws, run_cli):
    code, _, err = run_cli("deploy", "--region", "eu-west-1", "--dry-run")
    assert_one_line_error(code, err, "sagemaker-eu-west-1-123456789012")


def test_destroy_of_an_unknown_deployment_says_so(mocked_aws, run_cli):
    code, _, err = run_cli("destroy", "--name", "ghost", "--region", "us-east-1")
    assert_one_line_error(code, err, "no deployment named 'ghost'")


def test_invalid_deployment_name_is_refused_before_any_call(mocked_aws, project, run_cli):
    code, _, err = run_cli("deploy", "--name", "bad name!", "--region", "us-east-1")
    assert_one_line_error(code, err, "--name", "invalid deployment name")


def test_client_error_keeps_the_aws_code_and_names_the_operation(mocked_aws):
    client = AwsClient(region="us-east-1")
    with pytest.raises(AwsError) as err:
        client.get_role(RoleName="missing")
    assert err.value.code == "NoSuchEntity"
    assert str(err.value).startswith("iam:get_role: NoSuchEntity:")
    with pytest.raises(AwsError) as err:
        client.put_role_policy(RoleName="missing", PolicyName="p",
                               PolicyDocument=json.dumps({"Statement": []}))
    assert err.value.where == "iam:put_role_policy"


def test_region_comes_from_aws_region_before_aws_default_region(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    assert AwsClient().region == "eu-west-3"
    assert AwsClient(region="ap-south-1").region == "ap-south-1"


def test_endpoint_url_comes_from_aws_endpoint_url(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5055")
    client = AwsClient(region="us-east-1")
    assert client.client("s3").meta.endpoint_url == "http://127.0.0.1:5055"
