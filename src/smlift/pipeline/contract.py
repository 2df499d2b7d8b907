"""The execution input of the pipeline: one flat JSON object, one value per field.

    {"input_uri": "s3://my-bucket/smlift/input/", "output_uri": "s3://my-bucket/smlift/output/",
     "code_uri": "s3://my-bucket/smlift/code/", "custom_image_uri": "...", "scikit_image_uri":
     "...", "role": "arn:aws:iam::111122223333:role/smlift-sagemaker"}

`instance_type`, `volume_size`, `max_runtime` and `instance_count` may be left out: the state machine applies the
same defaults itself (its first state, `Prepare`), so a console user gets them too. This model is
the Python side of that contract: `smlift validate`, `smlift input` and deploy use it. Types are
strict, because the state machine passes values to SageMaker as they are: `"30"` is not a volume
size there, so it is not one here either.

    input_problems(data) -> [(field, message), ...]      # [] = valid
    load_pipeline_input(path) -> PipelineInput            # or InputError listing every problem
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import InputError, SmliftError
from ..imageref import tag_problem
from ..local.s3 import check_key
from ..names import BUCKET
from ..prebuilt import prebuilt_problem
from . import read_json_file

DEFAULTS = {"instance_type": "ml.m5.xlarge", "volume_size": 30, "max_runtime": 3600,
            "instance_count": 1}
MAX_INSTANCE_COUNT = 100  # SageMaker's default quota is lower: validate says so above 20

# One example per field: used in messages, in `examples/input.json` and in docs/pipeline.md.
EXAMPLES: dict[str, Any] = {
    "input_uri": "s3://my-bucket/smlift/input/",
    "output_uri": "s3://my-bucket/smlift/output/",
    "code_uri": "s3://my-bucket/smlift/code/",
    "custom_image_uri": "111122223333.dkr.ecr.us-east-1.amazonaws.com/sagemaker-smlift-inference:latest",
    "scikit_image_uri": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.4-2-cpu-py3",
    "role": "arn:aws:iam::111122223333:role/smlift-sagemaker",
    "instance_type": "ml.m5.xlarge",
    "volume_size": 30,
    "max_runtime": 3600,
    "instance_count": 2,
    "model_name": "churn-model",
}

_S3 = re.compile(r"^s3://(?P<bucket>[^/]+)(?P<key>/.*)?$")
_BUCKET = BUCKET  # S3's rule (smlift.names)
_ROLE = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-/]+$")
_IMAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$")
_INSTANCE = re.compile(r"^ml\.[a-z0-9-]+\.[a-z0-9]+$")
_TAG_VALUE = re.compile(r"^[A-Za-z0-9 _.:/=+\-@]{1,256}$")


def _s3_uri(value: str) -> str:
    match = _S3.match(value)
    if not match:
        raise ValueError(f"must be an s3:// URI such as s3://my-bucket/smlift/, not {value!r}")
    if not _BUCKET.match(match["bucket"]):
        raise ValueError(f"{match['bucket']!r} is not a valid S3 bucket name "
                         "(3-63 lowercase letters, digits, dots and hyphens)")
    try:  # what a job could never upload to (or read from) is refused before anything runs
        check_key((match["key"] or "/")[1:], value)
    except SmliftError as exc:
        raise ValueError(exc.message) from None
    return value


def _role_arn(value: str) -> str:
    if not _ROLE.match(value):
        raise ValueError("must be an IAM role ARN such as "
                         f"arn:aws:iam::123456789012:role/smlift-sagemaker, not {value!r}")
    return value


def _image_uri(value: str) -> str:
    if not _IMAGE.match(value) or len(value) > 255:
        raise ValueError("must be an image URI (at most 255 characters, no spaces) such as "
                         f"{EXAMPLES['custom_image_uri']}, not {value!r}")
    problem = tag_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _scikit_image_uri(value: str) -> str:
    """An image URI; a `sagemaker-scikit-learn` one must be an image AWS publishes."""
    problem = prebuilt_problem(_image_uri(value))
    if problem is not None:
        raise ValueError(f"{problem}; on AWS the jobs would fail to pull it")
    return value


def _instance_type(value: str) -> str:
    if not _INSTANCE.match(value):
        raise ValueError(f"must be a SageMaker instance type such as ml.m5.xlarge, not {value!r}")
    return value


def _tag_value(value: str) -> str:
    if not _TAG_VALUE.match(value):
        raise ValueError("must be 1-256 letters, digits, spaces or _ . : / = + - @ "
                         f"(it becomes the job tag 'model'), not {value!r}")
    return value


S3Uri = Annotated[str, AfterValidator(_s3_uri)]
RoleArn = Annotated[str, AfterValidator(_role_arn)]
ImageUri = Annotated[str, AfterValidator(_image_uri)]


class PipelineInput(BaseModel):
    """The pipeline's execution input. Extra fields are refused; types are strict."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    input_uri: S3Uri = Field(description="S3 prefix holding the data Preprocess reads")
    output_uri: S3Uri = Field(description="S3 prefix; each execution writes under <output_uri>/<execution name>/")
    code_uri: S3Uri = Field(description="S3 prefix holding preprocessing.py and postprocessing.py")
    custom_image_uri: ImageUri = Field(description="the inference image built from containers/inference/")
    scikit_image_uri: Annotated[str, AfterValidator(_scikit_image_uri)] = Field(description="the prebuilt SageMaker scikit-learn image")
    role: RoleArn = Field(description="the SageMaker execution role the jobs run as")
    instance_type: Annotated[str, AfterValidator(_instance_type)] = DEFAULTS["instance_type"]
    volume_size: int = Field(DEFAULTS["volume_size"], ge=1, le=16384, description="GB of disk per job")
    max_runtime: int = Field(DEFAULTS["max_runtime"], ge=1, le=777600, description="seconds per job")
    instance_count: int = Field(DEFAULTS["instance_count"], ge=1, le=MAX_INSTANCE_COUNT,
                                description="instances Preprocess, Predict and Postprocess each "
                                            "run on (Summarize: one)")
    model_name: Annotated[str, AfterValidator(_tag_value)] | None = None

    @model_validator(mode="after")
    def _output_outside_inputs(self) -> "PipelineInput":
        for name in ("input_uri", "code_uri"):
            source = getattr(self, name).rstrip("/") + "/"
            if (self.output_uri.rstrip("/") + "/").startswith(source):
                raise ValueError(f"output_uri: must not be inside {name} ({getattr(self, name)}): "
                                 "every run would read the outputs of the runs before it")
        return self

    def with_defaults(self) -> dict:
        """The input as the state machine sees it after `Prepare` (defaults filled in)."""
        return self.model_dump(exclude_none=True)


