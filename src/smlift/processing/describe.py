"""The DescribeProcessingJob-shaped record of a local job, and its renderings.

The store keeps one description per job, in AWS's shape, with timestamps as epoch seconds:

    ProcessingJobName, ProcessingJobArn, ProcessingInputs, ProcessingOutputConfig,
    ProcessingResources, StoppingCondition, AppSpecification, Environment?, NetworkConfig?,
    RoleArn, ExperimentConfig?, ProcessingJobStatus (InProgress | Stopping | Completed | Failed |
    Stopped), ExitMessage?, FailureReason?, CreationTime, ProcessingStartTime?,
    ProcessingEndTime?, LastModifiedTime

plus one key AWS does not have, `SmliftLocal`, with what only a local run knows:

    {"IsolationMode": "bubblewrap" | "mount-namespace" | "path-rewrite" | "docker" (once the
     job has started), "Sandboxed": true only for bubblewrap and docker,
     "JobRoot": "<home>/jobs/NAME", "LogFile": "<home>/jobs/NAME/logs/algo-1-<epoch>",
     "LogStreamName": "NAME/algo-1-<epoch>", "ExitCode": 0, "RunnerPid": 1234,
     "Tags": [{"Key": ..., "Value": ...}]}

and, for a job of several instances, "Host" (the instance whose end is the job's: the failed
one, else algo-1), "LogFiles" and "LogStreamNames" (every instance's stream, algo-1's first).
Once the job has ended: "PeakMemoryBytes", {"algo-1": bytes, ...}, each instance's peak memory
where it could be measured (the largest VmHWM of the instance's processes, sampled, on smlift's runner; the
container's sampled resident memory on Docker; see docs/local.md).

`to_boto` gives what boto3's describe_processing_job returns (datetimes); `to_sfn` what Step
Functions puts in a `.sync` task's output (timestamps as epoch milliseconds, as the service
integrations serialize them; no `SmliftLocal`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from .spec import JobSpec

TERMINAL = ("Completed", "Failed", "Stopped")
TIMESTAMPS = ("CreationTime", "ProcessingStartTime", "ProcessingEndTime", "LastModifiedTime")
# Request members DescribeProcessingJob echoes back, in its order.
_ECHOED = ("ProcessingInputs", "ProcessingOutputConfig", "ProcessingJobName", "ProcessingResources",
           "StoppingCondition", "AppSpecification", "Environment", "NetworkConfig", "RoleArn",
           "ExperimentConfig")
_SUMMARY = ("ProcessingJobName", "ProcessingJobArn", "CreationTime", "ProcessingEndTime",
            "LastModifiedTime", "ProcessingJobStatus", "FailureReason", "ExitMessage")


def job_arn(name: str, region: str, account: str) -> str:
    """arn:aws:sagemaker:REGION:ACCOUNT:processing-job/name (SageMaker lowercases the name)."""
    return f"arn:aws:sagemaker:{region}:{account}:processing-job/{name.lower()}"


def new_description(spec: JobSpec, now: float, *, tags: list[dict], job_root: str) -> dict:
    """The record of a job just created: InProgress."""
    description = {key: spec.config[key] for key in _ECHOED if key in spec.config}
    description.update({"ProcessingJobArn": spec.arn, "ProcessingJobStatus": "InProgress",
                        "LastModifiedTime": now, "CreationTime": now,
                        "SmliftLocal": {"JobRoot": job_root, "Tags": tags}})
    return description


def with_status(description: dict, status: str, now: float, **fields: Any) -> dict:
    """A copy with a new status, LastModifiedTime and the given fields (None removes one).
    Keys in `local` go into SmliftLocal."""
    local = fields.pop("local", None) or {}
    updated = {**description, "ProcessingJobStatus": status, "LastModifiedTime": now}
    for key, value in fields.items():
        if value is None:
            updated.pop(key, None)
        else:
            updated[key] = value
    updated["SmliftLocal"] = {**description.get("SmliftLocal", {}), **local}
    return _ordered(updated)


def summary(description: dict) -> dict:
    """A ProcessingJobSummary (ListProcessingJobs), timestamps left as stored."""
    return {key: description[key] for key in _SUMMARY if key in description}


def to_boto(description: dict) -> dict:
    """Timestamps as timezone-aware datetimes, as boto3 returns them."""
    return {key: (datetime.fromtimestamp(value, tz=timezone.utc) if key in TIMESTAMPS else value)
            for key, value in description.items()}


def to_sfn(description: dict) -> dict:
    """Timestamps as epoch milliseconds, as a Step Functions `.sync` output carries them, and
    without `SmliftLocal` (not in AWS's answer, so neither in a task's result nor its cause).
    Members are in alphabetical order at every level, as Step Functions serializes an SDK
    response (recorded `.sync` histories show it); the `Environment` map keeps its own order."""
    return _alphabetical({key: (int(round(value * 1000)) if key in TIMESTAMPS else value)
                          for key, value in description.items() if key != "SmliftLocal"})


def _alphabetical(value: Any, key: str = "") -> Any:
    if isinstance(value, list):
        return [_alphabetical(item) for item in value]
    if not isinstance(value, dict) or key == "Environment":
        return value
    return {name: _alphabetical(value[name], name) for name in sorted(value)}


def to_json_ready(description: dict) -> dict:
    """Timestamps as ISO 8601 text (what `aws sagemaker describe-processing-job` prints)."""
    return {key: (_iso(value) if key in TIMESTAMPS else value)
            for key, value in description.items()}


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat(timespec="milliseconds")


def _ordered(description: dict) -> dict:
    order = _ECHOED + ("ProcessingJobArn", "ProcessingJobStatus", "ExitMessage", "FailureReason",
                       "ProcessingEndTime", "ProcessingStartTime", "LastModifiedTime",
                       "CreationTime", "SmliftLocal")
    ranked = {key: index for index, key in enumerate(order)}
    return dict(sorted(description.items(), key=lambda item: ranked.get(item[0], len(order))))
