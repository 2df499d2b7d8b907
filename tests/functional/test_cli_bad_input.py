"""Bad input at the command line: one clear line naming the file or field and the fix, exit code 1,
never a traceback (exit code 2 is smlift's "this is a bug")."""

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the repository's pipeline files, as the current directory."""
    for folder in ("statemachine", "iam", "examples"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def assert_user_error(result, *needles: str) -> str:
    code, out, err = result
    text = out + err
    assert code == 1, text
    assert "Traceback" not in text and "bug in smlift" not in text, text
    for needle in needles:
        assert needle in text, text
    return text


# --- validate -------------------------------------------------------------------------------------

@pytest.mark.parametrize("option", ["--definition", "--input"])
def test_validate_names_a_folder_given_as_a_json_file(run_cli, project, option):
    (project / "adir").mkdir()
    assert_user_error(run_cli("validate", option, "adir"), "adir: is a folder, not a JSON file", "fix:")


def test_validate_says_a_definition_that_is_a_list_must_be_an_object(run_cli, project):
    (project / "list.json").write_text("[1, 2]")
    assert_user_error(run_cli("validate", "--definition", "list.json"),
                      "list.json:/: the definition must be a JSON object", "StartAt")


def test_validate_names_a_missing_iam_folder(run_cli, project):
    assert_user_error(run_cli("validate", "--iam", "no-such-iam"),
                      "no-such-iam: no such folder", "fix: pass --iam")


def test_validate_names_a_file_given_as_the_iam_folder(run_cli, project):
    assert_user_error(run_cli("validate", "--iam", "examples/input.json"),
                      "examples/input.json: not a folder")


@pytest.mark.parametrize("text", ["[1]", '"a string"'])
def test_validate_says_a_policy_must_be_an_object(run_cli, project, text):
    (project / "iam/sagemaker-trust.json").write_text(text)
    assert_user_error(run_cli("validate"), "iam/sagemaker-trust.json: a policy must be a JSON object")


def test_validate_points_at_a_statement_that_is_not_an_object(run_cli, project):
    (project / "iam/sagemaker-policy.json").write_text(
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}, "oops"]}))
    assert_user_error(run_cli("validate"),
                      "iam/sagemaker-policy.json:/Statement/1: a statement must be a JSON object")


def test_validate_names_a_policy_path_that_is_a_folder(run_cli, project):
    (project / "iam/imagebuild-policy.json").unlink()
    (project / "iam/imagebuild-policy.json").mkdir()
    assert_user_error(run_cli("validate"), "iam/imagebuild-policy.json: is a folder, not a JSON file")


def test_validate_names_a_file_that_is_not_utf8(run_cli, project):
    (project / "latin1.json").write_bytes(b'{"input_uri": "caf\xe9"}')
    assert_user_error(run_cli("validate", "--input", "latin1.json"), "latin1.json: not UTF-8 text")


# --- execute and graph ----------------------------------------------------------------------------

PASS = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}


@pytest.mark.parametrize("command", ["execute", "graph"])
def test_a_definition_that_is_not_utf8_is_named_not_a_crash(run_cli, tmp_path, command):
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"Comment": "caf\xe9"}')
    assert_user_error(run_cli(command, "--definition", str(path)),
                      f"{path}: the definition is not UTF-8 text", "fix: save the file as UTF-8")


def test_execute_names_an_input_that_is_not_utf8(run_cli, tmp_path):
    (tmp_path / "pass.json").write_text(json.dumps(PASS))
    (tmp_path / "in.json").write_bytes(b'{"a": "caf\xe9"}')
    assert_user_error(run_cli("execute", "--definition", str(tmp_path / "pass.json"),
                              "--input", str(tmp_path / "in.json")), "the input is not UTF-8 text")


def test_execute_calls_a_bad_stdin_input_stdin(run_cli, tmp_path, monkeypatch):
    import io

    (tmp_path / "pass.json").write_text(json.dumps(PASS))
    monkeypatch.setattr("sys.stdin", io.StringIO("{not json"))
    assert_user_error(run_cli("execute", "--definition", str(tmp_path / "pass.json"), "--input", "-"),
                      "<stdin>: the input is not valid JSON")


