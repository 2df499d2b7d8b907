"""The desired state of a deployment, read from the project's own files.

    iam/<role>-trust.json, iam/<role>-policy.json   rendered by smlift.pipeline.iam with this
                                                    deployment's names, account, region, bucket
    scripts/                                        the step code, uploaded under
                                                    s3://BUCKET/smlift/code/<sha256 of the files>/
    statemachine/definition.asl.json                the state machine, as it is

Nothing here writes; the account id is the only thing asked of AWS.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from ...errors import DeployError, InputError
from ...layout import DEFINITION, IAM, SCRIPTS
from ...names import BUCKET
from ...pipeline import iam, read_definition as read_definition_file
from ...prebuilt import default_scikit_image, SCIKIT_IMAGE_ACCOUNTS
from .models import CODE_PREFIX, CodeObject, Deployment, Role, StateMachine, resource_names

DEFAULT_IMAGE_REPOSITORY = "sagemaker-*"   # the repositories `smlift build --remote` creates
_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}[A-Za-z0-9])?$")
_SKIPPED = ("__pycache__", ".pytest_cache", ".ipynb_checkpoints")


def check_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise InputError(f"invalid deployment name {name!r}", where="--name",
                         fix="use 1-40 letters, digits and hyphens, starting and ending with a "
                         "letter or digit (it prefixes the role and state machine names)")
    return name


def default_bucket(client) -> str:
    """The SageMaker default bucket, `sagemaker-<region>-<account>` (sm-docker uses it too)."""
    return f"sagemaker-{client.region}-{client.account_id}"


def desired_deployment(client, *, project_root: str | Path = ".", name: str = "smlift",
                       bucket: str | None = None, input_prefix: str | None = None,
                       output_prefix: str | None = None,
                       image_repository: str = DEFAULT_IMAGE_REPOSITORY) -> Deployment:
    """Everything deployment `name` should be, from the files under `project_root`."""
    check_name(name)
    root = Path(project_root)
    bucket = bucket or default_bucket(client)
    if not BUCKET.match(bucket):
        raise InputError(f"invalid bucket name {bucket!r}", where="--bucket",
                         fix="bucket names are 3-63 characters of a-z, 0-9, '.' and '-', starting "
                             "and ending with a letter or digit")
    input_prefix = _prefix(input_prefix or f"s3://{bucket}/smlift/input/", "--input-prefix")
    output_prefix = _prefix(output_prefix or f"s3://{bucket}/smlift/output/", "--output-prefix")
    definition = read_definition(root / DEFINITION)
    code_prefix, code = code_objects(root / SCRIPTS)
    names = resource_names(name)
    scikit_account, scikit_image = _scikit(client.region)
    values = {
        "AccountId": client.account_id, "Region": client.region,
        "StateMachineName": names["state_machine"], "SageMakerRoleName": names["sagemaker"],
        "ImageRepository": image_repository, "ScikitImageAccount": scikit_account,
        "BuildBucket": bucket, "BuildContextPrefix": iam.BUILD_CONTEXT_PREFIX,
        "BuildProject": iam.BUILD_PROJECT, "CodeBucket": bucket, "CodePrefix": CODE_PREFIX,
    }
    values["JobNamePrefix"] = iam.JOB_NAME_PREFIX
    for field, uri in (("Input", input_prefix), ("Output", output_prefix)):
        values[f"{field}Bucket"], values[f"{field}Prefix"] = iam.split_s3(uri)
    rendered = iam.load_policies(root / IAM, values)
    roles = tuple(Role(key, names[key], rendered[key].trust, {f"{key}-policy": rendered[key].policy},
                       f"smlift deployment {name}: {_ROLE_PURPOSE[key]}") for key in iam.ROLES)
    return Deployment(
        name=name, bucket=bucket, region=client.region, account_id=client.account_id,
        partition=client.partition, roles=roles, code_prefix=code_prefix, code_objects=code,
        state_machine=StateMachine(names["state_machine"], definition),
        definition_sha=hashlib.sha256(definition.encode()).hexdigest(),
        input_prefix=input_prefix, output_prefix=output_prefix, scikit_image_uri=scikit_image)


_ROLE_PURPOSE = {"stepfunctions": "the state machine's role",
                 "sagemaker": "the processing jobs' execution role",
                 "imagebuild": "CodeBuild role for remote image builds"}


def read_definition(path: Path) -> str:
    """The definition's text as written (what the state machine is created from)."""
    return read_definition_file(path, "run from the project root (the folder with "
                                      "statemachine/), or pass --project DIR")[0]


def code_objects(scripts: Path) -> tuple[str, tuple[CodeObject, ...]]:
    """The content-addressed prefix `smlift/code/<sha256>/` and one object per step file."""
    if not scripts.is_dir():
        raise InputError("no scripts/ folder", where=str(scripts),
                         fix="run from the project root (the folder with scripts/), or pass "
                             "--project DIR")
    files = sorted((path.relative_to(scripts).as_posix(), path) for path in scripts.rglob("*")
                   if path.is_file() and not _skipped(path.relative_to(scripts)))
    if not files:
        raise InputError("scripts/ holds no files", where=str(scripts),
                         fix="put the step scripts (preprocessing.py, postprocessing.py) there")
    digest = hashlib.sha256()
    bodies = []
    for rel, path in files:
        body = path.read_bytes()
        digest.update(rel.encode() + b"\0" + hashlib.sha256(body).digest())
        bodies.append((rel, body))
    prefix = f"{CODE_PREFIX}{digest.hexdigest()}/"
    return prefix, tuple(CodeObject(prefix + rel, rel, body) for rel, body in bodies)


def _skipped(rel: Path) -> bool:
    return (any(part in _SKIPPED or part.startswith(".") for part in rel.parts)
            or rel.suffix in (".pyc", ".pyo"))


def _prefix(uri: str, option: str) -> str:
    bucket = uri[len("s3://"):].split("/", 1)[0] if uri.startswith("s3://") else ""
    if not BUCKET.match(bucket):
        raise InputError(f"{uri!r} is not an s3:// prefix", where=option,
                         fix="pass an S3 URI such as s3://my-bucket/smlift/input/")
    return uri if uri.endswith("/") else uri + "/"


def _scikit(region: str) -> tuple[str, str]:
    account = SCIKIT_IMAGE_ACCOUNTS.get(region)
    if account is None:
        raise DeployError(f"no prebuilt SageMaker scikit-learn image known for region {region}",
                          where="--region", fix="deploy to a region SageMaker serves, such as "
                          "us-east-1")
    return account, default_scikit_image(region)
