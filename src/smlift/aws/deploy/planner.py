"""The planner: compare current AWS state with a desired `Deployment` and return a `Plan`.

It only reads (get_role, get_role_policy, list_objects, describe_state_machine, ...); every write
is an `APICall` in the plan. What it compares:
    roles           exist? trust policy equal? each inline policy present and equal? tagged?
    code objects    each file of scripts/ present under the content-addressed code prefix
    state machine   exists? definition and role equal? tagged? (an update publishes a version)
    record          the record object equal to the record this deploy leaves behind?
So a deploy with nothing changed plans no call at all.

Ownership: a role or state machine that exists but carries another deployment's tag (or none) and
is not in this deployment's record is refused, never modified: deploy touches only its own things.
"""

from __future__ import annotations

import json
from typing import Callable
from urllib.parse import urlencode

from ..client import is_not_found, require_bucket
from ...errors import AwsError, DeployError
from .models import (RESOURCE_TYPES, TAG_DEPLOYMENT, Deployment, Plan, Resource, Role,
                     canonical, record_key)
from .record import build_record, created_resources, read_record, record_json

def plan_deploy(client, deployment: Deployment) -> Plan:
    """The calls that make AWS match `deployment` (none when it already does)."""
    require_bucket(client, deployment.bucket, DeployError)
    previous = read_record(client, deployment.bucket, deployment.name)
    plan = Plan("deploy", deployment.name, deployment.bucket, previous_record=previous)
    owned = set(created_resources(previous))
    for role in deployment.roles:
        _plan_role(client, deployment, role, plan, owned)
    _plan_code(client, deployment, plan)
    _plan_state_machine(client, deployment, plan, owned)
    created = owned | {call.creates for call in plan.calls if call.creates}
    plan.record = build_record(deployment, created)
    if previous != plan.record:
        plan.add("put_object", f"write the deployment record s3://{deployment.bucket}/"
                 f"{deployment.record_key}", Bucket=deployment.bucket, Key=deployment.record_key,
                 Body=record_json(plan.record), ContentType="application/json")
    return plan


def _read(fetch: Callable, **params) -> dict | None:
    """`fetch(**params)`, or None when AWS says there is no such thing."""
    try:
        return fetch(**params)
    except AwsError as exc:
        if is_not_found(exc):
            return None
        raise


def _tags(deployment: Deployment, style: str) -> list[dict]:
    key, value = ("Key", "Value") if style == "iam" else ("key", "value")
    return [{key: k, value: v} for k, v in sorted(deployment.tags.items())]


def _check_owner(kind: str, ident: str, tags: dict, resource: Resource, owned: set,
                 name: str) -> None:
    if tags.get(TAG_DEPLOYMENT) == name or resource in owned:
        return
    other = tags.get(TAG_DEPLOYMENT)
    whose = f"smlift deployment {other!r}" if other else "someone else (it has no smlift tag)"
    raise DeployError(f"{kind} {ident!r} already exists and belongs to {whose}",
                      where=ident, fix="deploy under another --name, or remove that "
                      f"{kind} yourself if it is not needed")


def _plan_role(client, deployment: Deployment, role: Role, plan: Plan, owned: set) -> None:
    current = _read(client.get_role, RoleName=role.name)
    if current is None:
        plan.add("create_role", f"create role {role.name}", Resource("iam_role", role.name),
                 RoleName=role.name, AssumeRolePolicyDocument=json.dumps(role.trust_policy),
                 Description=role.description or f"smlift {deployment.name}: {role.key}",
                 Tags=_tags(deployment, "iam"))
        tags: dict = dict(deployment.tags)
    else:
        tags = {t["Key"]: t["Value"] for t in client.list_role_tags(RoleName=role.name)}
        _check_owner("role", role.name, tags, Resource("iam_role", role.name), owned,
                     deployment.name)
        if canonical(current["Role"]["AssumeRolePolicyDocument"]) != canonical(role.trust_policy):
            plan.add("update_assume_role_policy", f"update the trust policy of role {role.name}",
                     RoleName=role.name, PolicyDocument=json.dumps(role.trust_policy))
    if any(tags.get(k) != v for k, v in deployment.tags.items()):
        plan.add("tag_role", f"tag role {role.name}", RoleName=role.name,
                 Tags=_tags(deployment, "iam"))
    for policy_name, document in sorted(role.policies.items()):
        have = None if current is None else _read(client.get_role_policy, RoleName=role.name,
                                                  PolicyName=policy_name)
        if have is not None and canonical(have["PolicyDocument"]) == canonical(document):
            continue
        verb = "create" if have is None else "update"
        plan.add("put_role_policy", f"{verb} inline policy {policy_name} of role {role.name}",
                 Resource("iam_role_policy", f"{role.name}/{policy_name}"), RoleName=role.name,
                 PolicyName=policy_name, PolicyDocument=json.dumps(document))