# --- options --------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, needle", [
    (("jobs", "list", "--status", "Bogus"), "'Bogus' is not one of 'InProgress'"),
    (("jobs", "list", "--max-results", "0"), "0 is not in the range 1<=x<=100"),
    (("jobs", "list", "--max-results", "-1"), "-1 is not in the range"),
    (("graph", "--format", "png"), "'png' is not one of 'mermaid', 'dot'"),
    (("executions", "list", "--status-filter", "BOGUS"), "'BOGUS' is not one of"),
    (("no-such-command",), "No such command"),
])
def test_a_bad_option_value_is_a_usage_error_with_exit_code_one(run_cli, args, needle):
    assert_user_error(run_cli(*args), needle)


# --- s3 -------------------------------------------------------------------------------------------

@pytest.fixture
def data(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.csv").write_text("a\n1\n")
    return folder


def test_s3_cp_of_a_folder_says_it_is_a_folder_and_suggests_recursive(run_cli, data):
    assert_user_error(run_cli("s3", "cp", str(data), "s3://bucket/x"),
                      f"{data}: is a folder, not a file", "fix: add --recursive")


def test_s3_sync_of_a_file_says_it_is_a_file_and_suggests_cp(run_cli, data):
    assert_user_error(run_cli("s3", "sync", str(data / "a.csv"), "s3://bucket/x/"),
                      "is a file, not a folder", "smlift s3 cp FILE")


def test_s3_download_under_a_file_is_refused_and_leaves_the_file(run_cli, data):
    assert run_cli("s3", "cp", str(data / "a.csv"), "s3://bucket/d/a.csv")[0] == 0
    assert_user_error(run_cli("s3", "cp", "s3://bucket/d/a.csv", str(data / "a.csv" / "x")),
                      f"{data / 'a.csv'} is a file", "fix:")
    assert (data / "a.csv").read_text() == "a\n1\n"


@pytest.mark.parametrize("dst", ["s3://bucket/d/a.csv", "s3://bucket/d/"])
def test_s3_copy_of_an_object_onto_itself_is_an_invalid_request_as_on_aws(run_cli, data, dst):
    assert run_cli("s3", "cp", str(data / "a.csv"), "s3://bucket/d/a.csv")[0] == 0
    assert_user_error(run_cli("s3", "cp", "s3://bucket/d/a.csv", dst),
                      "InvalidRequest", "copy an object to itself")
    assert run_cli("s3", "cp", "s3://bucket/d/a.csv", str(data / "back.csv"))[0] == 0
    assert (data / "back.csv").read_text() == "a\n1\n"


@pytest.mark.parametrize("uri, needle", [
    ("s3://", "the S3 URI has no bucket"),
    ("s3://Bad_Bucket/x", "invalid bucket name 'Bad_Bucket'"),
    ("s3://bucket/../x", "'..' segment"),
    ("file:///x", "not an S3 URI"),
])
def test_s3_ls_names_a_bad_uri(run_cli, data, uri, needle):
    assert run_cli("s3", "cp", str(data / "a.csv"), "s3://bucket/d/a.csv")[0] == 0
    assert_user_error(run_cli("s3", "ls", uri), needle, "fix:")


# --- build ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("dockerfile, needle", [
    ("FROM\n", "Dockerfile:1: FROM names no image (fix: write FROM <base image>"),
    ("FROM python:3.11-slim\nCOPY onlyone\n", "Dockerfile:2: COPY needs at least one source and a "
                                              "destination (fix: write COPY <source>..."),
])
def test_build_names_the_dockerfile_line_and_the_fix(run_cli, tmp_path, dockerfile, needle):
    (tmp_path / "Dockerfile").write_text(dockerfile)
    assert_user_error(run_cli("build", str(tmp_path), "--tag", "x:1"), needle)


