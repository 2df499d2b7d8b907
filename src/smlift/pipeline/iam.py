"""The IAM roles of the pipeline: JSON templates under `iam/` with `${Placeholders}`.

Three roles, each a trust policy and a permission policy (`iam/<role>-trust.json`,
`iam/<role>-policy.json`):

    stepfunctions   the state machine's role: run our processing jobs (.sync), pass one role
    sagemaker       the jobs' execution role: read input and code, write output, pull, log
    imagebuild      the CodeBuild role of remote image builds: `smlift build --remote` and
                    sm-docker's (its project, log group, context and repository names are
                    written into the policy; smlift.pipeline.smdocker lists them)

`render` fills the placeholders in (on the parsed JSON, so a value never breaks the quoting) and
refuses to leave any unfilled, naming each one and its file. `values_for_input` derives the values
from a `PipelineInput` (account and role from `role`, region and repositories from the image URIs,
buckets and prefixes from the S3 URIs). `allows` is the small policy evaluator `smlift validate`
uses to prove that the rendered policies grant what the definition needs: Allow/Deny, wildcard
actions and resources, and the StringEquals/StringLike/ArnLike conditions our policies use.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .. import layout
from ..errors import InputError
from ..names import BUILD_CONTEXT_PREFIX, BUILD_PROJECT_PREFIX
from . import read_json_file

ROLES = ("stepfunctions", "sagemaker", "imagebuild")
TRUSTED_SERVICE = {"stepfunctions": "states.amazonaws.com", "sagemaker": "sagemaker.amazonaws.com",
                   "imagebuild": "codebuild.amazonaws.com"}
JOB_NAME_PREFIX = "smlift-"  # every job name in statemachine/definition.asl.json starts with it
STATE_MACHINE_NAME = "smlift-pipeline"
SCIKIT_IMAGE_ACCOUNT_US_EAST_1 = "683313688378"
# `smlift build --remote`'s names (${BuildContextPrefix}, ${BuildProject}); the image-build
# policy names sm-docker's own (smlift.pipeline.smdocker) literally, so one role serves both routes.
BUILD_PROJECT = BUILD_PROJECT_PREFIX + "*"
PLACEHOLDER = re.compile(r"\$\{([A-Za-z][A-Za-z0-9]*)\}")
# Actions that have no resource-level permissions: "Resource": "*" is the only choice.
RESOURCE_WILDCARD_ONLY = frozenset({"ecr:getauthorizationtoken", "cloudwatch:putmetricdata"})


@dataclass(frozen=True)
class RolePolicies:
    role: str
    trust: dict
    policy: dict
    trust_file: Path
    policy_file: Path


def default_iam_dir() -> Path:
    return layout.IAM


def placeholders(document: Any) -> set[str]:
    """Every `${Name}` in a JSON document."""
    found: set[str] = set()
    _walk_strings(document, lambda text: found.update(PLACEHOLDER.findall(text)) or text)
    return found


def render(document: Any, values: Mapping[str, Any], *, source: str = "") -> Any:
    """A copy of `document` with every `${Name}` replaced; InputError naming any left unfilled."""
    missing = sorted(name for name in placeholders(document) if values.get(name) is None)
    if missing:
        names = ", ".join(f"${{{name}}}" for name in missing)
        raise InputError(f"placeholder{'s' if len(missing) > 1 else ''} {names} "
                         f"{'have' if len(missing) > 1 else 'has'} no value", where=source or None,
                         fix=f"give a value for {', '.join(missing)} (see docs/iam.md)")
    return _walk_strings(document, lambda text: PLACEHOLDER.sub(lambda m: str(values[m[1]]), text))


def _walk_strings(node: Any, change) -> Any:
    if isinstance(node, str):
        return change(node)
    if isinstance(node, list):
        return [_walk_strings(item, change) for item in node]
    if isinstance(node, dict):
        return {key: _walk_strings(value, change) for key, value in node.items()}
    return node


def read_json(path: Path) -> Any:
    return read_json_file(path, "restore it from the repository's iam/ folder")


def read_policy(path: Path) -> dict:
    """A policy document: a JSON object whose Statement is an object or a list of objects
    (InputError naming the file and the pointer otherwise)."""
    document = read_json(path)
    fix = 'write {"Version": "2012-10-17", "Statement": [{"Effect": ..., "Action": ..., ...}]}'
    if not isinstance(document, dict):
        raise InputError("a policy must be a JSON object", where=str(path), fix=fix)
    statements = document.get("Statement", [])
    for index, statement in enumerate(statements if isinstance(statements, list) else [statements]):
        if not isinstance(statement, dict):
            pointer = f"/Statement/{index}" if isinstance(statements, list) else "/Statement"
            raise InputError("a statement must be a JSON object", where=f"{path}:{pointer}", fix=fix)
    return document


def load_templates(iam_dir: str | Path | None = None) -> dict[str, RolePolicies]:
    """The unrendered trust and permission policies of every role."""
    folder = Path(iam_dir) if iam_dir is not None else default_iam_dir()
    if not folder.is_dir():
        raise InputError("no such folder" if not folder.exists() else "not a folder",
                         where=str(folder), fix="pass --iam the folder of policy templates (iam/)")
    roles = {}
    for role in ROLES:
        trust_file, policy_file = folder / f"{role}-trust.json", folder / f"{role}-policy.json"
        roles[role] = RolePolicies(role, read_policy(trust_file), read_policy(policy_file),
                                   trust_file, policy_file)
    return roles


def load_policies(iam_dir: str | Path | None = None,
                  values: Mapping[str, Any] | None = None) -> dict[str, RolePolicies]:
    """Every role's policies, rendered with `values` (InputError if a placeholder has none)."""
    rendered = {}
    for role, templates in load_templates(iam_dir).items():
        rendered[role] = RolePolicies(
            role, render(templates.trust, values or {}, source=str(templates.trust_file)),
            render(templates.policy, values or {}, source=str(templates.policy_file)),
            templates.trust_file, templates.policy_file)
    return rendered


