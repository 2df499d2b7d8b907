"""iam/endpoints-deployer-policy.json allows every AWS operation `smlift endpoints` calls, and
nothing the plans never call; the execution role's addition covers hosting's logs and async S3."""

import inspect
import json
import re
from pathlib import Path

import botocore.session

from smlift.serving import remote

REPO = Path(__file__).resolve().parents[2]
IAM_PREFIX = {"sagemaker": "sagemaker", "sagemaker-runtime": "sagemaker",
              "application-autoscaling": "application-autoscaling"}
# AwsClient methods smlift.serving.remote calls (the plans name them as strings)
CALLED = ["create_model", "describe_model", "delete_model", "list_models",
          "create_endpoint_config", "describe_endpoint_config", "delete_endpoint_config",
          "list_endpoint_configs", "create_endpoint", "update_endpoint", "describe_endpoint",
          "delete_endpoint", "list_tags", "invoke_endpoint", "invoke_endpoint_async",
          "register_scalable_target", "describe_scalable_targets", "deregister_scalable_target",
          "put_scaling_policy"]
SERVICE = {"invoke_endpoint": "sagemaker-runtime", "invoke_endpoint_async": "sagemaker-runtime",
           "register_scalable_target": "application-autoscaling",
           "describe_scalable_targets": "application-autoscaling",
           "deregister_scalable_target": "application-autoscaling",
           "put_scaling_policy": "application-autoscaling"}


def allowed(policy: dict) -> set[str]:
    actions = set()
    for statement in policy["Statement"]:
        names = statement["Action"]
        actions.update([names] if isinstance(names, str) else names)
    return actions


def action(method: str) -> str:
    service = SERVICE.get(method, "sagemaker")
    model = botocore.session.get_session().get_service_model(service)
    operation = next(op for op in model.operation_names
                     if re.sub(r"(?<!^)(?=[A-Z])", "_", op).lower() == method)
    return f"{IAM_PREFIX[service]}:{operation}"


def test_every_called_method_is_named_in_the_source():
    source = inspect.getsource(remote)
    assert all(f"{name}" in source for name in CALLED)


def test_the_deployer_policy_allows_every_operation_endpoints_call():
    policy = json.loads((REPO / "iam" / "endpoints-deployer-policy.json").read_text())
    missing = sorted({action(m) for m in CALLED} - allowed(policy))
    assert missing == []
    assert "sagemaker:*" not in allowed(policy) and "*" not in allowed(policy)


def test_passrole_only_to_sagemaker():
    policy = json.loads((REPO / "iam" / "endpoints-deployer-policy.json").read_text())
    statement = next(s for s in policy["Statement"] if s["Action"] == "iam:PassRole")
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


def test_the_execution_role_addition_covers_logs_and_async_output():
    policy = json.loads((REPO / "iam" / "endpoints-execution-policy.json").read_text())
    assert {"logs:PutLogEvents", "s3:GetObject", "s3:PutObject"} <= allowed(policy)
