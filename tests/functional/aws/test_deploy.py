"""`smlift deploy` / `smlift destroy` against moto: plan, apply, no-op, dry run, exact destroy.

The project is a copy of the repository's own iam/, scripts/ and statemachine/ in tmp_path, so a
test may change a script or the definition and see the next deploy react.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from smlift.aws.client import AwsClient
from smlift.cli import cli
from smlift.aws.deploy import lookup_deployment
from smlift.aws.deploy.deployer import deploy, destroy
from smlift.errors import DeployError

ROOT = Path(__file__).resolve().parents[3]
REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = "smlift-test-bucket"
ROLES = ("smlift-stepfunctions", "smlift-sagemaker", "smlift-image-build")
SM_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:smlift-pipeline"


@pytest.fixture
def project(tmp_path):
    for folder in ("iam", "scripts", "statemachine"):
        shutil.copytree(ROOT / folder, tmp_path / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


@pytest.fixture
def aws(mocked_aws, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)


def client() -> AwsClient:
    return AwsClient(region=REGION, sleep=lambda _: None)


def run(project, **kw):
    lines: list[str] = []
    result = deploy(client(), project_root=project, bucket=BUCKET, echo=lines.append, **kw)
    return result, lines


def keys(prefix=""):
    s3 = boto3.client("s3", region_name=REGION)
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []))


def role_names():
    return sorted(r["RoleName"] for r in boto3.client("iam", region_name=REGION).list_roles()["Roles"])


def test_deploy_creates_roles_policies_code_and_state_machine_as_planned(aws, project):
    result, _ = run(project)
    assert result.applied
    planned = [call.method for call in result.plan.calls]
    assert planned.count("create_role") == 3 and planned.count("put_role_policy") == 3
    assert planned.count("create_state_machine") == 1
    iam = boto3.client("iam", region_name=REGION)
    assert role_names() == sorted(ROLES)
    trust = iam.get_role(RoleName="smlift-stepfunctions")["Role"]["AssumeRolePolicyDocument"]
    statement = trust["Statement"][0]
    assert statement["Principal"] == {"Service": "states.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"] == SM_ARN
    policy = iam.get_role_policy(RoleName="smlift-stepfunctions",
                                 PolicyName="stepfunctions-policy")["PolicyDocument"]
    pass_role = next(s for s in policy["Statement"] if s["Action"] == "iam:PassRole")
    assert pass_role["Resource"] == f"arn:aws:iam::{ACCOUNT}:role/smlift-sagemaker"
    sagemaker = iam.get_role_policy(RoleName="smlift-sagemaker",
                                    PolicyName="sagemaker-policy")["PolicyDocument"]
    assert "${" not in json.dumps(sagemaker)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    described = sfn.describe_state_machine(stateMachineArn=SM_ARN)
    assert json.loads(described["definition"]) == json.loads(
        (project / "statemachine/definition.asl.json").read_text())
    assert described["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/smlift-stepfunctions"
    tags = {t["key"]: t["value"] for t in sfn.list_tags_for_resource(resourceArn=SM_ARN)["tags"]}
    assert tags == {"smlift:deployment": "smlift", "smlift:bucket": BUCKET}
    code_uri = result.record["code_uri"]
    prefix = code_uri.removeprefix(f"s3://{BUCKET}/")
    assert prefix.startswith("smlift/code/") and len(prefix.split("/")[2]) == 64
    assert keys(prefix) == sorted(prefix + p.name for p in (project / "scripts").glob("*.py"))
    assert keys("smlift/deployments/") == ["smlift/deployments/smlift.json"]
    tagging = boto3.client("s3", region_name=REGION).get_object_tagging(
        Bucket=BUCKET, Key=keys(prefix)[0])["TagSet"]
    assert {t["Key"]: t["Value"] for t in tagging} == {"smlift:deployment": "smlift",
                                                       "smlift:bucket": BUCKET}


def test_second_deploy_with_no_change_plans_nothing_and_writes_nothing(aws, project):
    run(project)
    result, lines = run(project)
    assert result.plan.is_empty and not result.applied
    assert lines == ["Plan for deploy 'smlift': nothing to do, AWS already matches."]


def test_dry_run_shows_the_plan_and_changes_nothing(aws, project):
    result, lines = run(project, dry_run=True)
    assert not result.applied and len(result.plan.calls) == 10
    assert lines[0] == "Plan for deploy 'smlift': 10 API call(s)"
    assert any("create_state_machine(" in line for line in lines)
    assert role_names() == [] and keys() == []
    assert boto3.client("stepfunctions", region_name=REGION).list_state_machines()["stateMachines"] == []


def test_changed_script_uploads_a_new_code_prefix_and_keeps_the_state_machine(aws, project):
    first, _ = run(project)
    (project / "scripts" / "preprocessing.py").write_text("print('changed')\n", encoding="utf-8")
    second, _ = run(project)
    methods = [call.method for call in second.plan.calls]
    assert methods == ["put_object", "put_object", "put_object"]  # two scripts + the record
    assert second.record["code_uri"] != first.record["code_uri"]
    created = {item["id"] for item in second.record["created"]}
    assert {first.record["code_uri"] + "preprocessing.py",
            second.record["code_uri"] + "preprocessing.py"} <= created


def test_changed_definition_updates_the_state_machine_publishing_a_version(aws, project):
    run(project)
    path = project / "statemachine/definition.asl.json"
    definition = json.loads(path.read_text())
    definition["Comment"] = "changed"
    path.write_text(json.dumps(definition))
    result, _ = run(project)
    (call,) = [c for c in result.plan.calls if c.method != "put_object"]
    assert call.method == "update_state_machine"
    assert call.params["publish"] is True and call.params["versionDescription"]
    described = boto3.client("stepfunctions", region_name=REGION).describe_state_machine(
        stateMachineArn=SM_ARN)
    assert json.loads(described["definition"])["Comment"] == "changed"


def test_drifted_trust_and_policy_are_put_back(aws, project):
    run(project)
    iam = boto3.client("iam", region_name=REGION)
    iam.update_assume_role_policy(RoleName="smlift-sagemaker", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"Service": "ec2.amazonaws.com"}}]}))
    iam.put_role_policy(RoleName="smlift-image-build", PolicyName="imagebuild-policy",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    result, _ = run(project)
    assert [(c.method, c.params["RoleName"]) for c in result.plan.calls] == [
        ("update_assume_role_policy", "smlift-sagemaker"),
        ("put_role_policy", "smlift-image-build")]
    assert run(project)[0].plan.is_empty


def test_deploy_refuses_to_touch_a_role_it_did_not_create(aws, project):
    boto3.client("iam", region_name=REGION).create_role(
        RoleName="smlift-sagemaker", AssumeRolePolicyDocument=json.dumps({"Statement": []}))
    with pytest.raises(DeployError, match="smlift-sagemaker.*belongs to someone else"):
        run(project)
    assert role_names() == ["smlift-sagemaker"]  # the plan failed before anything was written


def test_destroy_removes_exactly_what_deploy_created(aws, project):
    iam = boto3.client("iam", region_name=REGION)
    iam.create_role(RoleName="unrelated-role", AssumeRolePolicyDocument=json.dumps({"Statement": []}))
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_object(Bucket=BUCKET, Key="smlift/code/not-ours.txt", Body=b"keep me")
    s3.put_object(Bucket=BUCKET, Key="data/input.csv", Body=b"a,b\n")
    run(project)
    (project / "scripts" / "preprocessing.py").write_text("print('v2')\n", encoding="utf-8")
    run(project)  # a second code prefix, also created by deploy
    lines: list[str] = []
    plan = destroy(client(), name="smlift", echo=lines.append)
    assert plan.calls[-1].method == "delete_object"
    assert role_names() == ["unrelated-role"]
    assert keys() == ["data/input.csv", "smlift/code/not-ours.txt"]
    sfn = boto3.client("stepfunctions", region_name=REGION)
    assert sfn.list_state_machines()["stateMachines"] == []
    with pytest.raises(DeployError, match="no deployment named 'smlift'"):
        lookup_deployment(client(), "smlift")


def test_destroy_dry_run_changes_nothing(aws, project):
    run(project)
    lines: list[str] = []
    plan = destroy(client(), name="smlift", dry_run=True, echo=lines.append)
    assert [c.method for c in plan.calls].count("delete_role") == 3
    assert role_names() == sorted(ROLES)
    assert lookup_deployment(client(), "smlift")["bucket"] == BUCKET


def test_destroy_skips_what_is_already_gone(aws, project):
    run(project)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    sfn.delete_state_machine(stateMachineArn=SM_ARN)
    plan = destroy(client(), name="smlift", bucket=BUCKET, echo=lambda _: None)
    assert "delete_state_machine" not in [c.method for c in plan.calls]
    assert role_names() == []


def test_lookup_deployment_finds_the_record_from_the_state_machine_tags(aws, project):
    run(project, name="team-a")
    record = lookup_deployment(client(), "team-a")
    assert record["state_machine_arn"].endswith(":stateMachine:team-a-pipeline")
    assert record["roles"]["sagemaker"] == f"arn:aws:iam::{ACCOUNT}:role/team-a-sagemaker"
    assert record["bucket"] == BUCKET and record["code_uri"].startswith(f"s3://{BUCKET}/smlift/code/")


def test_two_deployments_share_a_bucket_without_touching_each_other(aws, project):
    run(project, name="team-a")
    run(project, name="team-b")
    destroy(client(), name="team-a", echo=lambda _: None)
    assert role_names() == ["team-b-image-build", "team-b-sagemaker", "team-b-stepfunctions"]
    assert lookup_deployment(client(), "team-b")["name"] == "team-b"


def test_deploy_keeps_a_local_copy_of_the_record(aws, project, tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("SMLIFT_HOME", str(home))
    result, _ = run(project)
    local = json.loads((home / "deployments" / "smlift.json").read_text())
    assert local == result.record
    destroy(client(), name="smlift", echo=lambda _: None)
    assert not (home / "deployments" / "smlift.json").exists()


def test_cli_deploy_prints_console_link_and_ready_input(aws, project, monkeypatch):
    monkeypatch.chdir(project)
    runner = CliRunner()
    result = runner.invoke(cli, ["deploy", "--bucket", BUCKET, "--region", REGION])
    assert result.exit_code == 0, result.output
    assert f"#/statemachines/view/{SM_ARN}" in result.output
    ready = json.loads(result.output[result.output.rindex("\n{\n"):])
    assert ready["role"] == f"arn:aws:iam::{ACCOUNT}:role/smlift-sagemaker"
    assert ready["code_uri"].startswith(f"s3://{BUCKET}/smlift/code/")
    again = runner.invoke(cli, ["deploy", "--bucket", BUCKET, "--region", REGION])
    assert "Up to date: nothing was changed." in again.output


def test_cli_deploy_dry_run_then_destroy(aws, project, monkeypatch):
    monkeypatch.chdir(project)
    runner = CliRunner()
    dry = runner.invoke(cli, ["deploy", "--bucket", BUCKET, "--region", REGION, "--dry-run"])
    assert dry.exit_code == 0 and "Dry run: nothing was changed." in dry.output
    assert role_names() == []
    runner.invoke(cli, ["deploy", "--bucket", BUCKET, "--region", REGION])
    gone = runner.invoke(cli, ["destroy", "--region", REGION])
    assert gone.exit_code == 0, gone.output
    assert "Destroyed deployment 'smlift'" in gone.output and role_names() == []
