"""The deployment record: what one named deployment is and exactly what it created.

It lives in three places that agree:
- tags on every role and on the state machine (`smlift:deployment=NAME`, `smlift:bucket=BUCKET`),
  so the deployment can be found from the state machine alone;
- the record object `s3://BUCKET/smlift/deployments/NAME.json` (the truth `destroy` reads);
- a local copy `$SMLIFT_HOME/deployments/NAME.json`, for humans and for offline reading.

The record holds no timestamps, so a deploy with no change writes nothing. Its `created` list
only ever grows (a changed scripts/ folder adds a new code prefix; the old one stays listed) until
`smlift destroy` removes every listed resource.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable

from ...errors import AwsError, DeployError
from ...local.home import smlift_home
from .models import (RECORD_FORMAT, TAG_BUCKET, Deployment, Resource, record_key,
                     resource_names, state_machine_arn)


def build_record(deployment: Deployment, created: Iterable[Resource]) -> dict:
    """The record of `deployment`, listing `created` (deduplicated, in a stable order)."""
    return {
        "format": RECORD_FORMAT,
        "name": deployment.name,
        "region": deployment.region,
        "account_id": deployment.account_id,
        "bucket": deployment.bucket,
        "state_machine_name": deployment.state_machine.name,
        "state_machine_arn": deployment.state_machine_arn,
        "roles": {role.key: deployment.role_arn(role.key) for role in deployment.roles},
        "role_names": {role.key: role.name for role in deployment.roles},
        "code_uri": deployment.code_uri,
        "input_prefix": deployment.input_prefix,
        "output_prefix": deployment.output_prefix,
        "scikit_image_uri": deployment.scikit_image_uri,
        "created": [res.to_json() for res in sorted(set(created))],
    }


def build_record_from(record: dict, previous: dict | None, created: Iterable[Resource]) -> dict:
    """`record` listing only what `previous` listed plus `created` (after a failed apply)."""
    resources = set(created_resources(previous)) | set(created)
    return dict(record, created=[res.to_json() for res in sorted(resources)])


def created_resources(record: dict | None) -> list[Resource]:
    return [Resource(item["type"], item["id"]) for item in (record or {}).get("created", [])]


def record_json(record: dict) -> bytes:
    return (json.dumps(record, indent=2, sort_keys=True) + "\n").encode()


def read_record(client, bucket: str, name: str) -> dict | None:
    """The record object of deployment `name` in `bucket`, or None when there is none."""
    try:
        body = client.get_object(Bucket=bucket, Key=record_key(name))["Body"]
    except AwsError as exc:
        if exc.code in ("NoSuchKey", "404"):
            return None
        raise
    try:
        return json.loads(body)
    except ValueError as exc:
        raise DeployError(f"the deployment record is not JSON: {exc}",
                          where=f"s3://{bucket}/{record_key(name)}",
                          fix="delete the object and deploy again") from None


def local_record_path(name: str, home: Path | None = None) -> Path:
    return Path(home or smlift_home()) / "deployments" / f"{name}.json"


def save_local_copy(record: dict, home: Path | None = None) -> Path:
    """Write the local copy atomically (temp name, then rename)."""
    path = local_record_path(record["name"], home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(record_json(record))
    tmp.replace(path)
    return path


def remove_local_copy(name: str, home: Path | None = None) -> None:
    local_record_path(name, home).unlink(missing_ok=True)


def find_bucket(client, name: str) -> str:
    """The bucket of deployment `name`, read from its state machine's `smlift:bucket` tag."""
    arn = state_machine_arn(client.partition, client.region, client.account_id,
                            resource_names(name)["state_machine"])
    try:
        client.describe_state_machine(stateMachineArn=arn)
        tags = client.list_tags_for_resource(resourceArn=arn)
    except AwsError as exc:
        if exc.code in ("ResourceNotFound", "StateMachineDoesNotExist"):
            raise DeployError(f"no deployment named {name!r} in {client.region}",
                              where="--name", fix=f"run `smlift deploy --name {name}` first, "
                              "or pass the --region it was deployed to") from None
        raise
    bucket = next((tag["value"] for tag in tags if tag["key"] == TAG_BUCKET), None)
    if not bucket:
        raise DeployError(f"state machine {name!r} was not deployed by smlift (no {TAG_BUCKET} tag)",
                          where=arn, fix="pass the deployment's --bucket, or deploy it again")
    return bucket


def lookup_deployment(client, name: str = "smlift", bucket: str | None = None) -> dict:
    """The record of deployment `name`: state_machine_arn, roles {key: arn}, bucket, code_uri, ...

    Without `bucket`, the bucket is read from the state machine's tags. Raises DeployError when
    the deployment does not exist.
    """
    bucket = bucket or find_bucket(client, name)
    record = read_record(client, bucket, name)
    if record is None:
        raise DeployError(f"no deployment record for {name!r} in s3://{bucket}/",
                          where=f"s3://{bucket}/{record_key(name)}",
                          fix=f"run `smlift deploy --name {name} --bucket {bucket}`")
    return record
