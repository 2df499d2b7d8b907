"""The fakes the local Processing job tests share: an image that is this interpreter, a service
that resolves every image to it, a job request around one step script, and one Task state
that runs a request through the engine.

    FakeImage                     a LocalImage stand-in: this interpreter, no ENTRYPOINT/CMD
    MODES                         the local isolation modes, each skipped where unavailable
    service(home, mode, ...)      LocalProcessing whose every image is a FakeImage
    request(name, s3, script)     CreateProcessingJob for `script`: code and data in, one output
    run_definition(home, body)    one createProcessingJob.sync Task state, run by the engine

Scripts find their folders through the environment (DATA, OUT, MSG), so they run in every
isolation mode (path-rewrite rewrites arguments and environment, not the script's own
literals). tests/functional/conftest.py puts this folder on sys.path.
"""

from __future__ import annotations

import os
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from smlift.asl.engine import run_execution
from smlift.asl.tasks import TaskRegistry
from smlift.local.store import open_store
from smlift.processing.integration import register
import pytest

from smlift.processing.runner import (BUBBLEWRAP, NAMESPACE, REWRITE, bubblewrap_available,
                                     namespace_available)
from smlift.processing.service import LocalProcessing

PATHS = {"DATA": "/opt/ml/processing/input/data", "OUT": "/opt/ml/processing/output",
         "MSG": "/opt/ml/output/message"}
_OUTPUT_PATHS = {key: PATHS[key] for key in ("OUT", "MSG")}


MODES = [REWRITE, pytest.param(NAMESPACE, marks=pytest.mark.skipif(
    not namespace_available(), reason="no private mount namespace on this machine")),
         pytest.param(BUBBLEWRAP, marks=pytest.mark.skipif(
             not bubblewrap_available() and os.environ.get("CI") != "true",
             reason="bubblewrap (bwrap) is not installed"))]


@dataclass(frozen=True)
class FakeImage:
    """A LocalImage stand-in: this interpreter, no ENTRYPOINT/CMD."""
    uri: str = "local-test:1"
    bin_dir: Path = Path(sys.executable).parent
    entrypoint: list | None = None
    cmd: list | None = None
    env: dict = field(default_factory=dict)
    workdir: str = "/"
    files: tuple = ()
    kind: str = "built"


def service(home, mode=REWRITE, *, grace_seconds: float = 0.5, **kwargs) -> LocalProcessing:
    """Local Processing under `home`, every image this interpreter."""
    return LocalProcessing(home, mode=mode, resolve_image=lambda uri: FakeImage(uri=uri),
                           grace_seconds=grace_seconds, **kwargs)


def request(name, s3, script, *, max_runtime=60, environment=None, data=True) -> dict:
    """A job running `script` (uploaded to s3://data/code/NAME/), reading s3://data/in unless
    not `data`, writing s3://data/out/NAME; the environment names its folders (PATHS, without
    DATA when there is no data)."""
    s3.put_bytes(textwrap.dedent(script).encode(), f"s3://data/code/{name}/step.py")
    inputs = [{"InputName": "code", "S3Input": {"S3Uri": f"s3://data/code/{name}",
                                                "LocalPath": "/opt/ml/processing/input/code",
                                                "S3DataType": "S3Prefix"}}]
    if data:
        inputs.append({"InputName": "data", "S3Input": {"S3Uri": "s3://data/in",
                                                        "LocalPath": PATHS["DATA"],
                                                        "S3DataType": "S3Prefix"}})
    return {
        "ProcessingJobName": name,
        "RoleArn": "arn:aws:iam::123456789012:role/smlift-test",
        "AppSpecification": {"ImageUri": "local-test:1", "ContainerEntrypoint": [
            "python3", "/opt/ml/processing/input/code/step.py"]},
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1,
                                                  "InstanceType": "ml.m5.large",
                                                  "VolumeSizeInGB": 30}},
        "ProcessingInputs": inputs,
        "ProcessingOutputConfig": {"Outputs": [
            {"OutputName": "result", "S3Output": {"S3Uri": f"s3://data/out/{name}",
                                                  "LocalPath": "/opt/ml/processing/output",
                                                  "S3UploadMode": "EndOfJob"}}]},
        "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime},
        "Environment": {**(PATHS if data else _OUTPUT_PATHS), **(environment or {})},
    }


def run_definition(home, body, resource="arn:aws:states:::sagemaker:createProcessingJob.sync"):
    """One Task state with `body` as its Parameters, run by the engine; (result, the service)."""
    registry = TaskRegistry()
    jobs = register(registry, home, service=service(home))
    machine = {"StartAt": "Preprocess", "States": {"Preprocess": {
        "Type": "Task", "Resource": resource, "Parameters": body, "End": True}}}
    result = run_execution(machine, {}, name="e2e", store=open_store(home), tasks=registry)
    return result, jobs
