from datetime import timezone

from smlift.processing import describe as D
from smlift.processing.spec import build_spec


def test_arn_lowercases_the_job_name_as_sagemaker_does():
    assert (D.job_arn("Prep-Step", "eu-west-1", "111122223333")
            == "arn:aws:sagemaker:eu-west-1:111122223333:processing-job/prep-step")


def test_new_description_echoes_the_request_with_defaults(minimal_request):
    spec = build_spec(minimal_request, arn="arn:x")
    description = D.new_description(spec, 100.0, tags=[{"Key": "k", "Value": "v"}], job_root="/r")
    assert description["ProcessingJobStatus"] == "InProgress"
    assert description["ProcessingJobName"] == "Prep-Step"
    assert description["ProcessingInputs"][0]["S3Input"]["S3InputMode"] == "File"
    assert description["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400}
    assert description["CreationTime"] == description["LastModifiedTime"] == 100.0
    assert description["SmliftLocal"] == {"JobRoot": "/r", "Tags": [{"Key": "k", "Value": "v"}]}


def test_with_status_sets_and_removes_fields_and_merges_local(minimal_request):
    spec = build_spec(minimal_request, arn="arn:x")
    first = D.new_description(spec, 1.0, tags=[], job_root="/r")
    failed = D.with_status(first, "Failed", 5.0, FailureReason="AlgorithmError: x",
                           ExitMessage=None, local={"ExitCode": 1})
    assert failed["ProcessingJobStatus"] == "Failed" and failed["LastModifiedTime"] == 5.0
    assert "ExitMessage" not in failed
    assert failed["SmliftLocal"] == {"JobRoot": "/r", "Tags": [], "ExitCode": 1}
    assert first["ProcessingJobStatus"] == "InProgress"


def test_renderings_convert_only_the_timestamps():
    record = {"ProcessingJobName": "a", "CreationTime": 1.5, "ProcessingEndTime": 2.0}
    assert D.to_sfn(record) == {"ProcessingJobName": "a", "CreationTime": 1500,
                                "ProcessingEndTime": 2000}
    assert D.to_boto(record)["CreationTime"].tzinfo is timezone.utc
    assert D.to_json_ready(record)["CreationTime"] == "1970-01-01T00:00:01.500+00:00"


def test_the_step_functions_rendering_orders_members_alphabetically_but_not_the_environment():
    record = {"ProcessingJobName": "a", "AppSpecification": {"ImageUri": "i",
                                                             "ContainerEntrypoint": ["p"]},
              "Environment": {"Z": "1", "A": "2"}, "CreationTime": 1.0}
    rendered = D.to_sfn(record)
    assert list(rendered) == ["AppSpecification", "CreationTime", "Environment",
                              "ProcessingJobName"]
    assert list(rendered["AppSpecification"]) == ["ContainerEntrypoint", "ImageUri"]
    assert list(rendered["Environment"]) == ["Z", "A"]


def test_the_step_functions_rendering_leaves_out_the_local_only_key():
    record = {"ProcessingJobName": "a", "SmliftLocal": {"JobRoot": "/r", "ExitCode": 0}}
    assert D.to_sfn(record) == {"ProcessingJobName": "a"}
    assert D.to_boto(record)["SmliftLocal"] == {"JobRoot": "/r", "ExitCode": 0}


def test_summary_has_the_list_processing_jobs_members():
    record = {"ProcessingJobName": "a", "ProcessingJobArn": "arn", "ProcessingJobStatus": "Failed",
              "CreationTime": 1.0, "FailureReason": "x", "Environment": {}}
    assert set(D.summary(record)) == {"ProcessingJobName", "ProcessingJobArn",
                                      "ProcessingJobStatus", "CreationTime", "FailureReason"}
