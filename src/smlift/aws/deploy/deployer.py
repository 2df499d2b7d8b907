"""`deploy` and `destroy`: what `smlift deploy` / `smlift destroy` call.

deploy:   project files --desired.py--> Deployment --planner--> Plan --executor--> AWS
          1. build the desired state from iam/, scripts/ and statemachine/ (reads files only)
          2. plan: read the current state through AwsClient, list the calls that close the gap
          3. show the plan (DisplayOnlyExecutor); with dry_run, stop here
          4. apply it (Executor), then keep a local copy of the record
          An up-to-date deployment plans nothing, and then nothing is written.

destroy:  record --planner--> Plan (delete exactly what the record lists, then the record)
          --> shown, then applied unless dry_run; the local copy goes last.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ...errors import AwsError, DeployError
from .desired import check_name, default_bucket, desired_deployment
from .executor import DisplayOnlyExecutor, Executor
from .models import Plan
from .planner import plan_deploy, plan_destroy
from .record import (find_bucket, local_record_path, read_record, remove_local_copy,
                     save_local_copy)


@dataclass
class DeployResult:
    plan: Plan
    applied: bool                  # False for --dry-run (or nothing to do)
    record: dict
    console_url: str
    input: dict = field(default_factory=dict)   # a paste-ready execution input


def deploy(client, *, project_root: str | Path = ".", name: str = "smlift",
           bucket: str | None = None, input_prefix: str | None = None,
           output_prefix: str | None = None, dry_run: bool = False,
           echo: Callable[[str], None] = print) -> DeployResult:
    desired = desired_deployment(client, project_root=project_root, name=name, bucket=bucket,
                                 input_prefix=input_prefix, output_prefix=output_prefix)
    plan = plan_deploy(client, desired)
    DisplayOnlyExecutor(echo).execute(plan)
    applied = not dry_run and not plan.is_empty
    if applied:
        echo("Applying:")
        Executor(client, echo).execute(plan)
    if not dry_run:
        save_local_copy(plan.record)
    return DeployResult(plan, applied, plan.record, console_url(plan.record),
                        ready_input(plan.record))


def destroy(client, *, name: str = "smlift", bucket: str | None = None, dry_run: bool = False,
            echo: Callable[[str], None] = print) -> Plan:
    check_name(name)
    plan = plan_destroy(client, name, bucket or destroy_bucket(client, name))
    DisplayOnlyExecutor(echo).execute(plan)
    if not dry_run:
        echo("Applying:")
        Executor(client, echo).execute(plan)
        remove_local_copy(name)
    return plan


def destroy_bucket(client, name: str) -> str:
    """Where deployment `name`'s record is: the state machine's tag, else the local copy's
    bucket, else the default bucket (a half-destroyed deployment has no state machine)."""
    try:
        return find_bucket(client, name)
    except DeployError:
        local = local_record_path(name)
        if local.is_file():
            return json.loads(local.read_text())["bucket"]
        bucket = default_bucket(client)
        try:
            if read_record(client, bucket, name) is not None:
                return bucket
        except (AwsError, DeployError):
            pass
        raise


def console_url(record: dict) -> str:
    region, arn = record["region"], record["state_machine_arn"]
    domain = "console.amazonaws.cn" if region.startswith("cn-") else "console.aws.amazon.com"
    return f"https://{region}.{domain}/states/home?region={region}#/statemachines/view/{arn}"


def ready_input(record: dict, model: str = "my-model") -> dict:
    """An execution input for the console: the deployment filled in, the model's parts to edit."""
    registry = (f"{record['account_id']}.dkr.ecr.{record['region']}.amazonaws.com"
                + (".cn" if record["region"].startswith("cn-") else ""))
    return {
        "input_uri": f"{record['input_prefix']}{model}/",
        "output_uri": f"{record['output_prefix']}{model}/",
        "code_uri": record["code_uri"],
        "custom_image_uri": f"{registry}/sagemaker-inference:latest",
        "scikit_image_uri": record["scikit_image_uri"],
        "role": record["roles"]["sagemaker"],
        "model_name": model,
    }
