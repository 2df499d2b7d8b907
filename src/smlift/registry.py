"""The model registry: each legacy model is registered once, as numbered versions, and approved
before it runs on AWS.

A *model* is a name (a SageMaker model package group name: letters, digits and hyphens, at most
63 characters). A *version* carries the inference image and the pipeline settings the execution
input needs (`code_uri`, `instance_type`, `volume_size`, `max_runtime`, `scikit_image_uri`), and
an approval status: `PendingManualApproval` when registered, then `Approved` or `Rejected`.

Two backends speak the same `ModelRegistry` protocol:

    SageMakerRegistry   the SageMaker Model Registry, through `smlift.aws.client.AwsClient`:
                        one model package group per model, one model package per version with
                        InferenceSpecification.Containers[0].Image = the inference image and
                        CustomerMetadataProperties = the pipeline settings (strings).
    LocalRegistry       the embedded SQLite store (`Store.add_model_version` & co.), keeping the
                        very same describe_model_package shape, so both render alike.

Both hand back `ModelVersion` values. `choose_version` is the one rule for picking the version an
execution runs: an explicit version, else the latest Approved one, else (only when approval is not
required) the latest one.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Mapping, Protocol

from .errors import AwsError, InputError, ModelRegistryError
from .imageref import tag_problem
from .local.store import open_store
from .pipeline.contract import field_problem

PENDING, APPROVED, REJECTED = "PendingManualApproval", "Approved", "Rejected"
STATUSES = (PENDING, APPROVED, REJECTED)

# The pipeline settings a version may carry, in the execution input's own field names.
SETTINGS = ("code_uri", "instance_type", "volume_size", "max_runtime", "scikit_image_uri")
# Marks a model package as registered by smlift (start --all skips packages without it).
MARKER_KEY, MARKER_VALUE = "registered_by", "smlift"

_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")       # SageMaker EntityName
_META_VALUE = re.compile(r"^[\w\s.:/=+\-@]{1,256}$")              # CustomerMetadataMap value
_IMAGE = re.compile(r"^\S{1,255}$")


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of a model, on either backend."""

    name: str
    version: int
    status: str
    image_uri: str
    settings: dict[str, str] = field(default_factory=dict)
    description: str = ""
    created: str = ""
    arn: str | None = None

    @property
    def by_smlift(self) -> bool:
        return self.settings.get(MARKER_KEY) == MARKER_VALUE

    def pipeline_settings(self) -> dict[str, str]:
        """The settings that feed the execution input (the marker left out)."""
        return {k: v for k, v in self.settings.items() if k in SETTINGS}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ModelRegistry(Protocol):
    """What `smlift models` and `smlift start` need from a registry backend."""

    where: str  # "aws" or "local", for messages
    cli_flag: str  # the option a command names this registry with (" --local", or none)

    def register(self, name: str, image_uri: str, *, settings: Mapping[str, Any] | None = None,
                 description: str = "") -> ModelVersion: ...

    def list_models(self) -> list[ModelVersion]: ...        # the latest version of each model

    def versions(self, name: str) -> list[ModelVersion]: ...  # oldest first

    def summaries(self, name: str) -> list[ModelVersion]: ...  # the same, maybe without
    # image and settings (cheap: one listing on AWS); for choosing a version

    def show(self, name: str, version: int | None = None) -> ModelVersion: ...

    def set_status(self, name: str, version: int, status: str) -> ModelVersion: ...

    def approve(self, name: str, version: int) -> ModelVersion: ...

    def reject(self, name: str, version: int) -> ModelVersion: ...


class _Approvals:
    """approve/reject for both backends, in terms of their set_status."""

    def approve(self, name: str, version: int) -> ModelVersion:
        return self.set_status(name, version, APPROVED)

    def reject(self, name: str, version: int) -> ModelVersion:
        return self.set_status(name, version, REJECTED)


# -- checks shared by both backends ---------------------------------------------------------
def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InputError(f"model name {name!r} is not a valid SageMaker model package group name",
                         where="NAME", fix="use 1-63 letters, digits and hyphens, starting and "
                                           "ending with a letter or digit (no underscores)")
    return name


def check_settings(image_uri: str, settings: Mapping[str, Any] | None) -> dict[str, str]:
    """The version's metadata: every given setting as a string AWS accepts, plus the marker."""
    if not isinstance(image_uri, str) or not _IMAGE.match(image_uri):
        raise InputError(f"image URI {image_uri!r} must be 1-255 characters without spaces",
                         where="--image",
                         fix="pass the inference image URI printed by `smlift build`")
    problem = tag_problem(image_uri)
    if problem:
        raise InputError(problem, where="--image", fix="pass the image URI printed by "
                                                       "`smlift build`")
    out = {}
    for key, value in (settings or {}).items():
        if key not in SETTINGS:
            raise InputError(f"unknown setting {key!r}", where=key,
                             fix=f"use one of: {', '.join(SETTINGS)}")
        if value is None or value == "":
            continue
        if key in ("volume_size", "max_runtime"):
            value = _positive_int(key, value)
        _check_as_input(key, value)
        text = str(value)
        if not _META_VALUE.match(text):
            raise InputError(f"{text!r} cannot be stored as model metadata", where=key,
                             fix="at most 256 letters, digits, spaces and _.:/=+-@")
        out[key] = text
    out[MARKER_KEY] = MARKER_VALUE
    return out


