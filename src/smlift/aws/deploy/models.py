"""What a deployment is made of, and the plan of API calls that brings AWS there.

    Deployment      the desired state: three roles with their inline policies, the step code
                    under a content-addressed prefix, the state machine, all tagged
    Role, CodeObject, StateMachine   its resources
    Resource        one thing deploy created, as the deployment record lists it
    APICall         one AwsClient method with its keyword arguments, a line for humans and,
                    when the call creates something, the Resource it creates
    Plan            the ordered calls, plus the record to write once they have run

Every ARN here is computed (account, region and names are known before anything runs), so calls
never depend on the output of earlier calls and a plan prints exactly what will be sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

TAG_DEPLOYMENT = "smlift:deployment"
TAG_BUCKET = "smlift:bucket"
RECORD_PREFIX = "smlift/deployments/"
CODE_PREFIX = "smlift/code/"
RECORD_FORMAT = 1

# the deployment record's resource types, in the order destroy removes them
RESOURCE_TYPES = ("state_machine", "iam_role_policy", "iam_role", "s3_object")


@dataclass(frozen=True)
class Role:
    key: str                      # "stepfunctions", "sagemaker" or "imagebuild"
    name: str
    trust_policy: dict
    policies: dict[str, dict]     # inline policy name -> policy document
    description: str = ""


@dataclass(frozen=True)
class CodeObject:
    key: str                      # s3 key under the code prefix
    relpath: str                  # path under scripts/
    body: bytes = field(repr=False)


@dataclass(frozen=True)
class StateMachine:
    name: str
    definition: str               # the ASL JSON text as uploaded
    role_key: str = "stepfunctions"


@dataclass(frozen=True)
class Deployment:
    """The desired state of one named deployment."""

    name: str
    bucket: str
    region: str
    account_id: str
    partition: str
    roles: tuple[Role, ...]
    code_prefix: str              # smlift/code/<sha256>/
    code_objects: tuple[CodeObject, ...]
    state_machine: StateMachine
    definition_sha: str = ""
    input_prefix: str = ""        # s3:// prefixes the SageMaker role may read from / write to
    output_prefix: str = ""
    scikit_image_uri: str = ""    # the region's prebuilt scikit-learn image

    @property
    def tags(self) -> dict[str, str]:
        return {TAG_DEPLOYMENT: self.name, TAG_BUCKET: self.bucket}

    def role_arn(self, key: str) -> str:
        return role_arn(self.partition, self.account_id, self.role(key).name)

    def role(self, key: str) -> Role:
        return next(role for role in self.roles if role.key == key)

    @property
    def state_machine_arn(self) -> str:
        return state_machine_arn(self.partition, self.region, self.account_id,
                                 self.state_machine.name)

    @property
    def code_uri(self) -> str:
        return f"s3://{self.bucket}/{self.code_prefix}"

    @property
    def record_key(self) -> str:
        return record_key(self.name)


@dataclass(frozen=True, order=True)
class Resource:
    """One thing a deployment created: `id` is a role name, "ROLE/POLICY", an ARN or an s3 URI."""

    type: str
    id: str

    def to_json(self) -> dict:
        return {"type": self.type, "id": self.id}


@dataclass(frozen=True)
class APICall:
    method: str                   # an AwsClient method name
    params: dict[str, Any]
    description: str
    creates: Resource | None = None

    def shown_params(self) -> dict[str, Any]:
        """The parameters as printed: bodies and documents shortened."""
        return {key: _short(value) for key, value in self.params.items()}


@dataclass
class Plan:
    action: str                   # "deploy" or "destroy"
    name: str
    bucket: str
    calls: list[APICall] = field(default_factory=list)
    record: dict | None = None    # the record after a successful apply (deploy only)
    previous_record: dict | None = None

    @property
    def is_empty(self) -> bool:
        return not self.calls

    def add(self, method: str, description: str, creates: Resource | None = None,
            **params: Any) -> None:
        self.calls.append(APICall(method, params, description, creates))


def resource_names(name: str) -> dict[str, str]:
    """The AWS names of deployment `name`'s resources (deployment "smlift": smlift-pipeline,
    smlift-stepfunctions, smlift-sagemaker, smlift-image-build)."""
    return {"state_machine": f"{name}-pipeline", "stepfunctions": f"{name}-stepfunctions",
            "sagemaker": f"{name}-sagemaker", "imagebuild": f"{name}-image-build"}


def role_arn(partition: str, account_id: str, name: str) -> str:
    return f"arn:{partition}:iam::{account_id}:role/{name}"


def state_machine_arn(partition: str, region: str, account_id: str, name: str) -> str:
    return f"arn:{partition}:states:{region}:{account_id}:stateMachine:{name}"


def record_key(name: str) -> str:
    return f"{RECORD_PREFIX}{name}.json"


def canonical(document: Any) -> str:
    """A JSON document in one canonical spelling, to compare desired and current state."""
    if isinstance(document, str):
        document = json.loads(document)
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def _short(value: Any) -> Any:
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, str) and len(value) > 120:
        return value[:100] + f"... <{len(value)} chars>"
    return value
