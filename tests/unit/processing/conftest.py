import pytest


@pytest.fixture
def minimal_request():
    """A valid CreateProcessingJob request with one input and one output."""
    return {
        "ProcessingJobName": "Prep-Step",
        "RoleArn": "arn:aws:iam::123456789012:role/r",
        "AppSpecification": {"ImageUri": "img:1"},
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                  "VolumeSizeInGB": 30}},
        "ProcessingInputs": [{"InputName": "data", "S3Input": {
            "S3Uri": "s3://b/in", "LocalPath": "/opt/ml/processing/input", "S3DataType": "S3Prefix"}}],
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": "out", "S3Output": {
            "S3Uri": "s3://b/out", "LocalPath": "/opt/ml/processing/output",
            "S3UploadMode": "EndOfJob"}}]},
        "Environment": {"A": "1"},
    }
