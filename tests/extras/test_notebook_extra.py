"""The `notebook` extra: `smlift.aws.notebook.attach(name)` gives the Step Functions Data Science SDK's
`Workflow` for the deployed state machine (against moto). Run by `make test-extras`; skipped by
`make test` when `stepfunctions` is not installed. The last tests run everywhere: without the
extra, attach says how to install it, and the core never imports the SDK."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from smlift.errors import SmliftError

REGION = "eu-west-1"
BUCKET = "smlift-notebook-bucket"
DEFINITION = Path(__file__).resolve().parents[2] / "statemachine" / "definition.asl.json"

needs_sdk = pytest.mark.skipif(importlib.util.find_spec("stepfunctions") is None,
                               reason="the notebook extra is not installed "
                                      "(pip install -e '.[notebook]'; make test-extras)")


@pytest.fixture
def deployed(monkeypatch):
    """A deployment as `smlift deploy` leaves it, made through AwsClient in moto."""
    from moto import mock_aws

    from smlift.aws.client import AwsClient
    from smlift.aws.deploy import models

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    machine_name = (models.resource_names("smlift")["state_machine"]
                    if hasattr(models, "resource_names") else "smlift")
    with mock_aws():
        client = AwsClient(region=REGION)
        role = client.create_role(RoleName="smlift-stepfunctions", AssumeRolePolicyDocument="{}")
        client.create_bucket(Bucket=BUCKET)
        arn = client.create_state_machine(
            name=machine_name, definition=DEFINITION.read_text(), roleArn=role["Role"]["Arn"],
            tags=[{"key": "smlift:bucket", "value": BUCKET}])["stateMachineArn"]
        client.put_object(Bucket=BUCKET, Key="smlift/deployments/smlift.json", Body=json.dumps(
            {"name": "smlift", "bucket": BUCKET, "state_machine_arn": arn, "roles": {},
             "code_uri": f"s3://{BUCKET}/smlift/code/x/"}).encode())
        yield client, arn


@pytest.mark.extras
@needs_sdk
def test_attach_returns_the_deployed_workflow(deployed):
    from stepfunctions.workflow import Workflow

    from smlift.aws.notebook import attach

    client, arn = deployed
    workflow = attach("smlift", client=client)
    assert isinstance(workflow, Workflow)
    assert workflow.state_machine_arn == arn
    assert workflow.definition.to_dict() == json.loads(DEFINITION.read_text())


@pytest.mark.extras
@needs_sdk
def test_attached_workflow_executes_and_lists_executions(deployed):
    from smlift.aws.notebook import attach

    client, arn = deployed
    workflow = attach("smlift", client=client)
    execution = workflow.execute(name="from-notebook", inputs={"input_uri": "s3://data-bucket/in/"})
    assert execution.execution_arn.endswith(":from-notebook")
    listed = workflow.list_executions()
    assert [e.execution_arn for e in listed] == [execution.execution_arn]
    described = client.describe_execution(executionArn=execution.execution_arn)
    assert json.loads(described["input"]) == {"input_uri": "s3://data-bucket/in/"}
    if importlib.util.find_spec("IPython") is not None:  # what a notebook has
        assert "Preprocess" in execution.render_progress().data


@pytest.mark.extras
@needs_sdk
def test_attach_honours_aws_region_and_endpoint_by_default(deployed):
    from smlift.aws.notebook import attach

    _, arn = deployed
    assert attach().state_machine_arn == arn


def test_attach_without_the_extra_says_how_to_install_it(monkeypatch):
    from smlift.aws.notebook import attach

    monkeypatch.setitem(sys.modules, "stepfunctions", None)
    monkeypatch.setitem(sys.modules, "stepfunctions.workflow", None)
    with pytest.raises(SmliftError) as info:
        attach("smlift")
    assert "pip install 'smlift[notebook]'" in str(info.value)


def test_core_and_cli_never_import_the_extras():
    code = ("import sys, smlift, smlift.registry, smlift.starter, smlift.follow, smlift.aws.notebook, "
            "smlift.cli.models, smlift.cli.start, smlift.cli.follow; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('stepfunctions', 'sagemaker', 'sagemaker_studio_image_build', 'boto3')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
