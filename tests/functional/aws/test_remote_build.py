"""`build_remote` against moto's S3, ECR, IAM, CodeBuild and CloudWatch Logs.

moto's CodeBuild never runs a build (its first BatchGetBuilds answers SUCCEEDED), so these tests
assert what smlift sends: the project, its buildspec, the zip's contents, the ECR repository,
the log lines it streams, the cleanup and the printed URI.
"""

from __future__ import annotations

import io
import json
import time
import zipfile

import boto3
import pytest

from smlift.aws.client import AwsClient
from smlift.errors import ImageError, InputError
from smlift.aws.remote_build import BUILD_IMAGE, build_remote

REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = f"sagemaker-{REGION}-{ACCOUNT}"  # the SageMaker default bucket, used when --bucket is absent


class RecordingClient(AwsClient):
    """The real AwsClient (talking to moto) that remembers every call and uploaded body."""

    def __init__(self, **kw):
        super().__init__(region=REGION, sleep=self.fake_sleep, **kw)
        self.calls: list[tuple[str, dict]] = []
        self.uploads: dict[str, bytes] = {}
        self.slept: list[float] = []
        self.log_lines: list[str] = []

    def fake_sleep(self, seconds):
        self.slept.append(seconds)

    def call(self, service, operation, **kwargs):
        if operation == "put_object" and hasattr(kwargs.get("Body"), "read"):
            kwargs["Body"] = kwargs["Body"].read()
        if operation == "put_object":
            self.uploads[kwargs["Key"]] = kwargs["Body"]
        self.calls.append((operation, kwargs))
        response = super().call(service, operation, **kwargs)
        if operation == "start_build" and self.log_lines:
            _write_log(response["build"], self.log_lines)
        return response

    def operations(self):
        return [op for op, _ in self.calls]

    def params(self, operation):
        return next(kw for op, kw in self.calls if op == operation)


def _write_log(build, lines):
    logs = boto3.client("logs", region_name=REGION)
    now = int(time.time() * 1000)  # CloudWatch drops events older than 14 days
    group = f"/aws/codebuild/{build['projectName']}"
    stream = build["id"].split(":", 1)[1]
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    logs.put_log_events(logGroupName=group, logStreamName=stream,
                        logEvents=[{"timestamp": now + i, "message": line}
                                   for i, line in enumerate(lines)])


@pytest.fixture
def aws(mocked_aws, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    iam = boto3.client("iam", region_name=REGION)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"Service": "codebuild.amazonaws.com"}}]}
    iam.create_role(RoleName="smlift-image-build", AssumeRolePolicyDocument=json.dumps(trust))
    yield RecordingClient()


@pytest.fixture
def context(tmp_path):
    ctx = tmp_path / "inference"
    (ctx / "src").mkdir(parents=True)
    (ctx / "data").mkdir()
    (ctx / "Dockerfile").write_text(
        "FROM 683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3\n"
        "COPY src /opt/program\n")
    (ctx / ".dockerignore").write_text("# local junk\ndata/\n!data/keep.csv\n**/*.pyc\n.git\n")
    (ctx / "src" / "predict.py").write_text("print('hi')\n")
    (ctx / "src" / "predict.pyc").write_bytes(b"\0junk")
    (ctx / "data" / "big.csv").write_text("a,b\n1,2\n")
    (ctx / "data" / "keep.csv").write_text("k\n")
    (ctx / ".git").mkdir()
    (ctx / ".git" / "HEAD").write_text("ref: x\n")
    return ctx


def test_remote_build_pushes_to_a_new_sagemaker_repository_and_prints_the_uri(aws, context):
    printed: list[str] = []
    uri = build_remote(context, echo=printed.append, client=aws)
    assert uri == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/sagemaker-inference:latest"
    assert printed[-1] == f"Image: {uri}"
    repos = boto3.client("ecr", region_name=REGION).describe_repositories()["repositories"]
    assert [r["repositoryName"] for r in repos] == ["sagemaker-inference"]