def _plan_code(client, deployment: Deployment, plan: Plan) -> None:
    present = {obj["Key"] for obj in client.list_objects(Bucket=deployment.bucket,
                                                        Prefix=deployment.code_prefix)}
    tagging = urlencode(sorted(deployment.tags.items()))  # S3 takes tags as a query string
    for obj in deployment.code_objects:
        if obj.key in present:
            continue
        uri = f"s3://{deployment.bucket}/{obj.key}"
        plan.add("put_object", f"upload scripts/{obj.relpath} to {uri}", Resource("s3_object", uri),
                 Bucket=deployment.bucket, Key=obj.key, Body=obj.body, Tagging=tagging)


def _plan_state_machine(client, deployment: Deployment, plan: Plan, owned: set) -> None:
    machine, arn = deployment.state_machine, deployment.state_machine_arn
    role_arn = deployment.role_arn(machine.role_key)
    version = f"smlift deploy {deployment.name}: definition sha256 {deployment.definition_sha[:12]}"
    current = _read(client.describe_state_machine, stateMachineArn=arn)
    if current is None:
        plan.add("create_state_machine", f"create state machine {machine.name} (publish version 1)",
                 Resource("state_machine", arn), name=machine.name, definition=machine.definition,
                 roleArn=role_arn, type="STANDARD", tags=_tags(deployment, "sfn"),
                 publish=True, versionDescription=version)
        return
    if current.get("status") == "DELETING":
        raise DeployError(f"state machine {machine.name!r} is still being deleted", where=arn,
                          fix="wait until its running executions end, then deploy again")
    tags = {t["key"]: t["value"] for t in client.list_tags_for_resource(resourceArn=arn)}
    _check_owner("state machine", arn, tags, Resource("state_machine", arn), owned,
                 deployment.name)
    if (canonical(current["definition"]) != canonical(machine.definition)
            or current.get("roleArn") != role_arn):
        plan.add("update_state_machine", f"update state machine {machine.name} (publish a new "
                 "version)", stateMachineArn=arn, definition=machine.definition, roleArn=role_arn,
                 publish=True, versionDescription=version)
    if any(tags.get(k) != v for k, v in deployment.tags.items()):
        plan.add("tag_resource", f"tag state machine {machine.name}", resourceArn=arn,
                 tags=_tags(deployment, "sfn"))


# -- destroy ----------------------------------------------------------------------------------
def plan_destroy(client, name: str, bucket: str) -> Plan:
    """The calls that remove exactly what deployment `name`'s record lists, then the record."""
    require_bucket(client, bucket, DeployError)
    record = read_record(client, bucket, name)
    if record is None:
        raise DeployError(f"no deployment record for {name!r} in s3://{bucket}/",
                          where=f"s3://{bucket}/{record_key(name)}",
                          fix="check --name, --bucket and --region (see `smlift deploy --dry-run`)")
    plan = Plan("destroy", name, bucket, previous_record=record)
    resources = sorted(created_resources(record), key=lambda r: (RESOURCE_TYPES.index(r.type), r.id))
    for resource in resources:
        _DESTROYERS[resource.type](client, resource, plan)
    plan.add("delete_object", f"delete the deployment record s3://{bucket}/{record_key(name)}",
             Bucket=bucket, Key=record_key(name))
    return plan


def _destroy_state_machine(client, resource: Resource, plan: Plan) -> None:
    if _read(client.describe_state_machine, stateMachineArn=resource.id) is not None:
        plan.add("delete_state_machine", f"delete state machine {resource.id} and its versions",
                 stateMachineArn=resource.id)


def _destroy_role_policy(client, resource: Resource, plan: Plan) -> None:
    role, policy = resource.id.split("/", 1)
    if _read(client.get_role_policy, RoleName=role, PolicyName=policy) is not None:
        plan.add("delete_role_policy", f"delete inline policy {policy} of role {role}",
                 RoleName=role, PolicyName=policy)


def _destroy_role(client, resource: Resource, plan: Plan) -> None:
    if _read(client.get_role, RoleName=resource.id) is not None:
        plan.add("delete_role", f"delete role {resource.id}", RoleName=resource.id)


def _destroy_object(client, resource: Resource, plan: Plan) -> None:
    bucket, _, key = resource.id.removeprefix("s3://").partition("/")
    if _read(client.head_object, Bucket=bucket, Key=key) is not None:
        plan.add("delete_object", f"delete {resource.id}", Bucket=bucket, Key=key)


_DESTROYERS = {
    "state_machine": _destroy_state_machine,
    "iam_role_policy": _destroy_role_policy,
    "iam_role": _destroy_role,
    "s3_object": _destroy_object,
}
