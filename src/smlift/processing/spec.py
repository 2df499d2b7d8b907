"""CreateProcessingJob request -> a validated `JobSpec` with AWS's defaults filled in.

This is the first layer of the local Processing runner (spec -> staging -> runner -> describe).
It is the only layer that reads the request JSON: staging and the runner see a `JobSpec`.

    spec = build_spec(request, arn=...)      # raises ApiError("ValidationException", ...)
    spec.config                              # the request with defaults: processingjobconfig.json

Validation is SageMaker's: `request.check_create_processing_job` (botocore's model plus the
pattern, length, range and enum checks SageMaker makes on the server). On top of that, what the
local runner cannot do faithfully is refused with a clear error rather than silently accepted:
Pipe and FastFile input modes, Continuous upload, DatasetDefinition (Athena/Redshift) inputs,
and LocalPaths outside /opt/ml/processing/. Any InstanceCount runs: one local instance per
SageMaker instance (staging.py, cluster.py).

Defaults filled in, as DescribeProcessingJob shows them: S3DataDistributionType FullyReplicated,
S3InputMode File, S3CompressionType None, AppManaged false, S3UploadMode EndOfJob, and a
StoppingCondition of MaxRuntimeInSeconds 86400 (one day) when none is given.
"""

from __future__ import annotations

import copy
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import ProcessingJobError, SmliftError
from ..local.s3 import check_key
from .request import check_create_processing_job

DEFAULT_MAX_RUNTIME = 86400
PROCESSING_ROOT = "/opt/ml/processing/"


class ApiError(ProcessingJobError):
    """A SageMaker API error: `code` as SageMaker spells it (ValidationException, ResourceInUse,
    ResourceNotFound). `problems` lists (field, message) for validation errors."""

    def __init__(self, code: str, message: str, *, where: str | None = None,
                 fix: str | None = None, problems: list[tuple[str, str]] | None = None):
        super().__init__(message, where=where, fix=fix)
        self.code = code
        self.problems = problems or []


@dataclass(frozen=True)
class InputSpec:
    name: str
    s3_uri: str
    local_path: str          # container path under /opt/ml/processing/
    data_type: str           # S3Prefix | ManifestFile
    distribution: str = "FullyReplicated"  # | ShardedByS3Key


@dataclass(frozen=True)
class OutputSpec:
    name: str
    s3_uri: str
    local_path: str


@dataclass(frozen=True)
class JobSpec:
    """Everything the runner needs; nothing here is request JSON except `config`."""

    name: str
    arn: str
    image_uri: str
    entrypoint: tuple[str, ...] | None
    arguments: tuple[str, ...] | None
    environment: dict[str, str]
    inputs: tuple[InputSpec, ...]
    outputs: tuple[OutputSpec, ...]
    max_runtime: int
    instance_type: str
    instance_count: int
    config: dict = field(default_factory=dict)  # processingjobconfig.json (request + defaults)


def fill_defaults(request: dict) -> dict:
    """A deep copy of the request with AWS's defaults, as DescribeProcessingJob returns them."""
    filled = copy.deepcopy(request)
    for item in filled.get("ProcessingInputs", []):
        item.setdefault("AppManaged", False)
        s3 = item.get("S3Input")
        if s3 is not None:
            s3.setdefault("S3InputMode", "File")
            s3.setdefault("S3DataDistributionType", "FullyReplicated")
            s3.setdefault("S3CompressionType", "None")
    for item in filled.get("ProcessingOutputConfig", {}).get("Outputs", []):
        item.setdefault("AppManaged", False)
        if "S3Output" in item:
            item["S3Output"].setdefault("S3UploadMode", "EndOfJob")
    filled.setdefault("StoppingCondition", {"MaxRuntimeInSeconds": DEFAULT_MAX_RUNTIME})
    return filled


