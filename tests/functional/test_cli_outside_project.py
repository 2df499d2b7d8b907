"""Outside any project (no smlift.toml here or above, no $SMLIFT_HOME), the commands that need
one say so in one line and exit 1, creating nothing; those given what they work on (a FILE, an
s3:// URI, an ARN) work as anywhere."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PASS = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """An empty folder outside any project, as the working directory, with no SMLIFT_HOME."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv("SMLIFT_HOME", raising=False)
    (tmp_path / "pass.json").write_text(json.dumps(PASS))
    return folder


NEEDS_A_PROJECT = [
    (("validate",), "pass --definition FILE"),
    (("graph",), "pass --definition FILE"),
    (("start", "churn", "--input-uri", "s3://b/in/", "--output-uri", "s3://b/out/", "--local"),
     "leave out --local"),
    (("input", "churn", "--local"), "leave out --local"),
    (("deploy", "--bucket", "my-bucket", "--dry-run", "--region", "us-east-1"),
     "pass --project DIR"),
    (("executions", "list"), "pass --aws"),
    (("jobs", "list"), "pass --aws"),
    (("models", "list", "--local"), "leave out --local"),
    (("models", "register", "churn", "--image", "x:1", "--local"), "leave out --local"),
    (("images", "list"), "set SMLIFT_HOME"),
    (("s3", "ls"), "set SMLIFT_HOME"),
    (("console", "--no-open", "--port", "0"), "set SMLIFT_HOME"),
    (("parity",), "smlift init DIR"),
    (("run",), "smlift init DIR"),
]


@pytest.mark.parametrize("args, how", NEEDS_A_PROJECT, ids=[" ".join(a[:2]) for a, _ in
                                                             NEEDS_A_PROJECT])
def test_a_command_that_needs_a_project_says_so_in_one_line(elsewhere, run_cli, args, how):
    code, out, err = run_cli(*args)
    assert code == 1, out + err
    assert out == ""
    [line] = err.splitlines()
    assert line.startswith(f"Error: {elsewhere}: not inside an smlift project")
    assert "smlift init DIR --from LEGACY_DIR" in line and how in line
    assert list(elsewhere.iterdir()) == []  # no .smlift/ left behind


def test_inside_a_project_subfolder_the_project_is_found(elsewhere, run_cli):
    (elsewhere / "smlift.toml").write_text('[legacy]\ncommand = "python p.py"\n'
                                           'input = "in.csv"\nresults = ["out.csv"]\n')
    (elsewhere / "statemachine").mkdir()
    (elsewhere / "statemachine/definition.asl.json").write_text(json.dumps(PASS))
    (elsewhere / "deep/er").mkdir(parents=True)
    import os

    os.chdir(elsewhere / "deep/er")
    code, out, _ = run_cli("graph")
    assert code == 0 and "A" in out
    code, out, _ = run_cli("executions", "list")
    assert code == 0 and json.loads(out) == {"executions": []}
    assert (elsewhere / ".smlift").is_dir() and not (elsewhere / "deep/er/.smlift").exists()


def test_commands_given_a_file_work_outside_any_project(elsewhere, run_cli):
    definition = str(elsewhere.parent / "pass.json")
    code, out, err = run_cli("execute", "--definition", definition)
    assert code == 0 and json.loads(out)["status"] == "SUCCEEDED", err
    code, out, err = run_cli("graph", "--definition", definition)
    assert code == 0 and "A" in out, err
    code, out, err = run_cli("validate", "--definition", definition, "--no-iam")
    assert "not inside" not in err and "a synthesised input" in out + err


def test_s3_with_explicit_uris_works_outside_any_project(elsewhere, run_cli):
    (elsewhere / "a.csv").write_text("x\n")
    code, out, err = run_cli("s3", "cp", "a.csv", "s3://bucket/a.csv")
    assert code == 0, err
    code, out, err = run_cli("s3", "ls", "s3://bucket/")
    assert code == 0 and out.rstrip().endswith("a.csv"), err


def test_init_works_outside_any_project(elsewhere, run_cli):
    second = ROOT / "examples" / "second-legacy"
    code, out, err = run_cli("init", "p", "--from", str(second), "--command",
                             "python run_valuation.py", "--data", "input/houses.json",
                             "--results", "results/valuations.json", "--dry-run")
    assert code == 0 and "p/smlift.toml" in out.splitlines(), err


def test_aws_commands_with_an_arn_work_outside_any_project(elsewhere, run_cli, monkeypatch):
    from moto import mock_aws
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with mock_aws():
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        machine = sfn.create_state_machine(name="m", definition=json.dumps(PASS),
                                           roleArn="arn:aws:iam::123456789012:role/sfn")
        arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"],
                                  name="e-1")["executionArn"]
        code, out, err = run_cli("executions", "describe", arn)
        assert code == 0 and json.loads(out)["executionArn"] == arn, err
        code, out, err = run_cli("executions", "list", "--aws", "--state-machine-arn",
                                 machine["stateMachineArn"])
        assert code == 0 and [e["name"] for e in json.loads(out)["executions"]] == ["e-1"], err
        code, out, err = run_cli("models", "list", "--output", "json")  # the AWS registry
        assert code == 0 and json.loads(out) == [], err