def _check_as_input(key: str, value: Any) -> None:
    """A setting becomes a field of the execution input: refuse now what the input would refuse."""
    problem = field_problem(key, value)
    if problem:
        raise InputError(problem, where=key,
                         fix="correct it; docs/pipeline.md has one example per field")


def _positive_int(key: str, value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number <= 0 or str(value).strip() not in (str(number), f"{number}.0"):
        raise InputError(f"must be a positive whole number, got {value!r}", where=key,
                         fix="volume_size is in GB (e.g. 30), max_runtime in seconds (e.g. 3600)")
    return number


def check_status(status: str) -> str:
    if status not in STATUSES:
        raise InputError(f"unknown approval status {status!r}", fix=f"one of {', '.join(STATUSES)}")
    return status


def choose_version(registry: ModelRegistry, name: str, version: int | None = None, *,
                   require_approved: bool) -> ModelVersion:
    """The version an execution runs (see the module docstring). Refuses unapproved versions
    when `require_approved`, with the commands that fix it."""
    if version is None:
        known = registry.summaries(name)
        approved = [v for v in known if v.status == APPROVED]
        version = (approved[-1] if approved else known[-1]).version
    chosen = registry.show(name, version)
    if require_approved and chosen.status != APPROVED:
        raise ModelRegistryError(
            f"model {name} version {chosen.version} is {chosen.status}, and only an Approved "
            f"version runs on AWS", where=name,
            fix=f"`smlift models approve {name} --version {chosen.version}`, or pass "
                f"--allow-unapproved")
    return chosen


def _unknown_model(name: str, registry: "ModelRegistry") -> ModelRegistryError:
    where, flag = registry.where, registry.cli_flag
    return ModelRegistryError(f"no model named {name!r} in the {where} registry", where=name,
                              fix=f"check the name with `smlift models list{flag}`, or register "
                                  f"it with `smlift models register {name} --image URI{flag}`")


def _unknown_version(name: str, version: int, known: list[ModelVersion]) -> ModelRegistryError:
    numbers = ", ".join(str(v.version) for v in known) or "none"
    return ModelRegistryError(f"model {name} has no version {version}", where="--version",
                              fix=f"use one of its versions: {numbers}")


# -- the AWS-shaped record both backends keep -------------------------------------------------
def package_request(name: str, image_uri: str, settings: dict[str, str],
                    description: str) -> dict[str, Any]:
    """The CreateModelPackage request for a new version of `name`."""
    request = {
        "ModelPackageGroupName": name,
        "InferenceSpecification": {
            "Containers": [{"Image": image_uri}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        "ModelApprovalStatus": PENDING,
        "CustomerMetadataProperties": settings,
    }
    if description:
        if len(description) > 1024:  # CreateModelPackage's limit, checked on both backends
            raise InputError(f"is {len(description)} characters; SageMaker allows at most 1024",
                             where="--description", fix="shorten the description")
        request["ModelPackageDescription"] = description
    return request


def version_from_package(package: Mapping[str, Any], name: str | None = None) -> ModelVersion:
    """A ModelVersion from a describe_model_package response (or the local store's record)."""
    containers = package.get("InferenceSpecification", {}).get("Containers") or [{}]
    created = package.get("CreationTime", "")
    if isinstance(created, (int, float)):
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created))
    elif hasattr(created, "isoformat"):
        created = created.isoformat()
    return ModelVersion(
        name=name or package.get("ModelPackageGroupName") or package["ModelName"],
        version=int(package.get("ModelPackageVersion") or package.get("Version")),
        status=package.get("ModelApprovalStatus") or package.get("ApprovalStatus") or PENDING,
        image_uri=containers[0].get("Image", ""),
        settings=dict(package.get("CustomerMetadataProperties") or {}),
        description=package.get("ModelPackageDescription", ""),
        created=str(created),
        arn=package.get("ModelPackageArn"),
    )


# -- the local backend ------------------------------------------------------------------------
class LocalRegistry(_Approvals):
    """The registry of the embedded default, in the SQLite store."""

    where = "local"
    cli_flag = " --local"  # how a command names this registry

    def __init__(self, store=None, *, clock: Callable[[], float] = time.time):
        if store is None:
            store = open_store()
        self.store = store
        self.clock = clock

    def register(self, name: str, image_uri: str, *, settings: Mapping[str, Any] | None = None,
                 description: str = "") -> ModelVersion:
        check_name(name)
        record = package_request(name, image_uri, check_settings(image_uri, settings), description)
        now = self.clock()
        record["CreationTime"] = now
        version = self.store.add_model_version(name, record, now)
        return self.show(name, version)

    def list_models(self) -> list[ModelVersion]:
        return [self.versions(name)[-1] for name in self.store.list_model_names()]

    def versions(self, name: str) -> list[ModelVersion]:
        records = self.store.get_model_versions(name)
        if not records:
            raise _unknown_model(name, self)
        return [self._version(r) for r in records]

    def summaries(self, name: str) -> list[ModelVersion]:
        return self.versions(name)

    def show(self, name: str, version: int | None = None) -> ModelVersion:
        known = self.versions(name)
        if version is None:
            return known[-1]
        for item in known:
            if item.version == version:
                return item
        raise _unknown_version(name, version, known)

    def set_status(self, name: str, version: int, status: str) -> ModelVersion:
        self.show(name, version)  # raises for an unknown model or version
        self.store.set_model_status(name, version, check_status(status))
        return self.show(name, version)

    @staticmethod
    def _version(record: dict) -> ModelVersion:
        return version_from_package({**record, "ModelApprovalStatus": record["ApprovalStatus"]},
                                    record["ModelName"])


# -- the AWS backend ----------------------------------------------------------------------------
class SageMakerRegistry(_Approvals):
    """The SageMaker Model Registry, through the one door to AWS (`AwsClient`)."""

    where = "aws"
    cli_flag = ""

    def __init__(self, client):
        self.client = client

    def register(self, name: str, image_uri: str, *, settings: Mapping[str, Any] | None = None,
                 description: str = "") -> ModelVersion:
        check_name(name)
        request = package_request(name, image_uri, check_settings(image_uri, settings), description)
        self._ensure_group(name)
        arn = self.client.create_model_package(**request)["ModelPackageArn"]
        return self._describe(arn, name)

    def list_models(self) -> list[ModelVersion]:
        latest = []
        for group in self._groups():
            summaries = self._summaries(group)
            if summaries:
                latest.append(self._describe(summaries[-1]["ModelPackageArn"], group))
        return latest

    def versions(self, name: str) -> list[ModelVersion]:
        summaries = self._summaries(name)
        if not summaries:
            raise _unknown_model(name, self)
        return [self._describe(s["ModelPackageArn"], name) for s in summaries]

    def summaries(self, name: str) -> list[ModelVersion]:
        found = self._summaries(name)
        if not found:
            raise _unknown_model(name, self)
        return [_summary_version(s, name) for s in found]

    def show(self, name: str, version: int | None = None) -> ModelVersion:
        summaries = self._summaries(name)
        if not summaries:
            raise _unknown_model(name, self)
        if version is None:
            return self._describe(summaries[-1]["ModelPackageArn"], name)
        for summary in summaries:
            if int(summary.get("ModelPackageVersion", 0)) == version:
                return self._describe(summary["ModelPackageArn"], name)
        raise _unknown_version(name, version, [_summary_version(s, name) for s in summaries])

    def set_status(self, name: str, version: int, status: str) -> ModelVersion:
        current = self.show(name, version)
        # CustomerMetadataProperties are sent back unchanged: AWS keeps them either way, and
        # some emulators drop the ones an update does not repeat.
        self.client.update_model_package(ModelPackageArn=current.arn,
                                         ModelApprovalStatus=check_status(status),
                                         CustomerMetadataProperties=current.settings)
        return self._describe(current.arn, name)

    # the calls behind the protocol
    def _ensure_group(self, name: str) -> None:
        try:
            self.client.describe_model_package_group(ModelPackageGroupName=name)
        except AwsError as exc:
            if exc.code not in ("ValidationException", "ResourceNotFound"):
                raise
        else:
            return
        try:
            self.client.create_model_package_group(
                ModelPackageGroupName=name,
                ModelPackageGroupDescription=f"smlift model {name}",
                Tags=[{"Key": "smlift:model", "Value": name}])
        except AwsError as exc:  # registered at the same moment by someone else: fine
            if "already exists" not in exc.message:
                raise

    def _groups(self) -> list[str]:
        groups = self.client.list_model_package_groups(SortBy="Name", SortOrder="Ascending")
        return [g["ModelPackageGroupName"] for g in groups]

    def _summaries(self, name: str) -> list[dict]:
        """The group's versioned packages, oldest first ([] for an unknown group)."""
        check_name(name)
        try:
            found = self.client.list_model_packages(
                ModelPackageGroupName=name, ModelPackageType="Versioned",
                SortBy="CreationTime", SortOrder="Ascending")
        except AwsError as exc:
            if "does not exist" in exc.message or "not found" in exc.message:
                return []
            raise
        return sorted(found, key=lambda s: int(s.get("ModelPackageVersion", 0)))

    def _describe(self, arn: str, name: str) -> ModelVersion:
        return version_from_package(self.client.describe_model_package(ModelPackageName=arn), name)


def _summary_version(summary: Mapping[str, Any], name: str) -> ModelVersion:
    return ModelVersion(name=name, version=int(summary.get("ModelPackageVersion", 0)),
                        status=summary.get("ModelApprovalStatus", PENDING), image_uri="",
                        arn=summary.get("ModelPackageArn"))
