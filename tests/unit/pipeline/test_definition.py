"""statemachine/definition.asl.json, run on the engine with a recording SageMaker: the four
CreateProcessingJob requests field by field, job names, locations, Retry, Catch and Fail."""

import json
import re

import pytest

from smlift.asl.clock import VirtualClock
from smlift.asl.engine import run_execution
from smlift.asl.tasks import TaskRegistry
from smlift.errors import StatesError
from smlift.validate import AWKWARD_NAME, PROCESSING_SYNC, resolve_requests
from smlift.processing.request import check_create_processing_job

JOB_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
SKLEARN = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.4-2-cpu-py3"
CODE, DATA, OUT = "/opt/ml/processing/input/code", "/opt/ml/processing/input/data", "/opt/ml/processing/output"
SCHEMA = "/opt/ml/processing/input/schema"


def s3_input(name, uri, local, distribution="FullyReplicated"):
    return {"InputName": name, "S3Input": {
        "S3Uri": uri, "LocalPath": local, "S3DataType": "S3Prefix", "S3InputMode": "File",
        "S3DataDistributionType": distribution, "S3CompressionType": "None"}}


def one_output(name, uri, local=OUT):
    return {"OutputName": name, "S3Output": {"S3Uri": uri, "LocalPath": local,
                                             "S3UploadMode": "EndOfJob"}}


def s3_output(name, uri):
    return {"Outputs": [one_output(name, uri)]}


def common(role, tags, instance="ml.m5.xlarge", volume=30, runtime=3600, count=1):
    return {"RoleArn": role, "Tags": tags,
            "ProcessingResources": {"ClusterConfig": {"InstanceCount": count, "InstanceType": instance,
                                                      "VolumeSizeInGB": volume}},
            "StoppingCondition": {"MaxRuntimeInSeconds": runtime}}


@pytest.mark.parametrize("example", ["input.local.json", "input.json"])
def test_example_inputs_resolve_to_four_exact_requests(root, example):
    data = json.loads((root / "examples" / example).read_text())
    definition = json.loads((root / "statemachine/definition.asl.json").read_text())
    jobs = resolve_requests(definition, data, "nightly-1")
    assert [job.state for job in jobs] == ["Preprocess", "Predict", "Postprocess", "Summarize"]
    base = data["output_uri"].rstrip("/") + "/nightly-1"
    tags = [{"Key": "project", "Value": "smlift"}, {"Key": "execution", "Value": "nightly-1"}]
    if "model_name" in data:
        tags.append({"Key": "model", "Value": data["model_name"]})
    shared = common(data["role"], tags)
    preprocess, predict, postprocess, summarize = (job.request for job in jobs)
    suffix = preprocess["ProcessingJobName"].rsplit("-", 1)[1]
    assert re.fullmatch(r"[0-9a-f]{8}", suffix)
    assert preprocess == {
        **shared, "ProcessingJobName": f"smlift-preprocess-nightly-1-{suffix}",
        "AppSpecification": {"ImageUri": SKLEARN,
                             "ContainerEntrypoint": ["python3", f"{CODE}/preprocessing.py"]},
        "Environment": {"SMLIFT_SPLIT": "by-host"},
        "ProcessingInputs": [s3_input("code", data["code_uri"], CODE),
                             s3_input("data", data["input_uri"], DATA)],
        "ProcessingOutputConfig": s3_output("preprocessed", f"{base}/preprocessed/")}
    assert predict == {
        **shared, "ProcessingJobName": f"smlift-predict-nightly-1-{suffix}",
        "AppSpecification": {"ImageUri": data["custom_image_uri"]},
        "ProcessingInputs": [s3_input("data", f"{base}/preprocessed/parts/", DATA,
                                      "ShardedByS3Key")],
        "ProcessingOutputConfig": s3_output("predictions", f"{base}/predictions/")}
    assert postprocess == {
        **shared, "ProcessingJobName": f"smlift-postprocess-nightly-1-{suffix}",
        "AppSpecification": {"ImageUri": SKLEARN,
                             "ContainerEntrypoint": ["python3", f"{CODE}/postprocessing.py"]},
        "ProcessingInputs": [s3_input("code", data["code_uri"], CODE),
                             s3_input("data", f"{base}/predictions/", DATA, "ShardedByS3Key"),
                             s3_input("schema", f"{base}/preprocessed/schema/", SCHEMA)],
        "ProcessingOutputConfig": {"Outputs": [
            one_output("result", f"{base}/result/", f"{OUT}/results"),
            one_output("partials", f"{base}/partials/", f"{OUT}/partials")]}}
    assert summarize == {
        **shared, "ProcessingJobName": f"smlift-summarize-nightly-1-{suffix}",
        "AppSpecification": {"ImageUri": SKLEARN,
                             "ContainerEntrypoint": ["python3", f"{CODE}/postprocessing.py",
                                                     "--summarize"]},
        "ProcessingInputs": [s3_input("code", data["code_uri"], CODE),
                             s3_input("data", f"{base}/partials/", DATA)],
        "ProcessingOutputConfig": s3_output("result", f"{base}/result/")}
    for job in jobs:
        assert check_create_processing_job(job.request) == []