def build_spec(request: Any, *, arn: str) -> JobSpec:
    """Validate `request` like SageMaker, refuse what cannot run locally, fill the defaults."""
    problems = _validate(request)
    if not problems:
        problems = [*_duplicates(request), *_nul_bytes(request)]
    if problems:
        raise validation_error(problems)
    local_only = list(_not_emulated(request))
    if local_only:
        raise not_emulated_error(local_only)
    check_image_region(request["AppSpecification"]["ImageUri"], arn)
    filled = fill_defaults(request)
    app = filled["AppSpecification"]
    cluster = filled["ProcessingResources"]["ClusterConfig"]
    entry, args = app.get("ContainerEntrypoint"), app.get("ContainerArguments")
    return JobSpec(
        name=filled["ProcessingJobName"], arn=arn, image_uri=app["ImageUri"],
        entrypoint=tuple(entry) if entry is not None else None,
        arguments=tuple(args) if args is not None else None,
        environment=dict(filled.get("Environment", {})),
        inputs=tuple(_input_spec(item) for item in filled.get("ProcessingInputs", [])
                     if not item["AppManaged"]),
        outputs=tuple(_output_spec(item) for item in
                      filled.get("ProcessingOutputConfig", {}).get("Outputs", [])
                      if not item["AppManaged"]),
        max_runtime=filled["StoppingCondition"]["MaxRuntimeInSeconds"],
        instance_type=cluster["InstanceType"], instance_count=cluster["InstanceCount"],
        config={"ProcessingJobArn": arn, **filled})


_ECR_REGION_RE = re.compile(r"^\d{12}\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com")


def check_image_region(image_uri: str, arn: str) -> None:
    """SageMaker pulls ECR images from the job's own region only (ValidationException, in
    SageMaker's words, otherwise)."""
    match = _ECR_REGION_RE.match(image_uri)
    region = arn.split(":")[3] if arn.count(":") >= 5 else ""
    if match and region and match["region"] != region:
        raise ApiError("ValidationException",
                       f"Invalid region {match['region']} in image URI {image_uri}. Please "
                       f"provide an image URI in region {region}.",
                       where="AppSpecification.ImageUri",
                       fix=f"use the image's copy in {region} (for the prebuilt scikit-learn "
                           "image, that region's account: smlift validate names it)")


def validation_error(problems: list[tuple[str, str]]) -> ApiError:
    """SageMaker's ValidationException text: `N validation error(s) detected: ...`."""
    count = len(problems)
    details = "; ".join(f"Value at '{_camel_path(path)}' failed to satisfy constraint: {message}"
                        if path else message for path, message in problems)
    noun = "error" if count == 1 else "errors"
    return ApiError("ValidationException", f"{count} validation {noun} detected: {details}",
                    where=problems[0][0] or None, problems=problems,
                    fix="correct the CreateProcessingJob request (see the field named)")


def _validate(request: Any) -> list[tuple[str, str]]:
    return check_create_processing_job(request)


def _camel_path(path: str) -> str:
    """`ProcessingInputs[0].S3Input` -> `processingInputs.0.s3Input`: AWS words field paths in
    lowerCamelCase in its validation messages."""
    parts = path.replace("[", ".").replace("]", "").split(".")
    return ".".join(part[:1].lower() + part[1:] for part in parts if part)


def not_emulated_error(problems: list[tuple[str, str]]) -> ApiError:
    """A request AWS would accept but the local runner cannot run faithfully. Its code,
    `NotEmulated`, is smlift's own (the task error `smlift.NotEmulated`), so no retrier written
    for AWS's errors retries it."""
    details = "; ".join(f"{path}: {message}" for path, message in problems)
    return ApiError("NotEmulated", f"not emulated by the local runner: {details}",
                    where=problems[0][0], problems=problems,
                    fix="run this job on AWS, or change the field named for local runs")


def _not_emulated(request: dict):
    """What the local runner refuses (rather than silently running differently)."""
    for index, item in enumerate(request.get("ProcessingInputs", [])):
        yield from _unsupported_input(item, f"ProcessingInputs[{index}]")
    for index, item in enumerate(request.get("ProcessingOutputConfig", {}).get("Outputs", [])):
        yield from _unsupported_output(item, f"ProcessingOutputConfig.Outputs[{index}]")


