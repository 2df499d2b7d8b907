"""RedriveExecution through the one AWS door and the backend seam.

moto (5.2) does not implement RedriveExecution (NotImplementedError), so these tests use
botocore's Stubber: it checks our request and the answers against the real service model, and
the error translation at the door, but not what AWS itself does with a redrive (unverified here;
docs/fidelity.md says so).
"""

from datetime import datetime, timezone

import boto3
import pytest
from botocore.stub import Stubber

from smlift.aws.client import AwsClient
from smlift.backend import aws_backend
from smlift.errors import AwsError

ARN = "arn:aws:states:eu-west-1:123456789012:execution:smlift:nightly"


@pytest.fixture
def stubbed(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = AwsClient(boto3.Session(region_name="eu-west-1"))
    with Stubber(client.client("stepfunctions")) as stub:
        yield client, stub


def test_redrive_goes_through_the_door_in_boto3_shape(stubbed):
    client, stub = stubbed
    date = datetime(2026, 1, 2, tzinfo=timezone.utc)
    stub.add_response("redrive_execution", {"redriveDate": date},
                      {"executionArn": ARN, "clientToken": "token-1"})
    answer = aws_backend(client).redrive(ARN, client_token="token-1")
    assert answer == {"redriveDate": date}
    stub.assert_no_pending_responses()


def test_an_execution_that_cannot_be_redriven_is_aws_error_with_its_code(stubbed):
    client, stub = stubbed
    stub.add_client_error("redrive_execution", "ExecutionNotRedrivable",
                          "Execution is SUCCEEDED and cannot be redriven.", 400,
                          expected_params={"executionArn": ARN})
    with pytest.raises(AwsError) as refused:
        aws_backend(client).redrive(ARN)
    assert refused.value.code == "ExecutionNotRedrivable"
    assert "SUCCEEDED" in str(refused.value)
