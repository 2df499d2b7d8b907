import json

import pytest

from smlift.asl.tasks import TaskRegistry, TaskRequest
from smlift.errors import StatesError
from smlift.processing import integration as I
from smlift.processing.spec import ApiError

EXECUTION = "arn:aws:states:eu-west-1:111122223333:execution:Pipeline:run-1"


class FakeService:
    """Answers like LocalProcessing: create_job and wait."""

    def __init__(self, final_status="Completed", error=None):
        self.final_status, self.error = final_status, error
        self.created, self.waits = [], []

    def create_job(self, request, *, region=None, account=None):
        if self.error is not None:
            raise self.error
        self.created.append((request, region, account))
        return {"ProcessingJobArn": f"arn:aws:sagemaker:{region}:{account}:processing-job/prep"}

    def wait(self, name, cancel=None):
        self.waits.append((name, cancel))
        description = {"ProcessingJobName": name, "ProcessingJobStatus": self.final_status,
                       "CreationTime": 1.0, "ProcessingEndTime": 2.5,
                       "SmliftLocal": {"JobRoot": "/home/jobs/prep", "ExitCode": 0}}
        if self.final_status != "Completed":
            description.update(ExitMessage="ValueError: bad row", FailureReason="AlgorithmError: x")
        return description


def task(resource=I.SYNC, parameters=None, submitted=None):
    return TaskRequest(resource=resource,
                       parameters=parameters or {"ProcessingJobName": "prep", "Tags": [
                           {"Key": "team", "Value": "ml"}]},
                       context={"Execution": {"Id": EXECUTION}}, state_name="Preprocess",
                       emit_submitted=(submitted.append if submitted is not None
                                       else lambda output: None))


def test_register_resolves_both_forms_in_any_region():
    registry = TaskRegistry()
    I.register(registry, None, service=FakeService())
    assert registry.resolve("arn:aws:states:::sagemaker:createProcessingJob.sync")
    assert registry.resolve("arn:aws:states:us-west-2:1:sagemaker:createProcessingJob")
    sync = registry.resolve(I.SYNC)
    assert sync is not registry.resolve(I.REQUEST_RESPONSE)


def test_job_is_tagged_and_created_in_the_executions_region_and_account():
    service = FakeService()
    I.run_request_response(service, task(I.REQUEST_RESPONSE))
    request, region, account = service.created[0]
    assert request["Tags"] == [{"Key": "team", "Value": "ml"}, I.MANAGED_TAG]
    assert (region, account) == ("eu-west-1", "111122223333")


def test_request_response_returns_the_arn_with_sdk_metadata_at_once():
    service = FakeService()
    result = I.run_request_response(service, task(I.REQUEST_RESPONSE))
    assert result["ProcessingJobArn"].endswith("processing-job/prep")
    assert result["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert result["SdkResponseMetadata"]["RequestId"]
    assert service.waits == []


def test_sdk_metadata_has_the_headers_recorded_aws_histories_show():
    body = {"ProcessingJobArn": "arn:aws:sagemaker:us-east-1:1:processing-job/prep"}
    metadata = I.sdk_metadata("rid-1", body, now=0)["SdkHttpMetadata"]
    headers = metadata["HttpHeaders"]
    assert headers == {"Connection": "keep-alive",
                       "Content-Length": str(len(json.dumps(body, separators=(",", ":")))),
                       "Content-Type": "application/x-amz-json-1.1",
                       "Date": "Thu, 01 Jan 1970 00:00:00 GMT", "x-amzn-RequestId": "rid-1"}
    assert metadata["AllHttpHeaders"] == {key: [value] for key, value in headers.items()}


def test_sync_emits_task_submitted_and_returns_the_description_in_epoch_millis():
    service, submitted = FakeService(), []
    request = task(submitted=submitted)
    result = I.run_sync(service, request)
    assert submitted[0]["ProcessingJobArn"].endswith("processing-job/prep")
    assert result == {"ProcessingJobName": "prep", "ProcessingJobStatus": "Completed",
                      "CreationTime": 1000, "ProcessingEndTime": 2500}
    assert service.waits == [("prep", request.cancelled)]


@pytest.mark.parametrize("status", ["Failed", "Stopped"])
def test_failed_or_stopped_job_fails_the_task_with_the_description_as_cause(status):
    with pytest.raises(StatesError) as caught:
        I.run_sync(FakeService(final_status=status), task())
    assert caught.value.error == "States.TaskFailed"
    cause = json.loads(caught.value.cause)
    assert cause["ProcessingJobStatus"] == status
    assert cause["ExitMessage"] == "ValueError: bad row"
    assert "SmliftLocal" not in cause  # DescribeProcessingJob on AWS has no such key


def test_resource_in_use_is_named_after_the_sdk_exception_with_an_aws_style_cause():
    error = ApiError("ResourceInUse", "a job with this name already exists")
    with pytest.raises(StatesError) as caught:
        I.run_sync(FakeService(error=error), task())
    assert caught.value.error == "SageMaker.ResourceInUseException"
    assert caught.value.cause.startswith("a job with this name already exists (Service: "
                                         "AmazonSageMaker; Status Code: 400; Error Code: "
                                         "ResourceInUse; Request ID: ")


def test_validation_errors_are_amazon_sagemaker_exceptions():
    error = ApiError("ValidationException", "1 validation error detected: ...")
    with pytest.raises(StatesError) as caught:
        I.run_request_response(FakeService(error=error), task(I.REQUEST_RESPONSE))
    assert caught.value.error == "SageMaker.AmazonSageMakerException"
    assert "Error Code: ValidationException" in caught.value.cause


def test_parameters_that_are_not_an_object_reach_validation_untagged():
    assert I.with_managed_tag(["x"]) == ["x"]
    assert I.with_managed_tag({"Tags": [I.MANAGED_TAG]})["Tags"] == [I.MANAGED_TAG]