def test_build_of_a_folder_without_a_dockerfile_names_it(run_cli, tmp_path):
    assert_user_error(run_cli("build", str(tmp_path), "--tag", "x:1"),
                      "no Dockerfile in the build context", "fix: pass the folder that holds the Dockerfile")


# --- models ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("option, value, needle", [
    ("--instance-type", "foo", "instance_type: must be a SageMaker instance type"),
    ("--code-uri", "s3://Bad_Bucket/x", "code_uri: 'Bad_Bucket' is not a valid S3 bucket name"),
    ("--code-uri", "file:///x", "code_uri: must be an s3:// URI"),
    ("--volume-size", "99999", "volume_size: must be between 1 and 16384"),
    ("--volume-size", "-5", "volume_size: must be a positive whole number, got '-5'"),
    ("--scikit-image-uri", "a b", "scikit_image_uri: must be an image URI"),
])
def test_models_register_refuses_a_setting_the_execution_input_would_refuse(run_cli, option, value,
                                                                            needle):
    text = assert_user_error(run_cli("models", "register", "churn", "--image", "churn:1", "--local",
                                     option, value), needle, "fix:")
    assert "volume_size: volume_size" not in text
    code, out, _ = run_cli("models", "list", "--local")
    assert code == 0 and "churn" not in out  # nothing half-registered


def test_models_show_of_an_unknown_version_lists_the_known_ones(run_cli):
    assert run_cli("models", "register", "churn", "--image", "churn:1", "--local")[0] == 0
    assert_user_error(run_cli("models", "show", "churn", "--version", "0", "--local"),
                      "model churn has no version 0", "use one of its versions: 1")


# --- start ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, line", [
    (("start", "churn", "--local"),
     "Error: --input-uri: is required (fix: pass --input-uri s3://BUCKET/PREFIX/)"),
    (("start", "--all", "--local", "--input-prefix", "s3://my-bucket/in/", "--output-prefix",
      "s3://my-bucket/out/", "--max-concurrency", "0"),
     "Error: --max-concurrency: must be at least 1 (fix: pass --max-concurrency 4)"),
])
def test_start_names_the_option_once(run_cli, args, line):
    assert run_cli("models", "register", "churn", "--image", "churn:1", "--local")[0] == 0
    assert assert_user_error(run_cli(*args)).strip() == line


# --- AWS side (moto) ------------------------------------------------------------------------------

@pytest.fixture
def moto_aws(monkeypatch):
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with mock_aws():
        yield


def test_deploy_names_a_bad_bucket_as_the_bucket_before_any_call(run_cli, moto_aws, monkeypatch):
    import boto3

    monkeypatch.chdir(ROOT)
    assert_user_error(run_cli("deploy", "--bucket", "Bad_Bucket", "--dry-run"),
                      "--bucket: invalid bucket name 'Bad_Bucket'")
    assert boto3.client("iam", region_name="us-east-1").list_roles()["Roles"] == []


def test_deploy_outside_the_project_root_suggests_project(run_cli, moto_aws, tmp_path, monkeypatch):
    import boto3

    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="my-bucket")
    monkeypatch.chdir(tmp_path)
    assert_user_error(run_cli("deploy", "--bucket", "my-bucket", "--dry-run"),
                      "file not found", "or pass --project DIR")


def test_start_without_a_deployment_names_the_deployment_option(run_cli, moto_aws):
    assert run_cli("models", "register", "churn", "--image", "churn:1")[0] == 0
    assert_user_error(run_cli("start", "churn", "--deployment", "ghost"),
                      "Error: --deployment: no deployment named 'ghost'")


def test_status_of_an_unknown_arn_says_the_local_store_was_looked_at(run_cli, moto_aws, tmp_path):
    (tmp_path / "pass.json").write_text(json.dumps(PASS))
    assert run_cli("execute", "--definition", str(tmp_path / "pass.json"))[0] == 0  # a local store
    arn = "arn:aws:states:us-east-1:123456789012:execution:smlift-pipeline:ghost"
    for command in ("status", "history", "wait"):
        assert_user_error(run_cli(command, arn), "Execution Does Not Exist",
                          "it is not a local execution under")