def test_remote_build_zip_honours_dockerignore(aws, context):
    build_remote(context, echo=lambda _: None, client=aws)
    (key, body), = aws.uploads.items()
    assert key.startswith("smlift/build/smlift-build-sagemaker-inference-") and key.endswith(".zip")
    names = sorted(zipfile.ZipFile(io.BytesIO(body)).namelist())
    assert names == [".dockerignore", "Dockerfile", "data/keep.csv", "src/predict.py"]


def test_remote_build_project_is_privileged_on_a_standard_image_with_get_login_password(aws, context):
    build_remote(context, echo=lambda _: None, client=aws)
    project = aws.params("create_project")
    env = project["environment"]
    assert env["image"] == BUILD_IMAGE and env["privilegedMode"] is True
    assert env["computeType"] == "BUILD_GENERAL1_SMALL"
    assert project["serviceRole"] == f"arn:aws:iam::{ACCOUNT}:role/smlift-image-build"
    spec = project["source"]["buildspec"]
    assert "aws ecr get-login-password --region $AWS_DEFAULT_REGION | docker login --username AWS " \
           "--password-stdin $ECR_REGISTRY" in spec
    assert "get-login " not in spec and "get-login --" not in spec
    # the Dockerfile's base image lives in another ECR registry: it gets its own login
    assert "docker login --username AWS --password-stdin " \
           "683313688378.dkr.ecr.us-east-1.amazonaws.com" in spec
    assert "docker push $ECR_REGISTRY/$IMAGE_REPO_NAME:$IMAGE_TAG" in spec
    variables = {v["name"]: v["value"] for v in env["environmentVariables"]}
    assert variables["IMAGE_REPO_NAME"] == "sagemaker-inference" and variables["IMAGE_TAG"] == "latest"
    assert project["source"]["type"] == "S3"
    assert project["source"]["location"] == f"{BUCKET}/{next(iter(aws.uploads))}"


def test_remote_build_cleans_up_the_project_and_the_zip(aws, context):
    build_remote(context, echo=lambda _: None, client=aws)
    project = aws.params("create_project")["name"]
    codebuild = boto3.client("codebuild", region_name=REGION)
    assert codebuild.list_projects()["projects"] == []
    assert aws.params("delete_project") == {"name": project}
    s3 = boto3.client("s3", region_name=REGION)
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_remote_build_streams_the_build_log(aws, context):
    aws.log_lines = ["Logging in to Amazon ECR", "Step 1/2 : FROM ...", "Pushed"]
    printed: list[str] = []
    build_remote(context, echo=printed.append, client=aws)
    assert [line for line in printed if line in aws.log_lines] == aws.log_lines


def test_remote_build_no_logs_reads_no_log(aws, context):
    aws.log_lines = ["should not be printed"]
    printed: list[str] = []
    build_remote(context, no_logs=True, echo=printed.append, client=aws)
    assert "get_log_events" not in aws.operations()
    assert "should not be printed" not in printed


def test_remote_build_takes_sm_docker_flags(aws, context):
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="other-bucket")
    uri = build_remote(context, repository="sagemaker-team/churn:v3", bucket="other-bucket",
                       role=f"arn:aws:iam::{ACCOUNT}:role/custom", vpc_id="vpc-1",
                       subnet_ids="subnet-a,subnet-b", security_group_ids=["sg-1"],
                       compute_type="BUILD_GENERAL1_LARGE", echo=lambda _: None, client=aws)
    assert uri.endswith("/sagemaker-team/churn:v3")
    project = aws.params("create_project")
    assert project["vpcConfig"] == {"vpcId": "vpc-1", "subnets": ["subnet-a", "subnet-b"],
                                    "securityGroupIds": ["sg-1"]}
    assert project["environment"]["computeType"] == "BUILD_GENERAL1_LARGE"
    assert project["serviceRole"].endswith(":role/custom")
    assert project["source"]["location"].startswith("other-bucket/")


