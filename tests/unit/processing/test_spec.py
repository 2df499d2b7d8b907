import copy

import pytest

from smlift.processing.spec import ApiError, build_spec, fill_defaults

ARN = "arn:aws:sagemaker:us-east-1:123456789012:processing-job/prep"


def minimal():  # the same request as the minimal_request fixture, with arguments
    return {
        "ProcessingJobName": "prep",
        "RoleArn": "arn:aws:iam::123456789012:role/r",
        "AppSpecification": {"ImageUri": "img:1", "ContainerArguments": ["--x", "1"]},
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                  "VolumeSizeInGB": 30}},
        "ProcessingInputs": [{"InputName": "data", "S3Input": {
            "S3Uri": "s3://b/in", "LocalPath": "/opt/ml/processing/input", "S3DataType": "S3Prefix"}}],
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": "out", "S3Output": {
            "S3Uri": "s3://b/out", "LocalPath": "/opt/ml/processing/output",
            "S3UploadMode": "EndOfJob"}}]},
    }


def problems_of(request, code="ValidationException"):
    with pytest.raises(ApiError) as caught:
        build_spec(request, arn=ARN)
    assert caught.value.code == code
    return caught.value.problems


def local_only_problems_of(request):
    """What the local runner refuses with smlift's own `NotEmulated` (no AWS retrier names it)."""
    return problems_of(request, "NotEmulated")


def test_defaults_are_filled_as_describe_processing_job_shows_them():
    filled = fill_defaults(minimal())
    s3_input = filled["ProcessingInputs"][0]["S3Input"]
    assert s3_input["S3InputMode"] == "File"
    assert s3_input["S3DataDistributionType"] == "FullyReplicated"
    assert s3_input["S3CompressionType"] == "None"
    assert filled["ProcessingInputs"][0]["AppManaged"] is False
    assert filled["ProcessingOutputConfig"]["Outputs"][0]["AppManaged"] is False
    assert filled["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400}


def test_fill_defaults_leaves_the_request_untouched():
    request = minimal()
    before = copy.deepcopy(request)
    fill_defaults(request)
    assert request == before


def test_spec_carries_what_the_runner_needs_and_the_config_file():
    spec = build_spec(minimal(), arn=ARN)
    assert spec.entrypoint is None and spec.arguments == ("--x", "1")
    assert spec.inputs[0].local_path == "/opt/ml/processing/input"
    assert spec.outputs[0].s3_uri == "s3://b/out"
    assert spec.max_runtime == 86400
    assert spec.config["ProcessingJobArn"] == ARN
    assert spec.config["ProcessingInputs"][0]["S3Input"]["S3InputMode"] == "File"


def test_pipe_mode_is_refused_with_the_field_named():
    request = minimal()
    request["ProcessingInputs"][0]["S3Input"]["S3InputMode"] = "Pipe"
    [(where, message)] = local_only_problems_of(request)
    assert where == "ProcessingInputs[0].S3Input.S3InputMode"
    assert "Pipe mode is not emulated" in message


def test_continuous_upload_is_refused():
    request = minimal()
    request["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3UploadMode"] = "Continuous"
    [(where, message)] = local_only_problems_of(request)
    assert where.endswith("S3UploadMode") and "Continuous upload is not emulated" in message


def test_several_instances_and_sharded_inputs_are_accepted():
    request = minimal()
    request["ProcessingResources"]["ClusterConfig"]["InstanceCount"] = 3
    request["ProcessingInputs"][0]["S3Input"]["S3DataDistributionType"] = "ShardedByS3Key"
    spec = build_spec(request, arn=ARN)
    assert spec.instance_count == 3
    assert spec.inputs[0].distribution == "ShardedByS3Key"


def test_an_input_is_fully_replicated_unless_it_says_otherwise():
    assert build_spec(minimal(), arn=ARN).inputs[0].distribution == "FullyReplicated"


@pytest.mark.parametrize("local_path", ["/tmp/x", "/opt/ml/processing", "/opt/ml/processing/../x"])
def test_local_paths_must_be_under_opt_ml_processing(local_path):
    request = minimal()
    request["ProcessingInputs"][0]["S3Input"]["LocalPath"] = local_path
    [(where, message)] = local_only_problems_of(request)
    assert where == "ProcessingInputs[0].S3Input.LocalPath" and "/opt/ml/processing/" in message


def test_validation_message_counts_the_problems_like_sagemaker():
    request = minimal()
    request["ProcessingJobName"] = "bad_name"
    with pytest.raises(ApiError) as caught:
        build_spec(request, arn=ARN)
    assert caught.value.message.startswith("1 validation error detected: Value at "
                                           "'processingJobName' failed to satisfy constraint")


def test_input_names_and_local_paths_must_be_unique():
    request = minimal()
    request["ProcessingInputs"].append(copy.deepcopy(request["ProcessingInputs"][0]))
    problems = problems_of(request)
    assert [where for where, _ in problems] == ["ProcessingInputs[1]", "ProcessingInputs[1]"]
    assert "used twice" in problems[0][1] and "LocalPath" in problems[1][1]


def test_an_ecr_image_of_another_region_is_refused_in_sagemakers_words():
    request = minimal()
    request["AppSpecification"]["ImageUri"] = ("141502667606.dkr.ecr.eu-west-1.amazonaws.com/"
                                               "sagemaker-scikit-learn:1.4-2-cpu-py3")
    with pytest.raises(ApiError) as caught:
        build_spec(request, arn=ARN)
    assert caught.value.code == "ValidationException"
    assert caught.value.message == (
        "Invalid region eu-west-1 in image URI 141502667606.dkr.ecr.eu-west-1.amazonaws.com/"
        "sagemaker-scikit-learn:1.4-2-cpu-py3. Please provide an image URI in region us-east-1.")


@pytest.mark.parametrize("field, value, words", [
    (("ProcessingResources", "ClusterConfig", "VolumeSizeInGB"), "30", "must be an integer"),
    (("StoppingCondition", "MaxRuntimeInSeconds"), 3600.5, "must be an integer"),
    (("Environmnet",), {"A": "1"}, "unknown field 'Environmnet' (did you mean Environment?)"),
])
def test_shape_problems_are_told_apart_from_sagemakers_own_checks(field, value, words):
    from smlift.processing.request import check_request_shape

    request = minimal()
    target = request
    for key in field[:-1]:
        target = target.setdefault(key, {})
    target[field[-1]] = value
    [(where, message)] = check_request_shape(request)
    assert where == ".".join(field) and words in message
    request = minimal()
    request["ProcessingJobName"] = "bad_name"  # a value SageMaker refuses, not a shape problem
    assert check_request_shape(request) == []