@pytest.mark.parametrize("option, value, needle", [
    ("--poll", "0", "--poll: must be more than 0 seconds"),
    ("--timeout", "-1", "--timeout: must be 0 seconds or more"),
])
def test_wait_refuses_a_zero_poll_and_a_negative_timeout(run_cli, tmp_path, option, value, needle):
    (tmp_path / "pass.json").write_text(json.dumps(PASS))
    assert run_cli("execute", "--definition", str(tmp_path / "pass.json"), "--name", "done")[0] == 0
    assert_user_error(run_cli("wait", "done", option, value), needle)


# --- run ------------------------------------------------------------------------------------------

@pytest.fixture
def run_project(tmp_path, monkeypatch):
    """The files `smlift run` reads, as the current directory."""
    for folder in ("statemachine", "examples", "scripts"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def assert_nothing_prepared(home: Path):
    assert not (home / "s3").exists() or not any((home / "s3").rglob("*.*")), "local S3 was written"


@pytest.mark.parametrize("args, needle", [
    (("--definition", "bad.json"), "bad.json#/States/A/Resource: Invalid State Machine Definition: "
                                   "no local handler for Task resource"),
    (("--definition", "jsonata.json"), "jsonata.json#/States/A/Output: Invalid State Machine "
                                       "Definition: The JSONata expression"),
    (("--definition", "list.json"), "list.json#/: the definition must be a JSON object (fix:"),
    (("--name", "bad name"), "Invalid Name: 'bad name'"),
    (("--data", "examples/input.json"), "examples/input.json: is a file, not a folder"),
    (("--code", "no-such-dir"), "no-such-dir: folder not found (fix: run from the project root, "
                                "or pass --code FOLDER)"),
    (("--input", "examples"), "examples: is a folder, not an input file"),
])
def test_run_refuses_bad_files_before_it_writes_local_s3_or_builds(run_cli, run_project, args,
                                                                   needle, tmp_path):
    (run_project / "bad.json").write_text(json.dumps({"StartAt": "A", "States": {"A": {
        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f", "End": True}}}))
    (run_project / "jsonata.json").write_text(json.dumps({"QueryLanguage": "JSONata", "StartAt": "A",
        "States": {"A": {"Type": "Pass", "Output": "{% $states.input.( %}", "End": True}}}))
    (run_project / "list.json").write_text("[]")
    text = assert_user_error(run_cli("run", "--no-build", *args), needle)
    assert "building image" not in text and "local S3:" not in text
    assert_nothing_prepared(tmp_path / "smlift-home")


def test_run_outside_the_project_root_says_where_to_run_it(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_user_error(run_cli("run"), "examples/input.local.json: no such input file",
                      "fix: run from the project root")


@pytest.mark.slow
def test_run_report_starts_on_its_own_line_when_stderr_is_not_a_terminal(tmp_path):
    import os
    import subprocess
    import sys

    code = tmp_path / "code"
    shutil.copytree(ROOT / "scripts", code, ignore=shutil.ignore_patterns("__pycache__"))
    (code / "preprocessing.py").write_text("raise SystemExit('boom')\n")
    env = {**os.environ, "SMLIFT_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "smlift", "run", "--code", str(code), "--name", "f1"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert "FAILED arn:aws:states:us-east-1:123456789012:execution:smlift-pipeline:f1" in lines
    assert "Traceback" not in done.stderr


# --- graph --output ---------------------------------------------------------------------------------

def test_graph_output_onto_a_folder_is_refused_and_leaves_no_temporary(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    (tmp_path / "out").mkdir()
    assert_user_error(run_cli("graph", "--output", str(tmp_path / "out")), "is a folder, not a file")
    assert list((tmp_path / "out").iterdir()) == []
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("out") and p.name != "out"]


def test_graph_output_under_a_file_is_refused(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    (tmp_path / "file").write_text("x")
    assert_user_error(run_cli("graph", "--output", str(tmp_path / "file" / "g.mmd")),
                      f"{tmp_path / 'file'} is a file")
    assert (tmp_path / "file").read_text() == "x"


def test_executions_list_of_an_unknown_state_machine_is_an_error_not_an_empty_list(run_cli, tmp_path):
    (tmp_path / "pass.json").write_text(json.dumps(PASS))
    assert run_cli("execute", "--definition", str(tmp_path / "pass.json"))[0] == 0
    assert_user_error(run_cli("executions", "list", "--state-machine-arn",
                              "arn:aws:states:us-east-1:123456789012:stateMachine:ghost"),
                      "State Machine Does Not Exist", "fix:")
    code, out, _ = run_cli("executions", "list", "--state-machine-arn",
                           "arn:aws:states:us-east-1:123456789012:stateMachine:pass")
    assert code == 0 and json.loads(out)["executions"][0]["status"] == "SUCCEEDED"


# --- interrupted commands -------------------------------------------------------------------------

WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 100, "End": True}}}


def _started_in_background(tmp_path, name):
    """`smlift execute` of a 100-second Wait, in a subprocess, once its execution is recorded."""
    import os
    import subprocess
    import sys
    import time

    (tmp_path / "wait.json").write_text(json.dumps(WAIT))
    env = {**os.environ, "SMLIFT_HOME": os.environ["SMLIFT_HOME"]}
    process = subprocess.Popen([sys.executable, "-m", "smlift", "execute", "--definition",
                                str(tmp_path / "wait.json"), "--name", name], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(200):
        listed = subprocess.run([sys.executable, "-m", "smlift", "executions", "list"], env=env,
                                capture_output=True, text=True)
        if f'"name": "{name}"' in listed.stdout:
            return process
        time.sleep(0.1)
    process.kill()
    raise AssertionError("the execution never started")


def test_sigterm_ends_smlift_execute_with_the_execution_aborted(run_cli, tmp_path):
    import signal

    process = _started_in_background(tmp_path, "term")
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143 and "Traceback" not in err, err  # 128 + SIGTERM
    code, out, _ = run_cli("executions", "describe", "term")
    assert code == 0 and json.loads(out)["status"] == "ABORTED"


def test_wait_on_an_execution_whose_process_was_killed_says_so_instead_of_waiting(run_cli, tmp_path):
    process = _started_in_background(tmp_path, "killed")
    process.kill()
    process.wait(timeout=60)
    assert_user_error(run_cli("wait", "killed"), "has ended (killed?); it will never finish",
                      "fix: start it again")


def test_models_register_refuses_a_description_sagemaker_would_refuse(run_cli):
    assert_user_error(run_cli("models", "register", "churn", "--image", "churn:1", "--local",
                              "--description", "x" * 1025),
                      "--description: is 1025 characters; SageMaker allows at most 1024")
    code, out, _ = run_cli("models", "list", "--local")
    assert "churn" not in out


# --- '-' for standard input and output ------------------------------------------------------------

def test_execute_refuses_stdin_for_both_the_definition_and_the_input(run_cli):
    assert_user_error(run_cli("execute", "--definition", "-", "--input", "-"),
                      "--input: --definition and --input cannot both read standard input")


def test_s3_cp_streams_an_object_to_stdout_and_from_stdin_without_a_file_named_dash(
        tmp_path, monkeypatch, capsysbinary):
    import io
    import sys

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"a,b\n1,2\n")))
    from smlift.cli import main

    main(["s3", "cp", "-", "s3://bucket/in/data.csv"])  # returns (exit 0) or raises SystemExit
    main(["s3", "cp", "s3://bucket/in/data.csv", "-"])
    assert capsysbinary.readouterr().out == b"a,b\n1,2\n"
    assert not (tmp_path / "-").exists()


def test_s3_cp_recursive_to_dash_is_refused(run_cli, data):
    assert run_cli("s3", "cp", str(data / "a.csv"), "s3://bucket/d/a.csv")[0] == 0
    assert_user_error(run_cli("s3", "cp", "s3://bucket/d/", "-", "--recursive"),
                      "'-' (standard input or output) is not a file")


def test_validate_outside_the_project_root_says_where_to_run_it(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_user_error(run_cli("validate"), "statemachine/definition.asl.json: file not found",
                      "fix: run from the project root, or pass --definition FILE")


def test_graph_of_a_missing_definition_says_what_paths_are_relative_to(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_user_error(run_cli("graph"), f"paths are relative to {tmp_path}")


def test_wait_on_a_failed_job_shows_its_failure_reason_not_the_whole_job_description(run_cli, tmp_path):
    job = {"ProcessingJobName": "smlift-predict-x", "FailureReason": "ClientError: image ghost:9 is "
           "not in the local registry", "ProcessingInputs": [{"InputName": "code"}] * 20}
    fail = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "PredictFailed",
            "Cause": "Predict failed: States.TaskFailed: " + json.dumps(job)}}}
    (tmp_path / "fail.json").write_text(json.dumps(fail))
    assert run_cli("execute", "--definition", str(tmp_path / "fail.json"), "--name", "f")[0] == 0
    text = assert_user_error(run_cli("wait", "f"))
    last = text.strip().splitlines()[-1]
    assert ("FAILED: PredictFailed: Predict failed: States.TaskFailed: job smlift-predict-x: "
            "ClientError: image ghost:9 is not in the local registry") in last
    assert "ProcessingInputs" not in last


def test_a_cause_that_is_not_a_job_description_is_shown_whole():
    from smlift.follow import failure_message

    described = {"name": "n", "status": "FAILED", "error": "E", "cause": "bad {not json"}
    assert failure_message(described) == "execution n FAILED: E: bad {not json"


@pytest.mark.parametrize("args", [("sync", "s3://no-such-bucket/x/", "out"),
                                  ("cp", "s3://no-such-bucket/x/", "out", "--recursive")])
def test_s3_copy_from_a_missing_bucket_is_no_such_bucket_not_an_empty_success(run_cli, tmp_path,
                                                                               monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    assert_user_error(run_cli("s3", *args), "s3://no-such-bucket/x/: NoSuchBucket")
    assert not (tmp_path / "out").exists()


def test_s3_sync_to_a_new_bucket_creates_it(run_cli, data):
    code, out, err = run_cli("s3", "sync", str(data), "s3://new-bucket/x/")
    assert code == 0 and "upload:" in out + err


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM"])
def test_interrupting_a_local_start_aborts_its_execution_without_a_traceback(run_cli, tmp_path, how):
    import os
    import signal
    import subprocess
    import sys
    import time

    (tmp_path / "wait.json").write_text(json.dumps(WAIT))
    assert run_cli("models", "register", "churn", "--image", "churn:1", "--local")[0] == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "smlift", "start", "churn", "--local", "--definition",
         str(tmp_path / "wait.json"), "--input-uri", "s3://my-bucket/in/", "--output-uri",
         "s3://my-bucket/out/", "--name", "st"], env=dict(os.environ),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline, seen = time.monotonic() + 60, []
    while time.monotonic() < deadline:  # stderr is line-buffered: wait for the "Started" line
        seen.append(process.stderr.readline())
        if seen[-1].startswith("Started churn") or not seen[-1]:
            break
    assert seen[-1].startswith("Started churn"), seen
    process.send_signal(getattr(signal, how))
    _, err = process.communicate(timeout=60)
    expected = {"SIGINT": 130, "SIGTERM": 143}[how]  # 128 + the signal, as the shell reports
    assert process.returncode == expected and "Traceback" not in err, err
    code, out, _ = run_cli("executions", "describe", "st")
    assert json.loads(out)["status"] == "ABORTED" and json.loads(out)["error"] == "smlift.StartInterrupted"
