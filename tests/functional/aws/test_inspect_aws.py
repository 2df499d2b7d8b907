"""`smlift executions ...`, `jobs ...` and `wait` on AWS (moto), through the one door: the same
commands and output shapes as on the embedded default, the side chosen by --aws or by the ARN."""

import json
import time

import boto3
import pytest

REGION = "us-east-1"
PASS = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
ROLE = "arn:aws:iam::123456789012:role/smlift-sagemaker"


@pytest.fixture
def aws_home(mocked_aws, monkeypatch, tmp_path):
    """moto, a region, and an empty local home: nothing local to confuse the lookups."""
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("SMLIFT_HOME", str(tmp_path / "home"))
    return tmp_path


@pytest.fixture
def execution(aws_home):
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machine = sfn.create_state_machine(name="smlift", definition=PASS,
                                       roleArn="arn:aws:iam::123456789012:role/sfn")
    started = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="churn-1")
    return machine["stateMachineArn"], started["executionArn"]


def test_executions_list_on_aws_answers_in_list_executions_shape(run_cli, execution):
    machine, arn = execution
    code, out, err = run_cli("executions", "list", "--aws", "--state-machine-arn", machine)
    assert code == 0, err
    listed = json.loads(out)["executions"]
    assert [(e["name"], e["executionArn"], e["stateMachineArn"]) for e in listed] == [
        ("churn-1", arn, machine)]


def test_an_aws_arn_picks_aws_without_a_flag_and_status_is_its_alias(run_cli, execution):
    _, arn = execution
    code, out, err = run_cli("executions", "describe", arn)
    assert code == 0, err
    assert json.loads(out)["executionArn"] == arn
    code, alias, _ = run_cli("status", arn)
    assert code == 0 and json.loads(alias)["name"] == "churn-1"


def test_text_output_is_one_unwrapped_line_with_the_full_arn(run_cli, execution):
    _, arn = execution
    code, out, _ = run_cli("executions", "describe", arn, "--output", "text")
    assert code == 0
    assert out.splitlines() == [out.rstrip("\n")] and out.split("\t")[0] == "churn-1"
    assert out.rstrip("\n").endswith(arn)


def test_executions_stop_on_aws_ends_it_aborted(run_cli, execution):
    _, arn = execution
    code, out, err = run_cli("executions", "stop", arn, "--cause", "test")
    assert code == 0, err
    assert "stopDate" in json.loads(out)
    assert boto3.client("stepfunctions", region_name=REGION).describe_execution(
        executionArn=arn)["status"] == "ABORTED"


def test_wait_timeout_exits_124_not_1(run_cli, execution):
    _, arn = execution
    code, _, err = run_cli("wait", arn, "--timeout", "0", "--poll", "0.01")
    assert code == 124, err
    assert "after 0s" in err


def test_executions_list_on_aws_without_a_deployment_names_the_option(run_cli, aws_home):
    code, _, err = run_cli("executions", "list", "--aws")
    assert code == 1
    assert "--state-machine-arn" in err and "Traceback" not in err


@pytest.fixture
def job(aws_home):
    boto3.client("sagemaker", region_name=REGION).create_processing_job(
        ProcessingJobName="predict-1", RoleArn=ROLE,
        AppSpecification={"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1"},
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1,
                                               "InstanceType": "ml.m5.xlarge",
                                               "VolumeSizeInGB": 30}})
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="/aws/sagemaker/ProcessingJobs")
    logs.create_log_stream(logGroupName="/aws/sagemaker/ProcessingJobs",
                           logStreamName="predict-1/algo-1-1700000000")
    logs.put_log_events(logGroupName="/aws/sagemaker/ProcessingJobs",
                        logStreamName="predict-1/algo-1-1700000000",
                        logEvents=[{"timestamp": int(time.time() * 1000) + i,  # AWS refuses
                                    "message": f"line {i}"} for i in range(3)])   # old events
    return "predict-1"


def test_jobs_describe_and_list_on_aws_answer_in_sagemaker_shapes(run_cli, job):
    code, out, err = run_cli("jobs", "describe", job, "--aws")
    assert code == 0, err
    assert json.loads(out)["ProcessingJobName"] == job
    code, out, err = run_cli("jobs", "list", "--aws")
    assert code == 0, err
    assert [s["ProcessingJobName"] for s in json.loads(out)["ProcessingJobSummaries"]] == [job]


def test_jobs_logs_on_aws_read_cloudwatch_logs(run_cli, job):
    code, out, err = run_cli("jobs", "logs", job, "--aws")
    assert code == 0, err
    assert out.splitlines() == ["line 0", "line 1", "line 2"]


def test_a_job_arn_the_local_store_does_not_know_is_asked_of_aws(run_cli, job):
    arn = f"arn:aws:sagemaker:{REGION}:123456789012:processing-job/{job}"
    code, out, err = run_cli("jobs", "describe", arn)
    assert code == 0, err
    assert json.loads(out)["ProcessingJobName"] == job


def test_aws_and_local_together_is_a_user_error(run_cli, aws_home):
    code, _, err = run_cli("executions", "list", "--aws", "--local")
    assert code == 1 and "--aws and --local exclude each other" in err