def test_remote_build_reuses_an_existing_repository(aws, context):
    boto3.client("ecr", region_name=REGION).create_repository(repositoryName="sagemaker-inference")
    build_remote(context, tag="v2", echo=lambda _: None, client=aws)
    assert "create_repository" not in aws.operations()


class FailingBuildClient(RecordingClient):
    """moto's builds always succeed; this one reports a failed BUILD phase after two polls."""

    polls = 0

    def batch_get_builds(self, **kw):
        self.polls += 1
        build = dict(super().batch_get_builds(**kw)["builds"][0])
        if self.polls < 3:
            build["buildStatus"] = "IN_PROGRESS"
        else:
            build["buildStatus"] = "FAILED"
            build["phases"] = [{"phaseType": "BUILD", "phaseStatus": "FAILED",
                                "contexts": [{"message": "COMMAND_EXECUTION_ERROR: docker build"}]}]
        return {"builds": [build]}


def test_remote_build_failure_names_the_phase_and_still_cleans_up(mocked_aws, context):
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    client = FailingBuildClient()
    with pytest.raises(ImageError, match="FAILED in phase BUILD: COMMAND_EXECUTION_ERROR"):
        build_remote(context, bucket=BUCKET, role=f"arn:aws:iam::{ACCOUNT}:role/r",
                     echo=lambda _: None, client=client)
    assert client.slept == [5.0, 5.0]  # polled three times, paced by the injected sleep
    assert boto3.client("codebuild", region_name=REGION).list_projects()["projects"] == []
    assert boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0


def test_remote_build_without_dockerfile_is_refused_before_any_aws_call(aws, tmp_path):
    with pytest.raises(InputError, match="no Dockerfile"):
        build_remote(tmp_path, echo=lambda _: None, client=aws)
    assert aws.calls == []


def test_remote_build_missing_bucket_says_how_to_create_it(aws, context):
    with pytest.raises(InputError) as err:
        build_remote(context, bucket="no-such-bucket", echo=lambda _: None, client=aws)
    assert "no-such-bucket" in str(err.value) and "aws s3 mb s3://no-such-bucket" in str(err.value)


def test_remote_build_missing_default_role_points_to_deploy_or_role(aws, context):
    boto3.client("iam", region_name=REGION).delete_role(RoleName="smlift-image-build")
    with pytest.raises(InputError, match="smlift-image-build") as err:
        build_remote(context, bucket=BUCKET, echo=lambda _: None, client=aws)
    assert "--role" in str(err.value)


def test_remote_build_vpc_without_subnets_is_refused(aws, context):
    with pytest.raises(InputError, match="--subnet-ids"):
        build_remote(context, vpc_id="vpc-1", echo=lambda _: None, client=aws)


def test_remote_build_uses_only_the_tag_part_of_a_local_name_tag(aws, context):
    uri = build_remote(context, tag="smlift-inference:v7", echo=lambda _: None, client=aws)
    assert uri == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/sagemaker-inference:v7"


def test_remote_build_defaults_to_the_bucket_of_the_deployed_image_build_role(aws, context):
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="deploy-bucket")
    boto3.client("iam", region_name=REGION).tag_role(
        RoleName="smlift-image-build", Tags=[{"Key": "smlift:bucket", "Value": "deploy-bucket"}])
    build_remote(context, echo=lambda _: None, client=aws)
    assert aws.params("create_project")["source"]["location"].startswith("deploy-bucket/smlift/build/")


