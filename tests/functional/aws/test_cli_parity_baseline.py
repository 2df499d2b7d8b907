"""`smlift parity --baseline EXECUTION` with an AWS execution (moto): its result files come
through the backend seam, downloaded into a temporary folder, and compare with a local run's."""

import json

import boto3
import pytest

from smlift.local.s3 import LocalS3

REGION = "us-east-1"
PASS = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
PROJECT = """[legacy]
command = "python predict.py"
input = "data.csv"
results = ["output/predictions.csv"]
"""


@pytest.fixture
def project(tmp_path, monkeypatch, mocked_aws):
    """A project, an empty local home, and moto in REGION."""
    (tmp_path / "smlift.toml").write_text(PROJECT)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMLIFT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AWS_REGION", REGION)
    return tmp_path


def _local_run(run_cli, tmp_path, name: str, predictions: str) -> str:
    """A succeeded local execution whose output names a result folder holding `predictions`."""
    run = f"s3://smlift-local/output/{name}"
    s3 = LocalS3()
    s3.put_bytes(predictions.encode(), f"{run}/result/predictions.csv")
    s3.put_bytes(b"x\n1\n", f"{run}/preprocessed/part-0.csv")
    definition = tmp_path / "publish.asl.json"
    definition.write_text(json.dumps({"StartAt": "Publish", "States": {"Publish": {
        "Type": "Pass", "End": True, "Result": {"result_uri": f"{run}/result/"}}}}))
    code, out, err = run_cli("execute", "--definition", str(definition), "--name", name)
    assert code == 0 and json.loads(out)["status"] == "SUCCEEDED", out + err
    return json.loads(out)["executionArn"]


def _aws_run(name: str, predictions: str, status: str = "SUCCEEDED") -> str:
    """An AWS execution (moto) that ended `status`, its results in a real (moto) bucket."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="results-bucket")
    run = f"out/{name}"
    s3.put_object(Bucket="results-bucket", Key=f"{run}/result/predictions.csv",
                  Body=predictions.encode())
    s3.put_object(Bucket="results-bucket", Key=f"{run}/preprocessed/part-0.csv", Body=b"x\n2\n")
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machine = sfn.create_state_machine(name="smlift", definition=json.dumps(PASS),
                                       roleArn="arn:aws:iam::123456789012:role/sfn")
    arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name=name)["executionArn"]
    from moto.stepfunctions.models import stepfunctions_backends

    ended = stepfunctions_backends["123456789012"][REGION].describe_execution(arn)
    ended.status = status
    ended.output = json.dumps({"result_uri": f"s3://results-bucket/{run}/result/"})
    return arn


def test_an_aws_baseline_is_downloaded_and_compared_column_by_column(project, run_cli):
    baseline = _aws_run("churn-1", "id,score\n1,0.5\n2,0.7\n")
    _local_run(run_cli, project, "after", "id,score\n1,0.5\n2,0.9\n")
    code, out, err = run_cli("parity", "--baseline", baseline)
    assert code == 1, err
    assert "predictions.csv: DIFFERENT, 1 of 2 rows" in out
    assert "predictions.csv column 'score': 1 row(s) differ" in out and "'0.7'" in out
    assert "intermediate output changed: preprocessed/part-0.csv" in out
    code, out, err = run_cli("parity", "--baseline", baseline, "--atol", "score=0.25",
                             "--output", "json")
    assert code == 0, err
    report = json.loads(out)
    assert report["ok"] is True and report["files"][0]["name"] == "predictions.csv"
    assert report["changed_intermediates"] == ["preprocessed/part-0.csv"]


def test_an_identical_aws_baseline_passes_and_no_download_is_left_behind(project, run_cli,
                                                                          tmp_path):
    baseline = _aws_run("churn-1", "id,score\n1,0.5\n")
    current = _local_run(run_cli, project, "after", "id,score\n1,0.5\n")
    code, out, err = run_cli("parity", "--baseline", baseline, "--execution", current)
    assert code == 0, out + err
    assert "parity with the baseline: 1 of 1 rows identical across 1 file" in out
    import tempfile
    from pathlib import Path

    assert not list(Path(tempfile.gettempdir()).glob("smlift-baseline-*"))


def test_an_aws_baseline_that_did_not_succeed_is_one_line_naming_it(project, run_cli):
    baseline = _aws_run("churn-1", "id\n1\n", status="FAILED")
    _local_run(run_cli, project, "after", "id\n1\n")
    code, out, err = run_cli("parity", "--baseline", baseline)
    assert code == 1 and out == ""
    assert "execution churn-1 did not publish a result (status FAILED)" in err
    assert "Traceback" not in err
