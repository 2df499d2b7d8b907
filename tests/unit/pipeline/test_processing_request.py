"""check_create_processing_job: botocore's SageMaker model plus the checks botocore skips."""

import copy

import pytest

from smlift.processing.request import check_create_processing_job, format_problems

VALID = {
    "ProcessingJobName": "preprocess-run-1-ab12cd34",
    "RoleArn": "arn:aws:iam::123456789012:role/smlift-sagemaker",
    "AppSpecification": {
        "ImageUri": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
        "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/preprocessing.py"],
    },
    "ProcessingResources": {
        "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 30}
    },
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    "ProcessingInputs": [
        {"InputName": "code", "S3Input": {"S3Uri": "s3://b/code/", "LocalPath": "/opt/ml/processing/input/code",
                                          "S3DataType": "S3Prefix", "S3InputMode": "File"}},
    ],
    "ProcessingOutputConfig": {"Outputs": [
        {"OutputName": "out", "S3Output": {"S3Uri": "s3://b/out/", "LocalPath": "/opt/ml/processing/output",
                                           "S3UploadMode": "EndOfJob"}},
    ]},
    "Environment": {"MODEL_NAME": "demo"},
    "Tags": [{"Key": "project", "Value": "smlift"}, {"Key": "execution", "Value": "run_1 été"}],
}


def broken(**changes):
    request = copy.deepcopy(VALID)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        target = request
        for name in parents:
            target = target[int(name)] if name.isdigit() else target[name]
        if value is KeyError:
            del target[leaf]
        else:
            target[leaf] = value
    return check_create_processing_job(request)


def test_a_complete_request_has_no_problems():
    assert check_create_processing_job(VALID) == []


def test_job_name_with_underscore_fails_the_pattern_and_says_so():
    assert broken(ProcessingJobName="x_y") == [(
        "ProcessingJobName",
        "'x_y' does not match [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62} "
        "(use 1-63 letters, digits and hyphens, starting and ending with a letter or digit)",
    )]


def test_job_name_longer_than_63_characters_is_refused():
    [(path, message)] = [p for p in broken(ProcessingJobName="a" * 64) if "64 characters" in p[1]]
    assert path == "ProcessingJobName" and "between 1 and 63" in message


def test_missing_required_member_is_named_with_its_parent():
    assert broken(ProcessingResources__ClusterConfig__VolumeSizeInGB=KeyError) == [(
        "ProcessingResources.ClusterConfig.VolumeSizeInGB",
        "is required: add VolumeSizeInGB to ProcessingResources.ClusterConfig",
    )]


def test_missing_top_level_role_is_reported():
    assert broken(RoleArn=KeyError) == [("RoleArn", "is required: add RoleArn to the request")]


def test_non_s3_uri_in_an_input_is_located_by_index():
    [(path, message)] = broken(ProcessingInputs__0__S3Input__S3Uri="/tmp/data")
    assert path == "ProcessingInputs[0].S3Input.S3Uri"
    assert message.startswith("'/tmp/data' does not match (https|s3)://")


def test_string_where_an_integer_is_required_is_a_type_error():
    assert broken(StoppingCondition__MaxRuntimeInSeconds="3600") == [
        ("StoppingCondition.MaxRuntimeInSeconds", "must be an integer, not a string '3600'")]


def test_boolean_is_not_accepted_as_an_integer():
    assert broken(ProcessingResources__ClusterConfig__InstanceCount=True)[0][1].startswith("must be an integer")


def test_integer_range_is_checked():
    assert broken(StoppingCondition__MaxRuntimeInSeconds=777601) == [
        ("StoppingCondition.MaxRuntimeInSeconds", "777601 is out of range: must be between 1 and 777600")]


def test_unknown_instance_type_suggests_the_close_one():
    [(path, message)] = broken(ProcessingResources__ClusterConfig__InstanceType="ml.m5.xlarg")
    assert path == "ProcessingResources.ClusterConfig.InstanceType"
    assert "did you mean ml.m5.xlarge" in message


def test_small_enum_lists_every_allowed_value():
    [(_, message)] = broken(ProcessingInputs__0__S3Input__S3DataType="Prefix")
    assert message == "'Prefix' is not one of ManifestFile, S3Prefix"


def test_unknown_field_suggests_the_spelling():
    assert broken(ProcessingResources__ClusterConfg={}) == [
        ("ProcessingResources.ClusterConfg", "unknown field 'ClusterConfg' (did you mean ClusterConfig?)")]


def test_list_length_maximum_is_checked():
    [(path, message)] = broken(Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
    assert path == "Tags" and "51 items" in message and "between 0 and 50" in message


def test_environment_key_pattern_is_checked():
    [(path, message)] = broken(Environment={"1BAD": "x"})
    assert path == "Environment" and message.startswith("key '1BAD' does not match")


def test_tag_patterns_accept_unicode_letters_and_refuse_symbols():
    assert broken(Tags=[{"Key": "Größe", "Value": "日本 1"}]) == []
    [(path, _)] = broken(Tags=[{"Key": "a#b", "Value": "x"}])
    assert path == "Tags[0].Key"


def test_wrong_container_type_names_what_was_given():
    assert broken(ProcessingInputs={"InputName": "x"}) == [("ProcessingInputs", "must be a list, not an object")]


def test_null_member_is_refused():
    assert broken(Environment=None) == [("Environment", "is null: give a value or leave the field out")]


@pytest.mark.parametrize("request_", [[], "x", None])
def test_a_request_that_is_not_an_object_is_one_problem(request_):
    [(path, message)] = check_create_processing_job(request_)
    assert path == "" and message.startswith("the request must be a JSON object")


def test_format_problems_puts_one_problem_per_line():
    text = format_problems([("A", "x"), ("", "y")])
    assert text == "A: x\n(request): y"