def test_remote_build_through_the_cli_prints_the_uri(aws, context, monkeypatch):
    from click.testing import CliRunner

    from smlift.cli import cli

    monkeypatch.setenv("AWS_REGION", REGION)
    result = CliRunner().invoke(cli, ["build", str(context), "--remote", "--no-logs"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == \
        f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/sagemaker-inference:latest"


SKLEARN_BASE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def _docker_build_line(spec: str) -> list[str]:
    """The buildspec's docker build command, as the shell on CodeBuild splits it."""
    import shlex

    import yaml

    commands = yaml.safe_load(spec)["phases"]["build"]["commands"]
    [line] = [c for c in commands if c.startswith("docker build")]
    return shlex.split(line)


@pytest.fixture
def args_context(context):
    """sm-docker's own example: a second Dockerfile whose base image is a build argument."""
    (context / "Dockerfile.args").write_text("ARG BASE_IMAGE=python:3.11-slim\nFROM ${BASE_IMAGE}\n"
                                             "ARG GREETING\nCOPY src /opt/program\n")
    (context / ".dockerignore").write_text("Dockerfile.args\n")  # always sent all the same
    return context


def test_remote_build_hands_file_and_build_args_to_docker_build(aws, args_context, monkeypatch):
    monkeypatch.chdir(args_context.parent)
    printed: list[str] = []
    build_remote("inference", dockerfile="inference/Dockerfile.args",
                 build_args=[f"BASE_IMAGE={SKLEARN_BASE}", "GREETING=it's $HOME; `x`: #1"],
                 no_logs=True, echo=printed.append, client=aws)
    spec = aws.params("create_project")["source"]["buildspec"]
    assert _docker_build_line(spec) == [
        "docker", "build", "-t", "$IMAGE_REPO_NAME:$IMAGE_TAG", "--file", "Dockerfile.args",
        "--build-arg", f"BASE_IMAGE={SKLEARN_BASE}", "--build-arg", "GREETING=it's $HOME; `x`: #1", "."]
    # the base image named by the build argument is in another ECR registry: it gets a login
    assert "--password-stdin 683313688378.dkr.ecr.us-east-1.amazonaws.com" in spec
    (body,) = aws.uploads.values()
    assert "Dockerfile.args" in zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert "Dockerfile Dockerfile.args, build arguments BASE_IMAGE, GREETING" in printed


def test_remote_build_cli_takes_file_and_repeated_build_args(aws, args_context, monkeypatch, run_cli):
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.chdir(args_context.parent)
    code, out, err = run_cli("build", "inference", "--remote", "--no-logs",
                             "-f", "inference/Dockerfile.args",
                             "--build-arg", "BASE_IMAGE=python:3.12-slim", "--build-arg", "GREETING=hi")
    assert code == 0, err
    assert "Dockerfile Dockerfile.args, build arguments BASE_IMAGE, GREETING" in out.splitlines()


def test_remote_build_without_file_or_build_args_keeps_the_plain_docker_build(aws, context):
    build_remote(context, echo=lambda _: None, client=aws)
    spec = aws.params("create_project")["source"]["buildspec"]
    assert "      - docker build -t $IMAGE_REPO_NAME:$IMAGE_TAG .\n" in spec


def test_remote_build_dockerfile_outside_the_context_is_refused_before_any_aws_call(
        aws, context, tmp_path):
    outside = tmp_path / "Dockerfile.elsewhere"
    outside.write_text("FROM python:3.11-slim\n")
    with pytest.raises(InputError) as err:
        build_remote(context, dockerfile=str(outside), echo=lambda _: None, client=aws)
    assert (err.value.where, "outside the build context" in err.value.message) == ("--file", True)
    assert aws.calls == []


def test_remote_build_missing_dockerfile_names_the_path_convention(aws, context):
    with pytest.raises(InputError) as err:
        build_remote(context, dockerfile="Dockerfile.gpu", echo=lambda _: None, client=aws)
    assert err.value.message == "no such Dockerfile 'Dockerfile.gpu'"
    assert err.value.fix.endswith("e.g. inference/Dockerfile.gpu")
    assert aws.calls == []


@pytest.mark.parametrize("bad", ["NAME", "=value", "1X=y", "A B=c"])
def test_remote_build_arg_that_is_not_key_value_is_refused(aws, context, bad):
    with pytest.raises(InputError) as err:
        build_remote(context, build_args=[bad], echo=lambda _: None, client=aws)
    assert (err.value.where, err.value.message) == ("--build-arg", f"--build-arg {bad!r} is not KEY=VALUE")
    assert aws.calls == []

