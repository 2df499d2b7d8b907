"""Pure parts of deploy: code addressing, names, records, plan display, and the executor's
retry and partial record, with a small fake client (no AWS, no moto)."""

from __future__ import annotations

import json

import pytest

from smlift.aws.deploy.desired import check_name, code_objects
from smlift.aws.deploy.executor import DisplayOnlyExecutor, Executor
from smlift.aws.deploy.models import Plan, Resource, canonical, resource_names
from smlift.aws.deploy.record import build_record_from, created_resources
from smlift.errors import AwsError, DeployError, InputError


class FakeClient:
    """Answers the methods a plan calls; `failures` maps a method to errors to raise first."""

    def __init__(self, failures=None):
        self.failures = {k: list(v) for k, v in (failures or {}).items()}
        self.calls: list[tuple[str, dict]] = []
        self.slept: list[float] = []

    def sleep(self, seconds):
        self.slept.append(seconds)

    def __getattr__(self, method):
        def call(**params):
            self.calls.append((method, params))
            pending = self.failures.get(method)
            if pending:
                raise pending.pop(0)
            return {}
        return call


def _plan() -> Plan:
    plan = Plan("deploy", "smlift", "bucket-1", previous_record={
        "created": [{"type": "iam_role", "id": "old-role"}]})
    plan.record = {"name": "smlift", "created": []}
    plan.add("create_role", "create role r", Resource("iam_role", "r"), RoleName="r")
    plan.add("create_state_machine", "create state machine", Resource("state_machine", "arn:sm"),
             name="sm")
    plan.add("put_object", "write the record", Bucket="bucket-1", Key="k", Body=b"{}")
    return plan


def test_code_prefix_is_the_same_for_the_same_files_and_changes_with_them(tmp_path):
    (tmp_path / "a.py").write_text("a")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "b.py").write_text("b")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"junk")
    first, objects = code_objects(tmp_path)
    assert [o.relpath for o in objects] == ["a.py", "pkg/b.py"]
    assert all(o.key == first + o.relpath for o in objects)
    assert code_objects(tmp_path)[0] == first
    (tmp_path / "a.py").write_text("a2")
    assert code_objects(tmp_path)[0] != first


def test_renaming_a_file_changes_the_code_prefix(tmp_path):
    (tmp_path / "a.py").write_text("same")
    first, _ = code_objects(tmp_path)
    (tmp_path / "a.py").rename(tmp_path / "c.py")
    assert code_objects(tmp_path)[0] != first


def test_empty_scripts_folder_is_refused(tmp_path):
    with pytest.raises(InputError, match="holds no files"):
        code_objects(tmp_path)


@pytest.mark.parametrize("name", ["smlift", "team-a", "A1", "x" * 40])
def test_valid_deployment_names(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "-a", "a-", "has space", "under_score", "x" * 41])
def test_invalid_deployment_names(name):
    with pytest.raises(InputError):
        check_name(name)


def test_resource_names_fit_the_iam_contract_defaults():
    assert resource_names("smlift") == {
        "state_machine": "smlift-pipeline", "stepfunctions": "smlift-stepfunctions",
        "sagemaker": "smlift-sagemaker", "imagebuild": "smlift-image-build"}


def test_canonical_ignores_key_order_and_spacing():
    assert canonical('{"b": 1, "a": [1, 2]}') == canonical({"a": [1, 2], "b": 1})
    assert canonical({"a": [1, 2]}) != canonical({"a": [2, 1]})


def test_partial_record_lists_previous_and_newly_created():
    record = build_record_from({"name": "x", "created": []},
                               {"created": [{"type": "iam_role", "id": "a"}]},
                               [Resource("s3_object", "s3://b/k"), Resource("iam_role", "a")])
    assert created_resources(record) == [Resource("iam_role", "a"), Resource("s3_object", "s3://b/k")]


def test_display_only_executor_prints_every_call_and_calls_nothing():
    lines: list[str] = []
    DisplayOnlyExecutor(lines.append).execute(_plan())
    assert lines[0] == "Plan for deploy 'smlift': 3 API call(s)"
    assert lines[1].startswith("  1. create role r\n       create_role(RoleName=\"r\")")
    assert 'Body="<2 bytes>"' in lines[3]


def test_display_of_an_empty_plan_says_nothing_to_do():
    lines: list[str] = []
    DisplayOnlyExecutor(lines.append).execute(Plan("deploy", "smlift", "b"))
    assert lines == ["Plan for deploy 'smlift': nothing to do, AWS already matches."]


def test_executor_retries_a_state_machine_while_the_new_role_is_not_assumable():
    not_ready = AwsError("AccessDeniedException: role cannot be assumed", code="AccessDeniedException")
    client = FakeClient({"create_state_machine": [not_ready, not_ready]})
    created = Executor(client, echo=lambda _: None).execute(_plan())
    assert [m for m, _ in client.calls] == ["create_role", "create_state_machine",
                                            "create_state_machine", "create_state_machine",
                                            "put_object"]
    assert client.slept == [3.0, 3.0]
    assert created == [Resource("iam_role", "r"), Resource("state_machine", "arn:sm")]


def test_executor_failure_records_what_was_created_so_far_and_names_the_step():
    denied = AwsError("AccessDenied: no", code="AccessDenied", where="stepfunctions:create",
                      fix="grant it")
    client = FakeClient({"create_state_machine": [denied] * 10})
    with pytest.raises(DeployError, match="create state machine failed: AccessDenied: no"):
        Executor(client, echo=lambda _: None).execute(_plan())
    method, params = client.calls[-1]
    assert method == "put_object" and params["Key"] == "smlift/deployments/smlift.json"
    written = json.loads(params["Body"])
    assert created_resources(written) == [Resource("iam_role", "old-role"), Resource("iam_role", "r")]


def test_executor_does_not_retry_other_errors():
    client = FakeClient({"create_role": [AwsError("EntityAlreadyExists", code="EntityAlreadyExists")]})
    with pytest.raises(DeployError):
        Executor(client, echo=lambda _: None).execute(_plan())
    assert client.slept == []


def test_executor_interrupted_still_records_what_was_created():
    client = FakeClient({"create_state_machine": [KeyboardInterrupt()]})
    with pytest.raises(KeyboardInterrupt):
        Executor(client, echo=lambda _: None).execute(_plan())
    method, params = client.calls[-1]
    assert method == "put_object"
    assert Resource("iam_role", "r") in created_resources(json.loads(params["Body"]))


def test_deploy_cli_module_imports_no_boto3():
    import subprocess
    import sys

    code = ("import sys, smlift.cli.deploy, smlift.aws.deploy, smlift.aws.remote_build; "
            "sys.exit(int(any(m.split('.')[0] in ('boto3', 'botocore') for m in sys.modules)))")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