def input_problems(data: Any) -> list[tuple[str, str]]:
    """Every problem with an execution input, as (field, message). Empty = valid."""
    if not isinstance(data, dict):
        return [("", "the input must be a JSON object with the fields "
                 f"{', '.join(PipelineInput.model_fields)}")]
    try:
        PipelineInput.model_validate(data)
    except ValidationError as exc:
        return [_problem(error) for error in exc.errors()]
    return []


def field_problem(field: str, value: Any) -> str | None:
    """The contract's message for one field's value, checked as it would be in an input (None:
    valid). For values that reach an input later, e.g. a model version's settings."""
    try:
        PipelineInput.model_validate({**EXAMPLES, field: value})
    except ValidationError as exc:
        for error in exc.errors():
            if tuple(error["loc"][:1]) == (field,):
                return _problem(error)[1]
    return None


def _problem(error: dict) -> tuple[str, str]:
    field = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    message = MESSAGES.get(kind, lambda e, f: e["msg"])(error, field)
    if kind == "value_error" and not field and ": " in message:
        field, message = message.split(": ", 1)  # model-level checks name their field
    return field, message


def _missing(error: dict, field: str) -> str:
    return f"is required, e.g. {json.dumps(EXAMPLES.get(field))}"


def _extra(error: dict, field: str) -> str:
    return f"unknown field; the input accepts: {', '.join(PipelineInput.model_fields)}"


def _number(error: dict, field: str) -> str:
    return f"must be a whole number (JSON integer) such as {EXAMPLES.get(field)}, not {error['input']!r}"


def _string(error: dict, field: str) -> str:
    return f"must be a string such as {json.dumps(EXAMPLES.get(field))}, not {error['input']!r}"


def _range(error: dict, field: str) -> str:
    limits = PipelineInput.model_fields[field].metadata
    low = next(m.ge for m in limits if hasattr(m, "ge"))
    high = next(m.le for m in limits if hasattr(m, "le"))
    return f"must be between {low} and {high}, not {error['input']!r}"


MESSAGES = {
    "missing": _missing,
    "extra_forbidden": _extra,
    "int_type": _number,
    "string_type": _string,
    "greater_than_equal": _range,
    "less_than_equal": _range,
    "value_error": lambda error, field: str(error["ctx"]["error"]),
}


def read_input_file(path: str | Path) -> Any:
    """The JSON in execution input file `path`, or InputError naming the file and the error."""
    return read_json_file(path, "pass --input with an existing file, e.g. examples/input.local.json")


def load_pipeline_input(path: str | Path) -> PipelineInput:
    """Read and check an execution input file. InputError lists every problem."""
    data = read_input_file(path)
    problems = input_problems(data)
    if problems:
        text = "; ".join(f"{field}: {message}" if field else message for field, message in problems)
        raise InputError(text, where=str(path), fix="correct the fields named (docs/pipeline.md)")
    return PipelineInput.model_validate(data)