# --- values from the execution input ------------------------------------------------------------

ECR_IMAGE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/"
                  r"(?P<repository>[^:@]+)")


def split_s3(uri: str) -> tuple[str, str]:
    """`s3://bucket/a/b/` -> ("bucket", "a/b/")."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def image_repository(uri: str) -> str:
    """The repository name of an image URI (ECR or `name:tag`)."""
    match = ECR_IMAGE.match(uri)
    if match:
        return match["repository"]
    return re.split(r"[:@]", uri.rsplit("/", 1)[-1], maxsplit=1)[0]


def values_for_input(pipeline, *, account_id: str | None = None, region: str | None = None,
                     state_machine_name: str = STATE_MACHINE_NAME,
                     job_name_prefix: str = JOB_NAME_PREFIX, build_bucket: str | None = None,
                     build_context_prefix: str = BUILD_CONTEXT_PREFIX,
                     build_project: str = BUILD_PROJECT) -> dict[str, str]:
    """Placeholder values for a `PipelineInput`; keyword arguments override what is derived."""
    role_account = pipeline.role.split(":")[4]
    role_name = pipeline.role.split(":role", 1)[1].lstrip("/")
    images = [ECR_IMAGE.match(pipeline.custom_image_uri), ECR_IMAGE.match(pipeline.scikit_image_uri)]
    region = region or next((m["region"] for m in images if m), "us-east-1")
    account_id = account_id or role_account
    values = {
        "AccountId": account_id, "Region": region, "StateMachineName": state_machine_name,
        "JobNamePrefix": job_name_prefix, "SageMakerRoleName": role_name,
        "ImageRepository": image_repository(pipeline.custom_image_uri),
        "ScikitImageAccount": images[1]["account"] if images[1] else SCIKIT_IMAGE_ACCOUNT_US_EAST_1,
        "BuildBucket": build_bucket or f"sagemaker-{region}-{account_id}",
        "BuildContextPrefix": build_context_prefix, "BuildProject": build_project,
    }
    for name, uri in (("Input", pipeline.input_uri), ("Code", pipeline.code_uri),
                      ("Output", pipeline.output_uri)):
        values[f"{name}Bucket"], values[f"{name}Prefix"] = split_s3(uri)
    return values


# --- a small policy evaluator -------------------------------------------------------------------

def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _like(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    if ignore_case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


CONDITIONS = {
    "StringEquals": lambda want, have: want == have,
    "StringLike": lambda want, have: _like(want, have),
    "ArnEquals": lambda want, have: want == have,
    "ArnLike": lambda want, have: _like(want, have),
}


def _conditions_hold(condition: Any, context: Mapping[str, str]) -> bool:
    for operator, tests in (condition or {}).items():
        check = CONDITIONS.get(operator)
        if check is None:
            return False  # an operator we cannot evaluate: do not count the statement
        for key, wanted in tests.items():
            have = context.get(key)
            if have is None or not any(check(str(w), have) for w in _as_list(wanted)):
                return False
    return True


def statement_matches(statement: dict, action: str, resource: str,
                      context: Mapping[str, str] | None = None) -> bool:
    actions = _as_list(statement.get("Action", []))
    resources = _as_list(statement.get("Resource", []))
    return (any(_like(a, action, ignore_case=True) for a in actions)
            and any(_like(r, resource) for r in resources)
            and _conditions_hold(statement.get("Condition"), context or {}))


def allows(policy: dict, action: str, resource: str,
           context: Mapping[str, str] | None = None) -> bool:
    """True when `policy` allows `action` on `resource` (an explicit Deny wins)."""
    statements = _as_list(policy.get("Statement", []))
    if any(s.get("Effect") == "Deny" and statement_matches(s, action, resource, context)
           for s in statements):
        return False
    return any(s.get("Effect") == "Allow" and statement_matches(s, action, resource, context)
               for s in statements)


def trusted_services(trust: dict) -> set[str]:
    services: set[str] = set()
    for statement in _as_list(trust.get("Statement", [])):
        if statement.get("Effect") == "Allow" and "sts:AssumeRole" in _as_list(statement.get("Action")):
            principal = statement.get("Principal") or {}
            services.update(_as_list(principal.get("Service", [])) if isinstance(principal, dict) else [])
    return services


def broad_grants(policy: dict) -> list[tuple[str, str]]:
    """(JSON pointer, message) for each Allow on `*` where a scoped resource works, and for each
    service-wide action wildcard such as `s3:*`."""
    found = []
    for index, statement in enumerate(_as_list(policy.get("Statement", []))):
        if statement.get("Effect") != "Allow":
            continue
        actions = [str(a) for a in _as_list(statement.get("Action", []))]
        for action in actions:
            if action == "*" or action.endswith(":*"):
                found.append((f"/Statement/{index}/Action",
                              f"{action!r} grants every action; list the actions needed"))
        if "*" in _as_list(statement.get("Resource", [])):
            scoped = [a for a in actions if a.lower() not in RESOURCE_WILDCARD_ONLY]
            if scoped:
                found.append((f"/Statement/{index}/Resource",
                              f"'*' for {', '.join(scoped)}, which can be scoped to an ARN"))
    return found
