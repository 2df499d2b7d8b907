"""The `sagemaker:createProcessingJob` Task integration of the local engine.

    register(registry, home)     # in smlift.embedded.tasks.task_registry

registers, for every region's form of the ARN:

- `arn:aws:states:::sagemaker:createProcessingJob` (request-response): creates the job and
  returns at once with the CreateProcessingJob response as Step Functions gives it,
  `{"ProcessingJobArn": ..., "SdkHttpMetadata": {...}, "SdkResponseMetadata": {"RequestId": ...}}`.
  The job keeps running in this process (see service.py).
- `arn:aws:states:::sagemaker:createProcessingJob.sync` (run a job): creates the job, emits
  TaskSubmitted with that same response, waits for the job and returns its DescribeProcessingJob
  output (timestamps as epoch milliseconds, `describe.to_sfn`). A job that ends Failed or
  Stopped fails the task with `States.TaskFailed` and the description, as JSON, in the Cause
  (ExitMessage, FailureReason, ...). Stopping the execution (or a Task timeout) stops the job.

As Step Functions does, the tag `MANAGED_BY_AWS=STARTED_BY_STEP_FUNCTIONS` is added to the
job's Tags, and API errors become task errors named after the SDK's exception,
`SageMaker.AmazonSageMakerException` (ValidationException and other unmodelled codes) or
`SageMaker.ResourceInUseException` etc., with a Cause in the AWS SDK for Java's words:
`<message> (Service: AmazonSageMaker; Status Code: 400; Error Code: <code>; Request ID: <id>;
Proxy: null)`. The job is created in the region and account of the execution's ARN.
"""

from __future__ import annotations

import json
import uuid
from email.utils import formatdate
from pathlib import Path
from typing import Any

from ..asl.tasks import TaskRegistry, TaskRequest
from ..errors import SmliftError, StatesError
from . import describe
from .request import check_request_shape
from .service import LocalProcessing
from .spec import ApiError

SYNC = "arn:aws:states:::sagemaker:createProcessingJob.sync"
REQUEST_RESPONSE = "arn:aws:states:::sagemaker:createProcessingJob"
MANAGED_TAG = {"Key": "MANAGED_BY_AWS", "Value": "STARTED_BY_STEP_FUNCTIONS"}

# SageMaker error code -> the task error Step Functions names it (the Java SDK's exception).
ERROR_NAMES = {
    "ResourceInUse": "SageMaker.ResourceInUseException",
    "ResourceNotFound": "SageMaker.ResourceNotFoundException",
    "ResourceLimitExceeded": "SageMaker.ResourceLimitExceededException",
    "NotEmulated": "smlift.NotEmulated",  # local-only: no AWS retrier names it
}
GENERIC_ERROR = "SageMaker.AmazonSageMakerException"


def register(registry: TaskRegistry, home: Path, *, service: Any = None,
             engine: str | None = None) -> Any:
    """Register both handlers, backed by `service` (default: a LocalProcessing under `home`
    whose jobs run on `engine`). Returns the service, so a caller can inspect or stop its jobs."""
    if service is None:
        service = LocalProcessing(home, engine=engine)
    registry.register(SYNC, lambda request: run_sync(service, request))
    registry.register(REQUEST_RESPONSE, lambda request: run_request_response(service, request))
    return service


def run_request_response(service: Any, request: TaskRequest) -> dict:
    return create(service, request)


def run_sync(service: Any, request: TaskRequest) -> dict:
    submitted = create(service, request)
    request.emit_submitted(submitted)
    name = request.parameters["ProcessingJobName"]
    final = describe.to_sfn(service.wait(name, cancel=request.cancelled))
    if final["ProcessingJobStatus"] != "Completed":
        raise StatesError("States.TaskFailed", json.dumps(final, separators=(",", ":")))
    return final


def create(service: Any, request: TaskRequest) -> dict:
    """CreateProcessingJob with the Step Functions tag; the response as Step Functions gives it."""
    request_id = str(uuid.uuid4())
    region, account = execution_region_account(request.context)
    check_parameters(request)
    try:
        response = service.create_job(with_managed_tag(request.parameters), region=region,
                                      account=account)
    except ApiError as exc:
        raise api_failure(exc.code, exc.message, request_id) from exc
    except SmliftError as exc:
        raise api_failure("InternalFailure", str(exc), request_id, status=500) from exc
    return {**response, **sdk_metadata(request_id, response)}


def check_parameters(request: TaskRequest) -> None:
    """Step Functions refuses Parameters that do not fit CreateProcessingJob's shape (an unknown
    field, a wrong JSON type) before it calls SageMaker: `States.Runtime`, which no Retry or
    Catch handles, in its words."""
    problems = check_request_shape(request.parameters)
    if not problems:
        return
    details = ", ".join(f"The field '{path or 'Parameters'}' {message}"
                        for path, message in problems)
    entered = ((request.context or {}).get("State") or {}).get("EnteredTime", "")
    raise StatesError("States.Runtime", (
        f"An error occurred while executing the state '{request.state_name}'"
        + (f" (entered at {entered})" if entered else "")
        + f". The Parameters '{json.dumps(request.parameters, separators=(',', ':'))}' could "
        f"not be used to start the Task: [{details}]"))


def with_managed_tag(parameters: Any) -> Any:
    if not isinstance(parameters, dict):
        return parameters  # validation reports it
    tags = [tag for tag in parameters.get("Tags") or [] if tag != MANAGED_TAG]
    return {**parameters, "Tags": [*tags, MANAGED_TAG]}


def api_failure(code: str, message: str, request_id: str, status: int = 400) -> StatesError:
    cause = (f"{message} (Service: AmazonSageMaker; Status Code: {status}; Error Code: {code}; "
             f"Request ID: {request_id}; Proxy: null)")
    return StatesError(ERROR_NAMES.get(code, GENERIC_ERROR), cause)


def sdk_metadata(request_id: str, body: Any = None, now: float | None = None) -> dict:
    """What Step Functions adds to an SDK response: the HTTP headers (each also as a one-item
    list in AllHttpHeaders), the status code and the request ID, as in recorded histories."""
    length = len(json.dumps(body, separators=(",", ":")).encode()) if body is not None else 0
    headers = {"Connection": "keep-alive", "Content-Length": str(length),
               "Content-Type": "application/x-amz-json-1.1",
               "Date": formatdate(now, usegmt=True), "x-amzn-RequestId": request_id}
    return {"SdkHttpMetadata": {"AllHttpHeaders": {k: [v] for k, v in headers.items()},
                                "HttpHeaders": headers, "HttpStatusCode": 200},
            "SdkResponseMetadata": {"RequestId": request_id}}


def execution_region_account(context: dict | None) -> tuple[str | None, str | None]:
    """REGION and ACCOUNT of `arn:aws:states:REGION:ACCOUNT:execution:...` (None if absent)."""
    arn = ((context or {}).get("Execution") or {}).get("Id") or ""
    parts = arn.split(":")
    if len(parts) >= 5 and parts[0] == "arn" and parts[3] and parts[4]:
        return parts[3], parts[4]
    return None, None