def _duplicates(request: dict):
    """InputNames, OutputNames and their LocalPaths must each be unique (SageMaker refuses)."""
    outputs = request.get("ProcessingOutputConfig", {}).get("Outputs", [])
    items = [("ProcessingInputs", i, item, item.get("InputName"), item.get("S3Input"))
             for i, item in enumerate(request.get("ProcessingInputs", []))]
    items += [("ProcessingOutputConfig.Outputs", i, item, item.get("OutputName"),
               item.get("S3Output")) for i, item in enumerate(outputs)]
    names: set = set()
    paths: set = set()
    for group, index, _, name, s3 in items:
        key = (group, name)
        if key in names:
            yield f"{group}[{index}]", f"the name {name!r} is used twice; names must be unique"
        names.add(key)
        local = posixpath.normpath(s3["LocalPath"]) if s3 and "LocalPath" in s3 else None
        if local is not None and local in paths:
            yield (f"{group}[{index}]", f"LocalPath {local!r} is used by another input or "
                   "output; give each its own folder")
        paths.add(local)


def _nul_bytes(request: dict):
    """A NUL byte cannot be passed to a process in its arguments or environment."""
    app = request["AppSpecification"]
    for key in ("ContainerEntrypoint", "ContainerArguments"):
        for index, word in enumerate(app.get(key) or []):
            if "\0" in word:
                yield (f"AppSpecification.{key}[{index}]",
                       "contains a NUL byte, which no process can receive")
    for name, value in (request.get("Environment") or {}).items():
        if "\0" in name or "\0" in value:
            yield f"Environment.{name}", "contains a NUL byte, which no process can receive"


def _unsupported_input(item: dict, path: str):
    if item.get("AppManaged"):
        return
    if "DatasetDefinition" in item:
        yield (f"{path}.DatasetDefinition", "Athena and Redshift dataset inputs are not "
               "emulated locally; export the data to S3 and use an S3Input")
        return
    s3 = item.get("S3Input")
    if s3 is None:
        yield path, "needs an S3Input (or AppManaged: true)"
        return
    mode = s3.get("S3InputMode", "File")
    if mode != "File":
        yield (f"{path}.S3Input.S3InputMode", f"{mode} mode is not emulated locally; "
               "use File mode (the default)")
    if s3.get("S3CompressionType", "None") != "None":
        yield (f"{path}.S3Input.S3CompressionType", "Gzip applies to Pipe mode only; use None")
    if "LocalPath" not in s3:
        yield f"{path}.S3Input.LocalPath", "is required for a File-mode input"
    else:
        yield from _check_local_path(s3["LocalPath"], f"{path}.S3Input.LocalPath")


def _unsupported_output(item: dict, path: str):
    if item.get("AppManaged"):
        return
    s3 = item.get("S3Output")
    if s3 is None:
        yield path, ("needs an S3Output; FeatureStoreOutput is not emulated locally")
        return
    yield from _storable_output(s3.get("S3Uri"), f"{path}.S3Output.S3Uri")
    if s3.get("S3UploadMode", "EndOfJob") != "EndOfJob":
        yield (f"{path}.S3Output.S3UploadMode", "Continuous upload is not emulated locally: "
               "outputs are uploaded when the job completes; use EndOfJob")
    if "LocalPath" not in s3:
        yield f"{path}.S3Output.LocalPath", "is required"
    else:
        yield from _check_local_path(s3["LocalPath"], f"{path}.S3Output.LocalPath")


def _storable_output(uri: str, path: str):
    """An output prefix local S3 could never hold (a `..` segment, a segment longer than a file
    name) is refused now, not after the job's work is done."""
    try:
        check_key(uri.partition("://")[2].partition("/")[2], uri)
    except SmliftError as exc:
        yield path, f"{uri!r} cannot be uploaded to: {exc.message}"


def _check_local_path(local_path: str, path: str):
    normal = posixpath.normpath(local_path)
    if not (normal + "/").startswith(PROCESSING_ROOT) or normal + "/" == PROCESSING_ROOT:
        yield path, (f"{local_path!r} must be a folder under {PROCESSING_ROOT} "
                     "(e.g. /opt/ml/processing/input)")


def _input_spec(item: dict) -> InputSpec:
    s3 = item["S3Input"]
    return InputSpec(name=item["InputName"], s3_uri=s3["S3Uri"],
                     local_path=posixpath.normpath(s3["LocalPath"]), data_type=s3["S3DataType"],
                     distribution=s3["S3DataDistributionType"])


def _output_spec(item: dict) -> OutputSpec:
    s3 = item["S3Output"]
    return OutputSpec(name=item["OutputName"], s3_uri=s3["S3Uri"],
                      local_path=posixpath.normpath(s3["LocalPath"]))