def test_instance_count_splits_every_step_but_the_summary(definition, local_input):
    jobs = resolve_requests(definition, {**local_input, "instance_count": 3}, "r")
    counts = {job.state: job.request["ProcessingResources"]["ClusterConfig"]["InstanceCount"]
              for job in jobs}
    assert counts == {"Preprocess": 3, "Predict": 3, "Postprocess": 3, "Summarize": 1}
    distributions = {job.state: {i["InputName"]: i["S3Input"]["S3DataDistributionType"]
                                 for i in job.request["ProcessingInputs"]} for job in jobs}
    assert distributions == {
        "Preprocess": {"code": "FullyReplicated", "data": "FullyReplicated"},
        "Predict": {"data": "ShardedByS3Key"},
        "Postprocess": {"code": "FullyReplicated", "data": "ShardedByS3Key",
                        "schema": "FullyReplicated"},
        "Summarize": {"code": "FullyReplicated", "data": "FullyReplicated"}}


def test_the_local_example_uses_local_s3_and_the_local_image(local_input):
    assert local_input["input_uri"].startswith("s3://smlift-local/")
    assert local_input["custom_image_uri"] == "smlift-inference:latest"


def test_defaults_are_applied_inside_the_state_machine_and_overrides_win(definition, local_input):
    given = {**local_input, "instance_type": "ml.c5.2xlarge", "volume_size": 100}
    [job, *_] = resolve_requests(definition, given, "r")
    cluster = job.request["ProcessingResources"]["ClusterConfig"]
    assert (cluster["InstanceType"], cluster["VolumeSizeInGB"]) == ("ml.c5.2xlarge", 100)
    assert job.request["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}


def test_a_trailing_slash_free_output_uri_gives_the_same_locations(definition, local_input):
    given = {**local_input, "output_uri": "s3://smlift-local/output"}
    [job, *_] = resolve_requests(definition, given, "r")
    assert job.request["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] == \
        "s3://smlift-local/output/r/preprocessed/"


@pytest.mark.parametrize("name", [AWKWARD_NAME, "a" * 80, "_", "x_y.z", "Élan-été", "9" * 80])
def test_job_names_are_valid_for_any_execution_name(definition, local_input, name):
    for job in resolve_requests(definition, local_input, name):
        assert JOB_NAME.fullmatch(job.request["ProcessingJobName"]), job.request["ProcessingJobName"]
        assert check_create_processing_job(job.request) == []


def test_job_names_are_readable_and_differ_between_executions(definition, local_input):
    first = [j.request["ProcessingJobName"] for j in resolve_requests(definition, local_input, "run_1")]
    second = [j.request["ProcessingJobName"] for j in resolve_requests(definition, local_input, "run_2")]
    assert first[0].startswith("smlift-preprocess-run-1-") and first[1].startswith("smlift-predict-run-1-")
    assert not set(first) & set(second)


def run_with(definition, data, handler, name="run-1"):
    registry = TaskRegistry()
    registry.register(PROCESSING_SYNC, handler)
    return run_execution(definition, data, name=name, tasks=registry, clock=VirtualClock(),
                         random=lambda: 0.5)


def completed(request):
    return {"ProcessingJobName": request.parameters["ProcessingJobName"], "ProcessingJobStatus": "Completed"}


def test_a_retry_creates_the_job_under_a_new_name(definition, local_input):
    names = []

    def handler(request):
        names.append(request.parameters["ProcessingJobName"])
        if len(names) == 1:
            raise StatesError("SageMaker.ResourceLimitExceededException", "too many jobs")
        return completed(request)

    result = run_with(definition, local_input, handler)
    assert result.status == "SUCCEEDED"
    assert names[0] != names[1] and names[1].startswith("smlift-preprocess-run-1-")


def test_a_failing_step_ends_in_the_fail_state_naming_the_step_and_cause(definition, local_input):
    def handler(request):
        if request.state_name == "Predict":
            raise StatesError("States.TaskFailed", "AlgorithmError: predict.py exited 1")
        return completed(request)

    result = run_with(definition, local_input, handler)
    assert (result.status, result.error) == ("FAILED", "PredictFailed")
    assert result.cause == "Predict failed: States.TaskFailed: AlgorithmError: predict.py exited 1"


def test_a_failing_summary_ends_in_the_fail_state_naming_it(definition, local_input):
    def handler(request):
        if request.state_name == "Summarize":
            raise StatesError("States.TaskFailed", "AlgorithmError: no partial sums")
        return completed(request)

    result = run_with(definition, local_input, handler)
    assert (result.status, result.error) == ("FAILED", "SummarizeFailed")
    assert result.cause == "Summarize failed: States.TaskFailed: AlgorithmError: no partial sums"


def test_success_output_names_the_result_and_the_four_jobs(definition, local_input):
    result = run_with(definition, local_input, completed, name="n1")
    assert result.output["result_uri"] == "s3://smlift-local/output/n1/result/"
    assert set(result.output["jobs"]) == {"preprocess", "predict", "postprocess", "summarize"}
    assert result.output["jobs"]["summarize"].startswith("smlift-summarize-n1-")
    assert result.output["execution"] == "n1"
